"""RTSP and the small TCP personalities of the lab; the silent host's dropped SYNs."""

from __future__ import annotations

import hashlib
import json
import re
import socket
import string
import struct
import time
from typing import Any

import pytest

from auditor.lab import LoopbackSite
from tests.lab.lab_client import recv_dvrip_reply, recv_rtsp_reply, tcp_exchange


def rtsp(site: LoopbackSite, profile: str, request: bytes) -> str:
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
        challenge = recv_rtsp_reply(sock).decode()
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
        answer = recv_rtsp_reply(sock).decode()
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


def dvrip(msg: int, payload: dict[str, Any], session: int = 0) -> bytes:
    body = json.dumps(payload).encode() + b"\n"
    return struct.pack("<BBHIIHHI", 0xFF, 0, 0, session, 0, 0, msg, len(body)) + body


def dvrip_replies(raw: bytes) -> list[tuple[int, int, dict[str, Any]]]:
    out: list[tuple[int, int, dict[str, Any]]] = []
    while len(raw) >= 20:
        head = struct.unpack_from("<BBHIIHHI", raw)
        out.append((head[6], head[3], json.loads(raw[20 : 20 + head[7]].rstrip(b"\x00\n"))))
        raw = raw[20 + head[7] :]
    return out


def sofia(password: str) -> str:
    digest = hashlib.md5(password.encode()).digest()
    alphabet = string.digits + string.ascii_uppercase + string.ascii_lowercase
    return "".join(alphabet[(a + b) % 62] for a, b in zip(digest[0::2], digest[1::2], strict=True))


def test_dvrip_login_and_system_info(all_site):
    device = all_site.device("xiongmai-ipc")
    user, password = all_site.credentials

    def login(name: str, secret: str) -> dict[str, Any]:
        req = {
            "EncryptType": "MD5",
            "LoginType": "DVRIP-Web",
            "PassWord": sofia(secret),
            "UserName": name,
        }
        return dvrip_replies(tcp_exchange(device.address, 34567, dvrip(1000, req)))[0][2]

    assert login("nobody", password)["Ret"] == 205
    assert login(user, "guess")["Ret"] == 203
    ok = login(user, password)
    assert ok["Ret"] == 100 and "DeviceType " in ok
    anonymous = tcp_exchange(device.address, 34567, dvrip(1020, {"Name": "SystemInfo"}))
    assert dvrip_replies(anonymous)[0][2]["Ret"] == 105
    req = {
        "EncryptType": "MD5",
        "LoginType": "DVRIP-Web",
        "PassWord": sofia(password),
        "UserName": user,
    }
    with socket.create_connection((device.address, 34567), timeout=3) as sock:
        sock.sendall(dvrip(1000, req))
        ((msg, session, reply),) = dvrip_replies(recv_dvrip_reply(sock))
        assert msg == 1001 and reply["SessionID"] == f"0x{session:08X}"
        sock.sendall(dvrip(1020, {"Name": "SystemInfo", "SessionID": reply["SessionID"]}, session))
        ((msg, _, info),) = dvrip_replies(recv_dvrip_reply(sock))
    assert msg == 1021 and info["Ret"] == 100
    assert info["SystemInfo"]["SerialNo"] == device.serial
    assert info["SystemInfo"]["HardWare"] == "XM530_50X50-WG_8M"


def test_a_device_with_its_own_password_refuses_the_lab_credentials(all_site):
    device = all_site.device("xiongmai-dvr")
    user, password = all_site.credentials
    req = {
        "EncryptType": "MD5",
        "LoginType": "DVRIP-Web",
        "PassWord": sofia(password),
        "UserName": user,
    }
    reply = dvrip_replies(tcp_exchange(device.address, 34567, dvrip(1000, req)))[0][2]
    assert reply["Ret"] == 203


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
