"""RTSP and the small TCP personalities of the lab; the silent host's dropped SYNs."""

from __future__ import annotations

import hashlib
import re
import socket
import time

import pytest
from lab_client import tcp_exchange

from auditor.lab import LoopbackSite


def rtsp(site, profile: str, request: bytes) -> str:
    device = site.device(profile)
    return tcp_exchange(device.address, device.port(554), request).decode("latin-1")


def test_hikvision_options_and_describe_challenge(all_site):
    reply = rtsp(
        all_site,
        "hikvision-ipc",
        b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n"
        b"DESCRIBE rtsp://x/ RTSP/1.0\r\nCSeq: 2\r\nAccept: application/sdp\r\n\r\n",
    )
    options, describe = reply.split("RTSP/1.0 401", 1)
    assert options.startswith("RTSP/1.0 200 OK\r\nCSeq: 1\r\n")
    assert "Server:" not in options
    assert "Public: OPTIONS, DESCRIBE, PLAY, PAUSE, SETUP, TEARDOWN" in options
    assert 'WWW-Authenticate: Digest realm="IP Camera(C1214)"' in describe
    assert 'WWW-Authenticate: Basic realm="IP Camera(C1214)"' in describe


def test_describe_with_a_hand_computed_digest_returns_sdp(all_site):
    device = all_site.device("dahua-ipc")
    user, password = all_site.credentials
    uri = f"rtsp://{device.address}:{device.port(554)}/"
    with socket.create_connection((device.address, device.port(554)), 3) as sock:
        sock.sendall(f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode())
        challenge = sock.recv(4096).decode()
        assert "Server: Dahua Rtsp Server" in challenge
        realm = re.search(r'realm="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
        nonce = re.search(r'nonce="([^"]+)"', challenge).group(1)  # type: ignore[union-attr]
        assert realm == f"Login to {device.serial}"
        ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
        ha2 = hashlib.md5(f"DESCRIBE:{uri}".encode()).hexdigest()
        response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
        auth = (
            f'Digest username="{user}", realm="{realm}", nonce="{nonce}", uri="{uri}", '
            f'response="{response}"'
        )
        sock.sendall(
            f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: {auth}\r\n\r\n".encode()
        )
        time.sleep(0.2)
        answer = sock.recv(4096).decode()
    assert answer.startswith("RTSP/1.0 200 OK\r\nCSeq: 2\r\n")
    assert "application/sdp" in answer and "v=0" in answer


def test_xiongmai_rtsp_shape(all_site):
    reply = rtsp(all_site, "xiongmai-dvr", b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 7\r\n\r\n")
    assert reply.startswith("RTSP/1.0 200 OK\r\ncseq: 7\r\n")
    assert "Server: H264DVR 1.0" in reply


def test_hipcam_bad_request(all_site):
    reply = rtsp(all_site, "hipcam-generic", b"garbage\r\n\r\n")
    assert reply.startswith("RTSP/1.0 400 Bad Request\r\nCSeq: 0\r\nServer: Hipcam RealServer/V1.0")


@pytest.mark.parametrize(
    ("profile", "port", "expected"),
    [
        (
            "hikvision-ipc",
            8000,
            b"\x00\x00\x00\x10\x00\x00\x00\x1e\x00\x00\x00\x1e\x00\x00\x00\x00",
        ),
        ("bosch-dinion", 23, b"\xff\xfb\x01\xff\xfb\x03\r\n\r\nWelcome to IP bullet 5000 HD "),
        ("linux-nginx", 22, b"SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.5\r\n"),
    ],
)
def test_banners(all_site, profile, port, expected):
    device = all_site.device(profile)
    assert tcp_exchange(device.address, device.port(port)).startswith(expected)


def test_dvrip_login_reply(all_site):
    import json
    import struct

    device = all_site.device("xiongmai-dvr")
    body = b'{"EncryptType": "MD5", "LoginType": "DVRIP-Web", "PassWord": "x", "UserName": "y"}\n'
    head = struct.pack("<BBHIIHHI", 0xFF, 0, 0, 0, 0, 0, 1000, len(body))
    raw = tcp_exchange(device.address, 34567, head + body)
    reply = struct.unpack_from("<BBHIIHHI", raw)
    assert reply[6] == 1001
    assert json.loads(raw[20 : 20 + reply[7]].rstrip(b"\x00"))["Ret"] == 203


def test_silent_host_drops_syns(all_site):
    device = all_site.device("silent-host")
    for port in (80, 554):
        start = time.monotonic()
        with pytest.raises(TimeoutError):
            socket.create_connection((device.address, device.port(port)), timeout=0.5)
        assert time.monotonic() - start >= 0.45


def test_port_plan_names_the_actual_ports():
    with LoopbackSite(["hikvision-ipc", "xiongmai-dvr", "bosch-dinion"]) as site:
        roles = {port: role.value for port, role in site.port_plan.roles.items()}
    assert roles == {
        10023: "telnet",
        10080: "http",
        10443: "https",
        10554: "rtsp",
        8000: "hik-sdk",
        8899: "onvif",
        34567: "dvrip",
    }
