"""Multicast and broadcast discovery on a real L2 segment between two namespaces we create.

The scanner namespace probes only by multicast/broadcast (the scope is a /16, too large for
directed probes); a stand-in device answers. The device points its XAddrs and LOCATION at an
address outside the scope, and tcpdump on the segment proves no packet was sent to it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.discovery import ssdp, wsd, xmeye
from tests.capture import Capture

pytestmark = pytest.mark.netns

HERE = Path(__file__).parent
OUTSIDE = "10.99.0.99"


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def wsd_reply(xaddr: str) -> bytes:
    return (
        '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><env:Body><d:ProbeMatches>'
        "<d:ProbeMatch><wsa:EndpointReference><wsa:Address>urn:uuid:0000aaaa-0000-4000-8000-000000000001"
        "</wsa:Address></wsa:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types>"
        "<d:Scopes>onvif://www.onvif.org/name/Test%20Cam</d:Scopes>"
        f"<d:XAddrs>{xaddr}</d:XAddrs></d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>"
    ).encode()


def xm_reply() -> bytes:
    import struct

    body = json.dumps({"NetWork.NetCommon": {"HostIP": "0x0A00630A", "MAC": "00:12:31:00:00:01"}})
    data = body.encode()
    return struct.pack("<BBHIIHHI", 0xFF, 1, 0, 0, 0, 0, xmeye.REPLY_ID, len(data)) + data


def _wait_link_local(ns: str, link: str) -> None:
    """IPv6 link-local addresses appear a moment after the link comes up."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        out = subprocess.run(
            ["ip", "-n", ns, "-6", "addr", "show", "dev", link, "scope", "link"],
            capture_output=True,
            text=True,
        ).stdout
        if "fe80::" in out and "tentative" not in out:
            return
        time.sleep(0.05)
    raise AssertionError(f"no IPv6 link-local address on {ns}/{link}")


@pytest.fixture
def segment(tmp_path: Path) -> Iterator[dict[str, Any]]:
    tag = f"{os.getpid() % 100000}"
    scan, dev = f"cad-s-{tag}", f"cad-d-{tag}"
    procs: list[subprocess.Popen[str]] = []
    capture: Capture | None = None
    ip("netns", "add", scan)
    ip("netns", "add", dev)
    try:
        for ns in (scan, dev):
            subprocess.run(
                [
                    "ip",
                    "netns",
                    "exec",
                    ns,
                    "sysctl",
                    "-qw",
                    "net.ipv6.conf.default.accept_dad=0",
                    "net.ipv6.conf.all.accept_dad=0",
                ],
                check=True,
                capture_output=True,
            )
        ip(
            "link",
            "add",
            "name",
            "vs",
            "netns",
            scan,
            "type",
            "veth",
            "peer",
            "name",
            "vd",
            "netns",
            dev,
        )
        ip("-n", scan, "addr", "add", "10.99.0.1/24", "dev", "vs")
        ip("-n", dev, "addr", "add", "10.99.0.10/24", "dev", "vd")
        ip("-n", dev, "addr", "add", f"{OUTSIDE}/24", "dev", "vd")
        for ns, link in ((scan, "vs"), (dev, "vd")):
            ip("-n", ns, "link", "set", "lo", "up")
            ip("-n", ns, "link", "set", link, "up")
        _wait_link_local(scan, "vs")
        _wait_link_local(dev, "vd")
        # The capture proves it ran: its marker, sent from the device to the scanner's
        # address across the segment, must be in it (tests/capture.py).
        capture = Capture(
            tmp_path / "outside.pcap",
            "vd",
            f"(ip and dst host {OUTSIDE}) or (tcp and port 8080)",
            marker_to="10.99.0.1",
            netns=dev,
        ).start()
        sockets = [
            {
                "port": wsd.PORT,
                "family": 4,
                "group": wsd.GROUP_V4,
                "iface": "vd",
                "reply": wsd_reply(f"http://{OUTSIDE}/onvif/device_service").hex(),
            },
            {
                "port": wsd.PORT,
                "family": 6,
                "group": wsd.GROUP_V6,
                "iface": "vd",
                "reply": wsd_reply("http://10.99.0.10/onvif/device_service").hex(),
            },
            {
                "port": ssdp.PORT,
                "family": 4,
                "group": ssdp.GROUP_V4,
                "iface": "vd",
                "reply": (
                    f"HTTP/1.1 200 OK\r\nLOCATION: http://{OUTSIDE}:8080/d.xml\r\n"
                    "SERVER: Test/1.0 UPnP/1.0\r\nST: upnp:rootdevice\r\n\r\n"
                )
                .encode()
                .hex(),
            },
            {
                "port": xmeye.PORT,
                "family": 4,
                "group": None,
                "iface": "vd",
                "reply": xm_reply().hex(),
            },
        ]
        responder = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                dev,
                sys.executable,
                str(HERE / "netns_responder.py"),
                json.dumps(sockets),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        procs.append(responder)
        assert responder.stdout is not None and responder.stdout.readline().strip() == "ready"
        yield {"scan": scan, "dev": dev, "capture": capture}
    finally:
        if capture is not None:
            capture.close()
        for p in procs:
            p.terminate()
            p.wait(5)
        subprocess.run(["ip", "netns", "del", scan], capture_output=True)
        subprocess.run(["ip", "netns", "del", dev], capture_output=True)


def scan_in(ns: str, **opts: object) -> dict[str, Any]:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, str(HERE / "netns_scan.py"), json.dumps(opts)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=HERE.parent.parent,
    )
    assert out.returncode == 0, out.stderr
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def test_multicast_and_broadcast_per_interface(segment: dict[str, Any]) -> None:
    result = scan_in(
        segment["scan"],
        targets=["10.99.0.0/16", "fe80::%vs/64"],
        excludes=[OUTSIDE],
        channels=["ws-discovery", "ssdp", "xmeye"],
        allow_large=True,
        timeout=1.0,
    )
    hosts = {h["address"].split("%")[0]: h for h in result["hosts"]}
    v4 = hosts["10.99.0.10"]
    assert v4["seen_by"] == ["ssdp", "ws-discovery", "xmeye"]
    assert v4["mac"] == "00:12:31:00:00:01"
    # IPv6: the ff02::c probe went out with IPV6_MULTICAST_IF; the reply came from link-local.
    (v6,) = [h for a, h in hosts.items() if a.startswith("fe80::")]
    assert v6["seen_by"] == ["ws-discovery"] and v6["address"].endswith("%vs")
    refused = {(r[0], r[2]) for r in result["out_of_scope"]}
    assert {(OUTSIDE, "onvif.xaddrs"), (OUTSIDE, "ssdp.location")} <= refused
    # Nothing was sent to the outside address. Positive control: one datagram sent to it on
    # purpose after the scan must be the only packet the capture holds.
    probe = (
        "import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('%s', 9))"
    )
    subprocess.run(
        ["ip", "netns", "exec", segment["scan"], sys.executable, "-c", probe % OUTSIDE], check=True
    )
    lines = segment["capture"].stop()
    assert len(lines) == 1 and f"{OUTSIDE}.9: UDP" in lines[0], lines


def test_named_interface_only(segment: dict[str, Any]) -> None:
    # Multicast only on "lo" (given explicitly): the device on "vs" must not hear it.
    result = scan_in(
        segment["scan"],
        targets=["10.99.0.0/16"],
        channels=["ws-discovery"],
        interfaces=["lo"],
        allow_large=True,
        timeout=0.5,
    )
    assert result["hosts"] == []


def test_multicast_only_where_scope_is_attached(segment: dict[str, Any]) -> None:
    code = (
        "from auditor.discovery.netif import scoped_interfaces as s; "
        "from auditor.scope import Scope as S; "
        "print({v: [i.name for i in x] for v, x in s(S.parse(['10.99.0.0/24'])).items()}, "
        "{v: [i.name for i in x] for v, x in s(S.parse(['10.98.0.0/24'])).items()}, "
        "{v: [i.name for i in x] for v, x in "
        "s(S.parse(['fe80::%vs/64'], allow_large=True)).items()})"
    )
    out = subprocess.run(
        ["ip", "netns", "exec", segment["scan"], sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=HERE.parent.parent,
    ).stdout.strip()
    assert out == "{4: ['vs'], 6: []} {4: [], 6: []} {4: [], 6: ['vs']}"
