"""Namespace mode: real L2, real ARP and multicast, a routed second subnet, clean teardown."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from defusedxml import ElementTree as ET

from auditor.errors import ConfigError
from auditor.lab import NamespaceSite, nsutil
from tests.lab.lab_client import M_SEARCH, SADP_INQUIRY, XM_SEARCH, dhip_search, probe, udp_ask

pytestmark = pytest.mark.netns

D = "{http://schemas.xmlsoap.org/ws/2005/04/discovery}"
DEVICES = [
    "hikvision-ipc",
    "dahua-ipc",
    "printer-hp",
    "silent-host",
    "xiongmai-dvr",
    "router-openwrt",
    "lts-ipc",
]


@pytest.fixture(scope="module")
def ns_site() -> Iterator[NamespaceSite]:
    site = NamespaceSite(
        DEVICES,
        subnet="192.0.2.0/24",
        routed_devices=["axis-p1375"],
        routed_subnet="198.51.100.0/24",
    )
    with site:
        yield site


def collect(
    payload: bytes, group: str, port: int, window: float = 1.0, broadcast: bool = False
) -> list[tuple[str, bytes]]:
    """Send one datagram to a group (or broadcast) address, gather every reply for ``window``."""
    replies = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        if broadcast:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        sock.settimeout(0.2)
        sock.sendto(payload, (group, port))
        end = time.monotonic() + window
        while time.monotonic() < end:
            try:
                data, addr = sock.recvfrom(65535)
            except TimeoutError:
                continue
            replies.append((addr[0], data))
    return replies


def test_multicast_probe_from_the_auditor_namespace_gets_probe_matches(ns_site):
    replies = ns_site.call_in_auditor(collect, probe(), "239.255.255.250", 3702)
    senders = {addr for addr, _ in replies}
    expected = {
        ns_site.address_of(p) for p in ("hikvision-ipc", "dahua-ipc", "xiongmai-dvr", "lts-ipc")
    }
    assert senders == expected  # not the printer (typed probe), not the silent host
    for addr, data in replies:
        xaddrs = ET.fromstring(data).findtext(f".//{D}XAddrs") or ""
        assert addr in xaddrs
    # The routed subnet is another segment: multicast (TTL 1) does not reach it.
    assert ns_site.routed_targets[0] not in senders


def test_vendor_multicast_and_broadcast_discovery(ns_site):
    sadp = ns_site.call_in_auditor(collect, SADP_INQUIRY, "239.255.255.250", 37020)
    assert {a for a, _ in sadp} == {
        ns_site.address_of("hikvision-ipc"),
        ns_site.address_of("lts-ipc"),
    }
    dhip = ns_site.call_in_auditor(collect, dhip_search(), "239.255.255.251", 37810)
    assert {a for a, _ in dhip} == {ns_site.address_of("dahua-ipc")}
    ssdp = ns_site.call_in_auditor(collect, M_SEARCH, "239.255.255.250", 1900)
    assert {a for a, _ in ssdp} == {ns_site.address_of("router-openwrt")}
    xm = ns_site.call_in_auditor(collect, XM_SEARCH, "192.0.2.255", 34569, 1.0, True)
    assert {a for a, _ in xm} == {ns_site.address_of("xiongmai-dvr")}


def test_directed_probe_reaches_the_routed_subnet(ns_site):
    target = ns_site.routed_targets[0]
    reply = ns_site.call_in_auditor(udp_ask, target, 3702, probe())
    assert reply is not None and target.encode() in reply
    resp = ns_site.call_in_auditor(requests.get, f"http://{target}/axis-cgi/param.cgi", timeout=3)
    assert "AXIS_WS_" in resp.headers["WWW-Authenticate"]


@pytest.mark.nmap
def test_nmap_ping_scan_sees_each_profile_mac(ns_site):
    result = ns_site.run_in_auditor(["nmap", "-n", "-sn", "192.0.2.0/24"])
    assert result.returncode == 0, result.stderr
    seen = dict(re.findall(r"report for (\S+)\n.*?\nMAC Address: (\S+)", result.stdout))
    for device in ns_site.devices:
        if device.address in ns_site.targets:
            assert seen.get(device.address, "").lower() == device.mac, device.profile.id
    assert ns_site.device("hikvision-ipc").mac.startswith("c4:2f:90")


def test_replies_come_from_each_devices_own_mac(ns_site):
    """No ARP flux: after talking to every device, the auditor's ARP cache maps each address to
    that device's own MAC (answered by the interface owning it)."""
    for profile in ("hikvision-ipc", "dahua-ipc", "lts-ipc"):
        address = ns_site.address_of(profile)
        ns_site.call_in_auditor(requests.get, f"http://{address}/", timeout=3)
    neigh = ns_site.run_in_auditor(["ip", "neigh", "show", "dev", "ca-a0"]).stdout
    for profile in ("hikvision-ipc", "dahua-ipc", "lts-ipc"):
        device = ns_site.device(profile)
        assert f"{device.address} lladdr {device.mac}" in neigh


def test_silent_host_drops_tcp(ns_site):
    address = ns_site.address_of("silent-host")

    def connect() -> str:
        try:
            socket.create_connection((address, 80), timeout=0.7).close()
        except TimeoutError:
            return "timeout"
        except OSError as exc:
            return type(exc).__name__
        return "connected"

    assert ns_site.call_in_auditor(connect) == "timeout"


def test_every_device_answers_a_closed_udp_port_at_once(ns_site):
    """Each real device has its own kernel and its own ICMP rate limit; the lab's devices share
    the site namespace's. Asked together, each one without an agent on a UDP port says "port
    unreachable" at once, as real devices do (the shared limit let one through a second, and
    an SNMP probe with a community waited out its timeouts on the rest)."""
    answering = [d.address for d in ns_site.devices if d.profile.id != "silent-host"]

    def ask_all() -> list[str]:
        socks = []
        for address in answering:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.connect((address, 9))  # discard: no lab device serves it
            sock.send(b"camaudit")
            socks.append(sock)
        out = []
        for sock in socks:
            sock.settimeout(1.0)
            try:
                sock.recv(64)
                out.append("data")
            except ConnectionRefusedError:
                out.append("refused")
            except TimeoutError:
                out.append("timeout")
            finally:
                sock.close()
        return out

    assert len(answering) >= 6
    assert ns_site.call_in_auditor(ask_all) == ["refused"] * len(answering)


def test_teardown_leaves_nothing():
    before = set(threading.enumerate())
    site = NamespaceSite(["hikvision-ipc", "silent-host"], subnet="10.201.0.0/24")
    with site:
        assert nsutil.list_namespaces(site.prefix)
    assert nsutil.list_namespaces(site.prefix) == []
    assert set(threading.enumerate()) <= before
    host_links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    assert " ca-" not in host_links


def test_failure_during_start_cleans_up():
    site = NamespaceSite(["hikvision-ipc"], subnet="10.202.0.0/24")
    site.devices[0].interface = "ca-this-name-is-too-long"
    with pytest.raises(ConfigError):
        site.start()
    assert nsutil.list_namespaces(site.prefix) == []


@pytest.mark.slow
@pytest.mark.nmap
def test_a_full_slash_24_of_250_devices(record_property):
    site = NamespaceSite(count=250, subnet="10.203.0.0/24")
    start = time.monotonic()
    site.start()
    up = time.monotonic() - start
    try:
        scan = site.run_in_auditor(["nmap", "-n", "-sn", "-T4", "10.203.0.0/24"])
        macs = scan.stdout.count("MAC Address:")
        replies = site.call_in_auditor(collect, probe(), "239.255.255.250", 3702, 2.0)
    finally:
        start = time.monotonic()
        site.stop()
        down = time.monotonic() - start
    record_property("up_seconds", round(up, 2))
    record_property("down_seconds", round(down, 2))
    print(
        f"\n250-device /24: up {up:.2f} s, down {down:.2f} s, nmap saw {macs} MACs, "
        f"{len(replies)} ProbeMatches",
        file=sys.stderr,
    )
    assert macs == 250
    expected = sum(
        1 for d in site.devices if "wsd" in d.profile.services and d.profile.device_type.is_video
    )
    assert len(replies) == expected
    assert up < 30 and down < 30
    assert nsutil.list_namespaces(site.prefix) == []


def test_lab_cli_up_status_down(tmp_path: Path) -> None:
    if nsutil.lab_namespaces("ca-lab-"):
        pytest.skip("a `camaudit lab` site is already up on this machine")
    cli = [sys.executable, "-m", "auditor.cli.app", "lab"]
    up = subprocess.run(
        cli + ["up", "--devices", "12", "--subnet", "10.204.0.0/24"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    try:
        assert up.returncode == 0, up.stderr
        status = subprocess.run(
            cli + ["status", "--json"], capture_output=True, text=True, timeout=60
        )
        state = json.loads(status.stdout)
        assert state["running"] is True and len(state["devices"]) == 12
        daemon_pid = int(state["pid"])
        assert {"address", "manufacturer", "brand", "model", "device_type", "mac"} <= set(
            state["devices"][0]
        )
        assert nsutil.list_namespaces("ca-lab-") == ["ca-lab-a", "ca-lab-s"]
    finally:
        down = subprocess.run(cli + ["down"], capture_output=True, text=True, timeout=120)
    assert down.returncode == 0, down.stderr
    assert nsutil.list_namespaces("ca-lab-") == []
    assert not Path(f"/proc/{daemon_pid}").exists(), "the lab daemon is still running"
    again = subprocess.run(cli + ["down"], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0
    gone = json.loads(
        subprocess.run(
            cli + ["status", "--json"], capture_output=True, text=True, timeout=60
        ).stdout
    )
    assert gone["running"] is False


@pytest.mark.slow
def test_a_sparse_slash_16_of_2000_devices():
    site = NamespaceSite(count=2000, subnet="10.205.0.0/16", sparse=True)
    start = time.monotonic()
    site.start()
    up = time.monotonic() - start
    try:
        addresses = {d.address for d in site.devices}
        assert len(addresses) == 2000
        assert len({a.rsplit(".", 2)[1] for a in addresses}) > 200  # spread over the /16
        expected = sum(
            1
            for d in site.devices
            if "wsd" in d.profile.services and d.profile.device_type.is_video
        )
        # 1,300 devices answer one multicast Probe at the same instant; on a loaded 2-core CI
        # machine a few replies can drop, so, as WS-Discovery clients do (they repeat a Probe),
        # probe up to three times and count the distinct devices that answered.
        replies: list[tuple[str, bytes]] = []
        for _ in range(3):
            replies += site.call_in_auditor(collect, probe(), "239.255.255.250", 3702, 3.0)
            if len({a for a, _ in replies}) >= expected:
                break
    finally:
        start = time.monotonic()
        site.stop()
        down = time.monotonic() - start
    print(
        f"\n2,000 devices in a sparse /16: up {up:.2f} s, down {down:.2f} s, "
        f"{len({a for a, _ in replies})}/{expected} devices answered the ProbeMatch",
        file=sys.stderr,
    )
    assert len({a for a, _ in replies}) == expected
    assert nsutil.list_namespaces(site.prefix) == []
