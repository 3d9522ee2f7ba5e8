"""Network faults only a namespace can make: real ICMP unreachable from a router, and no DNS.

Two namespaces made here: the auditor's, and a router whose routing table sends ICMP
host-unreachable (``ip route add unreachable``) and admin-prohibited (``prohibit``) back for
two test networks. The auditor's namespace has a resolv.conf whose only server sits in the
unreachable network: DNS is absent, and a capture proves nothing asks it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.capture import Capture

pytestmark = pytest.mark.netns

ROOT = Path(__file__).resolve().parents[2]
#: The only nameserver of the auditor's resolv.conf, in the unreachable network.
RESOLVER = "10.99.0.53"


def ip(*args: str, check: bool = True) -> None:
    subprocess.run(["ip", *args], check=check, capture_output=True)


@dataclass
class Net:
    auditor: str
    router: str


@pytest.fixture(scope="module")
def net() -> Iterator[Net]:
    tag = f"{os.getpid() % 100000}"
    aud, rtr = f"camrob-a{tag}", f"camrob-r{tag}"
    resolv = Path("/etc/netns") / aud / "resolv.conf"
    try:
        ip("netns", "add", aud)
        ip("netns", "add", rtr)
        ip(
            "link",
            "add",
            f"ra{tag}",
            "netns",
            aud,
            "type",
            "veth",
            "peer",
            f"rr{tag}",
            "netns",
            rtr,
        )
        ip("-n", aud, "addr", "add", "10.77.0.2/30", "dev", f"ra{tag}")
        ip("-n", rtr, "addr", "add", "10.77.0.1/30", "dev", f"rr{tag}")
        for ns, dev in ((aud, f"ra{tag}"), (rtr, f"rr{tag}")):
            ip("-n", ns, "link", "set", dev, "up")
            ip("-n", ns, "link", "set", "lo", "up")
        ip("-n", aud, "route", "add", "default", "via", "10.77.0.1")
        ip("-n", rtr, "route", "add", "unreachable", "10.99.0.0/24")
        ip("-n", rtr, "route", "add", "prohibit", "10.98.0.0/24")
        # A router forwards (else it drops silently); Linux rate-limits ICMP errors per
        # destination, and the test wants every one.
        for setting in ("net.ipv4.ip_forward=1", "net.ipv4.icmp_ratelimit=0"):
            subprocess.run(["ip", "netns", "exec", rtr, "sysctl", "-qw", setting], check=True)
        resolv.parent.mkdir(parents=True, exist_ok=True)
        resolv.write_text(f"nameserver {RESOLVER}\noptions timeout:5 attempts:2\n")
        yield Net(aud, rtr)
    finally:
        ip("netns", "del", aud, check=False)
        ip("netns", "del", rtr, check=False)
        shutil.rmtree(resolv.parent, ignore_errors=True)


def in_ns(ns: str, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *argv],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env={**os.environ, "NO_COLOR": "1"},
    )


_PROBE = """
import json, sys, time, ipaddress
from auditor.context import NetContext
from auditor.scope import Scope
from auditor.models import Host, Service
from auditor.ports import PortPlan
from auditor.probes import PROBES, attempt
addr = sys.argv[1]
ctx = NetContext(scope=Scope.parse((addr,)), timeout=3.0, ports=PortPlan.parse("80,443,554"))
host = Host(ipaddress.ip_address(addr), services=(Service(80), Service(443), Service(554)))
out = []
for name in ("http", "tls", "rtsp", "onvif"):
    start = time.monotonic()
    a = attempt(PROBES[name](), host, ctx)
    out.append([name, a.outcome.value, a.reason and a.reason.value, a.detail,
                time.monotonic() - start])
print(json.dumps(out))
"""


@pytest.mark.parametrize(
    ("address", "kind"), [("10.99.0.5", "unreachable"), ("10.98.0.5", "prohibit")]
)
def test_icmp_unreachable_fails_fast_with_its_reason(net: Net, address: str, kind: str) -> None:
    done = in_ns(net.auditor, sys.executable, "-c", _PROBE, address)
    assert done.returncode == 0, done.stderr
    for name, outcome, reason, detail, seconds in json.loads(done.stdout):
        assert outcome == "failed", (name, detail)
        assert reason == "unreachable", (name, reason, detail)
        # The router's ICMP ends each connect before its 3 s timeout (at once, or after one
        # SYN retransmission, about 1 s), so a probe that tries several ports still ends
        # within one timeout instead of one per port.
        assert seconds < 2.9, (name, seconds)


def _watch_dns(ns: str, out: Path) -> Capture:
    # The capture's marker goes to the resolver, the way a DNS query would: it proves the
    # capture sees that path (tests/capture.py).
    return Capture(out, "any", "port 53", marker_to=RESOLVER, netns=ns)


def test_scan_of_an_unreachable_network_completes_without_dns(net: Net, tmp_path: Path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("needs tcpdump")
    with _watch_dns(net.auditor, tmp_path / "dns.pcap") as dns:
        start = time.monotonic()
        done = in_ns(
            net.auditor, sys.executable, "-m", "auditor", "scan", "10.99.0.5", "10.98.0.5",
            "--timeout", "1", "--db", str(tmp_path / "a.db"), "-f", "json", "-o", "-",
        )  # fmt: skip
        elapsed = time.monotonic() - start
        packets = dns.stop()
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert json.loads(done.stdout)["devices"] == []
    assert elapsed < 60, elapsed
    assert packets == [], packets


def test_a_host_name_target_is_refused_not_resolved(net: Net, tmp_path: Path) -> None:
    if shutil.which("tcpdump") is None:
        pytest.skip("needs tcpdump")
    with _watch_dns(net.auditor, tmp_path / "dns.pcap") as dns:
        start = time.monotonic()
        done = in_ns(
            net.auditor, sys.executable, "-m", "auditor", "scan", "camera.example.invalid",
            "--db", str(tmp_path / "a.db"),
        )  # fmt: skip
        elapsed = time.monotonic() - start
        packets = dns.stop()
    assert done.returncode == 2, done.stderr
    assert "not resolved" in done.stderr
    assert "Traceback" not in done.stderr
    assert elapsed < 10, "the refusal must not wait for a resolver"
    assert packets == [], packets
