"""nmap's own service signatures recognise the lab's devices.

The regexes are read from the installed nmap-service-probes (public, maintained by nmap), and
the requests are nmap's probes, sent to the lab's loopback ports. A profile that drifts from the
observed banners (header order, case, framing) fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.lab.lab_client import tcp_exchange

PROBES = Path("/usr/share/nmap/nmap-service-probes")
pytestmark = [
    pytest.mark.nmap,
    pytest.mark.skipif(not PROBES.exists(), reason="needs nmap's nmap-service-probes"),
]

# nmap probes (nmap-service-probes: NULL, GetRequest, RTSPRequest, SIPOptions)
NULL = b""
GET = b"GET / HTTP/1.0\r\n\r\n"
SIP = (
    b"OPTIONS sip:nm SIP/2.0\r\nVia: SIP/2.0/TCP nm;branch=foo\r\nFrom: <sip:nm@nm>;tag=root\r\n"
    b"To: <sip:nm2@nm2>\r\nCall-ID: 50000\r\nCSeq: 42 OPTIONS\r\nMax-Forwards: 70\r\n"
    b"Content-Length: 0\r\nContact: <sip:nm@nm>\r\nAccept: application/sdp\r\n\r\n"
)


def signatures(service: str, product: str) -> list[re.Pattern[bytes]]:
    """Every `match <service>` line whose product (p/.../) is ``product``."""
    out = []
    head = f"match {service} m"
    for line in PROBES.read_bytes().decode("latin-1").splitlines():
        if not line.startswith(head) or f" p/{product}/" not in line:
            continue
        delim = line[len(head)]
        body = line[len(head) + 1 :]
        end = body.index(delim)
        flags = body[end + 1 :].split(" ", 1)[0]
        opts = (re.S if "s" in flags else 0) | (re.I if "i" in flags else 0)
        out.append(re.compile(body[:end].encode("latin-1"), opts))
    assert out, f"no nmap signature {service}/{product}"
    return out


CASES = [
    ("hikvision-ipc", 80, GET, "http", "Hikvision IP camera httpd"),
    ("hikvision-nvr", 80, GET, "http", "Hikvision Network Video Recorder http admin"),
    ("annke-ipc", 80, GET, "http", "Hikvision IP camera httpd"),
    ("dahua-ipc", 80, GET, "http", "Dahua webcam httpd"),
    ("lorex-nvr", 80, GET, "http", "Dahua webcam httpd"),
    ("amcrest-ipc", 80, GET, "http", "Amcrest IP camera http interface"),
    ("xiongmai-dvr", 80, GET, "http", "uc-httpd"),
    ("bosch-dinion", 80, GET, "http", "Bosch DINION IP Bullet 5000 webcam http admin"),
    ("hikvision-ipc", 8000, NULL, "ipcam", "Hikvision IPCam control port"),
    ("bosch-dinion", 23, NULL, "telnet", "Bosch DINION IP Bullet 5000 webcam telnetd"),
    ("hipcam-generic", 554, GET, "rtsp", "Hipcam RealServer rtspd"),
    ("xiongmai-dvr", 554, GET, "rtsp", "H264DVR rtspd"),
    ("lorex-nvr", 554, SIP, "rtsp", "Lorex IP camera rtspd"),
]


@pytest.mark.parametrize(
    ("profile", "port", "probe", "service", "product"), CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES]
)
def test_nmap_signature_matches(all_site, profile, port, probe, service, product):
    device = all_site.device(profile)
    reply = tcp_exchange(device.address, device.port(port), probe)
    assert reply, "no answer"
    assert any(sig.search(reply) for sig in signatures(service, product)), reply[:300]
