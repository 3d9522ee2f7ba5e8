"""The hostile lab devices (issue 9) really misbehave, and a site of them still stops cleanly."""

from __future__ import annotations

import socket
import ssl
import struct
import time
from collections.abc import Iterator

import pytest
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as ET

from auditor.lab import HOSTILE_DEVICES, LoopbackSite, load_hostile_profiles
from tests.lab.lab_client import SADP_INQUIRY, dhip_search, probe, tcp_exchange, udp_ask


@pytest.fixture(scope="module")
def hostile() -> Iterator[LoopbackSite]:
    with LoopbackSite(HOSTILE_DEVICES, profiles=load_hostile_profiles()) as site:
        yield site


def read_some(address: str, port: int, request: bytes, limit: int, timeout: float = 3.0) -> bytes:
    data = b""
    with socket.create_connection((address, port), timeout=timeout) as sock:
        sock.sendall(request)
        while len(data) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


GET = b"GET / HTTP/1.1\r\nHost: lab\r\n\r\n"


def test_huge_body_declares_100_mib_and_keeps_sending(hostile):
    d = hostile.device("hostile-streams")
    data = read_some(d.address, d.port(80), GET, 1 << 20)
    assert b"Content-Length: 104857600\r\n" in data and len(data) >= 1 << 20


def test_endless_chunked_never_ends(hostile):
    d = hostile.device("hostile-streams")
    data = read_some(d.address, d.port(8899), GET, 200_000)
    assert b"Transfer-Encoding: chunked" in data and b"\r\n0\r\n\r\n" not in data


def test_tls_handshake_never_completes(hostile):
    d = hostile.device("hostile-streams")
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((d.address, d.port(443)), timeout=1.0) as raw,
        pytest.raises(TimeoutError),
    ):
        ctx.wrap_socket(raw)


def test_slowloris_trickles(hostile):
    d = hostile.device("hostile-streams")
    with socket.create_connection((d.address, 8000), timeout=5) as sock:
        sock.sendall(GET)
        start = time.monotonic()
        got = b""
        while len(got) < 3:
            got += sock.recv(1)
        assert time.monotonic() - start >= 1.5


def test_binary_rtsp_and_thousands_of_headers(hostile):
    d = hostile.device("hostile-streams")
    rtsp = tcp_exchange(d.address, d.port(554), b"OPTIONS rtsp://x/ RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    with pytest.raises(UnicodeDecodeError):
        rtsp.decode("utf-8")
    many = tcp_exchange(d.address, 37777, GET)
    assert many.count(b"\r\nX-Lab-") == 10000


@pytest.mark.parametrize(
    ("port", "payload"), [(3702, probe()), (37020, SADP_INQUIRY)], ids=["probematch", "sadp"]
)
def test_xml_bombs_in_discovery_replies(hostile, port, payload):
    reply = udp_ask(hostile.address_of("hostile-xml-bombs"), port, payload)
    assert reply is not None and b"<!DOCTYPE" in reply
    with pytest.raises(DefusedXmlException):
        ET.fromstring(reply)


@pytest.mark.parametrize("path", ["/onvif/device_service", "/desc.xml"])
def test_xml_bombs_in_soap_and_upnp(hostile, path):
    d = hostile.device("hostile-xml-bombs")
    method = b"POST" if "onvif" in path else b"GET"
    raw = tcp_exchange(
        d.address,
        d.port(80),
        method + b" " + path.encode() + b" HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
    )
    body = raw.split(b"\r\n\r\n", 1)[1]
    with pytest.raises(DefusedXmlException):
        ET.fromstring(body)


def test_injection_payloads_and_redirects(hostile):
    d = hostile.device("hostile-injection")
    page = tcp_exchange(d.address, d.port(80), GET)
    assert b"Server: <script>alert('server')</script>" in page
    assert b"<title><script>alert(1)</script>=HYPERLINK(" in page and b"\x1b[31m" in page
    challenge = tcp_exchange(d.address, d.port(80), b"GET /protected HTTP/1.1\r\n\r\n")
    assert b"realm=\"=cmd|' /C calc'!A0<img src=x onerror=alert(2)>\"" in challenge
    loop = tcp_exchange(d.address, d.port(80), b"GET /loop HTTP/1.1\r\n\r\n")
    assert b"Location: /loop\r\n" in loop
    away = tcp_exchange(d.address, d.port(80), b"GET /away HTTP/1.1\r\n\r\n")
    assert f"Location: http://{d.outside_address}/".encode() in away


def test_probe_match_flood(hostile):
    address = hostile.address_of("hostile-floods")
    uuids = set()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
        sock.settimeout(1.0)
        sock.sendto(probe(), (address, 3702))
        try:
            while True:
                reply = sock.recv(65535)
                start = reply.index(b"<wsa:Address>") + len(b"<wsa:Address>")
                uuids.add(reply[start : reply.index(b"</wsa:Address>")])
        except TimeoutError:
            pass
    assert len(uuids) > 1000


def test_dhip_huge_length_field(hostile):
    reply = udp_ask(hostile.address_of("hostile-floods"), 37810, dhip_search())
    assert reply is not None
    assert struct.unpack_from("<I", reply, 16)[0] == 0xFFFFFFF0
    assert len(reply) < 200


def test_site_stops_promptly_with_hostile_connections_open():
    site = LoopbackSite(["hostile-streams"], profiles=load_hostile_profiles()).start()
    d = site.devices[0]
    held = [socket.create_connection((d.address, port), timeout=3) for port in (8000, 10443, 8899)]
    for sock in held:
        sock.sendall(GET)
    start = time.monotonic()
    site.stop()
    assert time.monotonic() - start < 5
    for sock in held:
        sock.close()
