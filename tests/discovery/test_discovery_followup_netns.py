"""The directed follow-up in a large scope (root): only where the multicast round did not reach.

A scope of more than DIRECTED_LIMIT addresses gets no directed sweep: the UDP channels multicast
on the attached segment, then probe directly the hosts other channels found that they did not
hear. A sparse /19 lab with devices on the auditor's segment and a subnet behind a router shows
both sides: on-link devices answer the multicast and get no directed probe (tcpdump on the
auditor's interface proves it), routed devices get one and are found by it. Without multicast,
or when the round lost replies, the on-link hosts get the directed probe again.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from ipaddress import ip_address, ip_network
from pathlib import Path
from typing import Any

import pytest

from auditor.context import NetContext
from auditor.discovery import discover_all, udpsock
from auditor.discovery.reach import Reach
from auditor.discovery.udp import DIRECTED_LIMIT, exchange
from auditor.discovery.wsd import WsDiscoveryChannel
from auditor.lab import nsutil
from auditor.lab.netns import NamespaceSite
from auditor.models import Host
from auditor.scope import Scope
from tests.capture import Capture
from tests.discovery.test_discovery_lab_netns import expected

pytestmark = [pytest.mark.netns, pytest.mark.nmap, pytest.mark.slow]

ON_LINK = [
    "hikvision-ipc",  # WS-Discovery and SADP
    "dahua-ipc",
    "xiongmai-ipc",
    "hikvision-sadp-only",
    "dahua-dhip-only",
    "axis-p1375",
    "sony-snc",
    "printer-hp",  # WS-Discovery, but not for ONVIF probes
    "router-openwrt",  # speaks none of the UDP protocols: found by nmap only
    "linux-nginx",
]
ROUTED = ["hikvision-ipc", "dahua-ipc", "xiongmai-ipc", "linux-nginx"]
SUBNET = "10.206.0.0/19"
ROUTED_SUBNET = "10.207.0.0/24"
#: UDP ports of the discovery channels (WS-Discovery, SADP, DHIP, Xiongmai, SSDP, mDNS).
PORTS = (3702, 37020, 37810, 34569, 1900, 5353)
_DEST = re.compile(r" > (\d+\.\d+\.\d+\.\d+)\.(\d+): ")


def _directed(site: NamespaceSite, pcap: Path) -> Capture:
    """Unicast UDP from the auditor to a discovery port: the directed probes, nothing else."""
    ports = " or ".join(f"dst port {p}" for p in PORTS)
    return Capture(
        pcap,
        site.auditor_interface,
        f"udp and src host {site.auditor_address} and ({ports}) and not dst net 224.0.0.0/4 "
        "and not dst host 255.255.255.255",
        marker_to=site.targets[0],
        netns=site.auditor_netns,
    )


def _destinations(lines: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = {}
    for line in lines:
        match = _DEST.search(line)
        assert match, line
        out.setdefault(match[1], set()).add(int(match[2]))
    return out


def _scan(
    site: NamespaceSite, multicast: bool, on_host: Callable[[Host], None] | None = None
) -> tuple[Any, NetContext]:
    # Safety: this runs inside the lab's auditor namespace, never on the host's network.
    names = {n for _, n in socket.if_nameindex()}
    assert names <= {"lo", site.auditor_interface}, names
    ctx = NetContext(
        scope=Scope.parse([SUBNET, ROUTED_SUBNET], [site.auditor_address]),
        timeout=1.5,
        ports=site.port_plan,
        multicast=multicast,
    )
    assert ctx.scope.size > DIRECTED_LIMIT
    return discover_all(ctx, on_host=on_host), ctx


def _run(
    site: NamespaceSite, pcap: Path, multicast: bool, on_host: Callable[[Host], None] | None = None
) -> dict[str, Any]:
    with _directed(site, pcap) as capture:
        result, ctx = site.call_in_auditor(_scan, site, multicast, on_host)
        lines = capture.stop()
    found = {str(h.address): {c.value for c in h.seen_by} for h in result.hosts}
    return {"result": result, "found": found, "sent": _destinations(lines)}


@pytest.fixture(scope="module")
def site() -> Iterator[NamespaceSite]:
    with NamespaceSite(
        ON_LINK, subnet=SUBNET, sparse=True, routed_subnet=ROUTED_SUBNET, routed_devices=ROUTED
    ) as lab:
        yield lab


@pytest.fixture(scope="module")
def multicast(site: NamespaceSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return _run(site, tmp_path_factory.mktemp("mc") / "directed.pcap", multicast=True)


def _wrong(site: NamespaceSite, found: dict[str, set[str]]) -> dict[str, Any]:
    wrong = {}
    for device in site.devices:
        want = expected(device.profile, bool(device.extra.get("routed")))
        seen = found.get(device.address, set())
        if seen != want:
            wrong[f"{device.profile.id}@{device.address}"] = (sorted(seen), sorted(want))
    return wrong


def test_on_link_devices_found_by_multicast_get_no_directed_probe(
    site: NamespaceSite, multicast: dict[str, Any]
) -> None:
    assert multicast["result"].errors == ()
    assert _wrong(site, multicast["found"]) == {}
    # Every on-link device was found by nmap, and several stayed silent on some UDP channel
    # (the router speaks none): before, each such host got a directed probe per channel.
    on_link = set(site.targets) | {site.router_address}
    assert set(multicast["sent"]) & on_link == set()


def test_routed_devices_still_get_the_follow_up_and_are_found(
    site: NamespaceSite, multicast: dict[str, Any]
) -> None:
    found, sent = multicast["found"], multicast["sent"]
    routed = {d.profile.id: d.address for d in site.devices if d.extra.get("routed")}
    # Multicast does not cross the router: nmap found these, and the directed follow-up made
    # each one known to the UDP channels it speaks.
    assert found[routed["hikvision-ipc"]] == {"ws-discovery", "sadp", "nmap"}
    assert found[routed["dahua-ipc"]] == {"ws-discovery", "dhip", "nmap"}
    assert found[routed["xiongmai-ipc"]] == {"ws-discovery", "xmeye", "nmap"}
    # Each routed host was asked on every channel that had not heard it, even a silent one.
    assert {37810, 34569, 1900, 5353} <= sent[routed["hikvision-ipc"]]
    assert set(PORTS) <= sent[routed["linux-nginx"]]
    # ... and nothing on the segment was.
    assert all(ip_address(a) in ip_network(ROUTED_SUBNET) for a in sent), sorted(sent)


def test_without_multicast_on_link_hosts_get_the_follow_up(
    site: NamespaceSite, tmp_path: Path
) -> None:
    run = _run(site, tmp_path / "directed.pcap", multicast=False)
    found, sent = run["found"], run["sent"]
    local = {d.profile.id: d.address for d in site.devices if not d.extra.get("routed")}
    # Nothing was multicast, so the hosts nmap found on the segment were asked directly.
    assert found[local["hikvision-sadp-only"]] == {"sadp", "nmap"}
    assert {"ws-discovery", "sadp", "nmap"} <= found[local["hikvision-ipc"]]
    assert {3702, 37020, 37810, 34569, 1900, 5353} <= sent[local["router-openwrt"]]


def test_lost_replies_bring_back_the_follow_up(
    site: NamespaceSite, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The smallest receive buffer the kernel allows, and a consumer that stalls on its first
    # sighting: the replies that arrive meanwhile overflow the buffer and are dropped.
    monkeypatch.setattr(udpsock, "_RCVBUF_MULTICAST", 1)
    stalled: set[frozenset[str]] = set()
    lock = threading.Lock()

    def slow(host: Host) -> None:
        # Once per channel, on its first sighting (in the multicast round, which comes first).
        key = frozenset(c.value for c in host.seen_by)
        with lock:
            first = key not in stalled
            stalled.add(key)
        if first:
            time.sleep(0.5)

    run = _run(site, tmp_path / "directed.pcap", multicast=True, on_host=slow)
    found, sent = run["found"], run["sent"]
    local = {d.profile.id: d.address for d in site.devices if not d.extra.get("routed")}
    # WS-Discovery's round lost replies, so the on-link hosts it did not hear were asked
    # directly, and the ONVIF cameras whose replies were dropped are found all the same.
    assert 3702 in sent[local["router-openwrt"]]
    for profile in ("hikvision-ipc", "dahua-ipc", "xiongmai-ipc", "axis-p1375"):
        assert "ws-discovery" in found[local[profile]], profile


def _round_in(ns: str) -> Reach:
    """One multicast round (WS-Discovery's plan) inside ``ns``, on the interface v0 only."""
    reach = Reach()
    with nsutil.entered(ns):
        names = {n for _, n in socket.if_nameindex()}
        assert names <= {"lo", "v0", "v1"}, names  # never the host's network
        ctx = NetContext(scope=Scope.parse(["10.208.0.0/19"]), timeout=0.2, interfaces=("v0",))
        plan = WsDiscoveryChannel().plan(ctx)
        list(exchange(ctx, plan, reach=reach))
    return reach


def test_a_segment_the_multicast_could_not_leave_keeps_its_follow_up() -> None:
    ns = f"cad-r-{os.getpid() % 100000}"
    subprocess.run(["ip", "netns", "add", ns], check=True, capture_output=True)
    try:
        for cmd in (
            "link add v0 type veth peer name v1",
            "addr add 10.208.0.1/24 dev v0",
            "link set v1 up",
            "link set v0 up",
        ):
            subprocess.run(["ip", "-n", ns, *cmd.split()], check=True, capture_output=True)
        on_link, routed = ip_address("10.208.0.7"), ip_address("10.208.1.7")
        up = _round_in(ns)
        assert [str(s.network) for s in up.segments] == ["10.208.0.0/24"]
        assert up.covers(on_link) and not up.covers(routed)
        # A named interface that is down: the kernel refuses the sends (no route), so nothing
        # was reached and every host, on-link or not, keeps its directed follow-up.
        subprocess.run(["ip", "-n", ns, "link", "set", "v0", "down"], check=True)
        down = _round_in(ns)
        assert down.complete and down.segments == ()
        assert not down.covers(on_link)
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
