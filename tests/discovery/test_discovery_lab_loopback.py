"""The loopback lab (no root): every unicast path finds the devices whose profiles answer it."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest

from auditor.context import NetContext
from auditor.discovery import DiscoveryResult, discover_all
from auditor.lab import LoopbackSite, load_profiles
from auditor.lab.profiles import DeviceProfile
from auditor.scope import Scope

pytestmark = pytest.mark.nmap

#: Lab service kind -> the discovery channel that should find it.
UDP_CHANNEL = {
    "wsd": "ws-discovery",
    "sadp": "sadp",
    "dhip": "dhip",
    "xm_discovery": "xmeye",
    "ssdp": "ssdp",
}
ONVIF_TYPES = ("NetworkVideoTransmitter", "tds:Device")


def expected_channels(profile: DeviceProfile) -> set[str]:
    out = set()
    for kind, cfg in profile.services.items():
        if kind in UDP_CHANNEL:
            types = str(cfg.get("types", "dn:NetworkVideoTransmitter tds:Device"))
            # We send only the two ONVIF-typed probes: a printer's WSD does not match them.
            if kind == "wsd" and not any(t in types for t in ONVIF_TYPES):
                continue
            out.add(UDP_CHANNEL[kind])
        else:
            out.add("nmap")  # a TCP service, or "silent" (filtered ports)
    return out


#: The lab, what discovery found in it, the context it ran with, and what the outside heard.
Scanned = tuple[LoopbackSite, DiscoveryResult, NetContext, list[bytes]]


@pytest.fixture(scope="module")
def scanned() -> Iterator[Scanned]:
    site = LoopbackSite(sorted(load_profiles())).start()
    # Listeners on the address the onvif-outside device points at: none may hear anything.
    heard: list[bytes] = []
    outside = []
    try:
        for port in (3702, 37020, 37810, 34569, 1900, 5353):
            u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            # Other test runs may hold a wildcard socket on these ports (with SO_REUSEADDR).
            u.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            u.bind((site.outside_address, port))
            u.setblocking(False)
            outside.append(u)
        t = socket.socket()
        t.bind((site.outside_address, 49152))  # the LOCATION port
        t.listen(8)
        t.setblocking(False)
        outside.append(t)
        ctx = NetContext(
            scope=Scope.parse([str(site.subnet)]),
            timeout=1.0,
            multicast=False,
            ports=site.port_plan,
        )
        result = discover_all(ctx)
        for s in outside:
            with contextlib.suppress(BlockingIOError):
                heard.append(
                    s.recv(100) if s.type == socket.SOCK_DGRAM else s.accept()[0].recv(100)
                )
        yield site, result, ctx, heard
    finally:
        for s in outside:
            s.close()
        site.stop()


def test_every_device_found_by_the_channels_its_profile_answers(scanned: Scanned) -> None:
    site, result, _, _ = scanned
    assert result.errors == ()
    found = {str(h.address): h for h in result.hosts}
    wrong = {}
    for device in site.devices:
        seen = (
            {c.value for c in found[device.address].seen_by} if device.address in found else set()
        )
        if seen != expected_channels(device.profile):
            wrong[device.profile.id] = (sorted(seen), sorted(expected_channels(device.profile)))
    assert wrong == {}
    # Nothing else on the /24 is reported (loopback answers every address with RST).
    assert set(found) == {d.address for d in site.devices}


def test_vendor_discovery_carries_the_mac(scanned: Scanned) -> None:
    site, result, _, _ = scanned
    found = {str(h.address): h for h in result.hosts}
    for device in site.devices:
        if expected_channels(device.profile) & {"sadp", "dhip", "xmeye"}:
            assert found[device.address].mac == device.mac, device.profile.id


def test_sadp_only_and_dhip_only_devices(scanned: Scanned) -> None:
    site, result, _, _ = scanned
    found = {str(h.address): h for h in result.hosts}
    assert {c.value for c in found[site.address_of("hikvision-sadp-only")].seen_by} == {"sadp"}
    assert {c.value for c in found[site.address_of("dahua-dhip-only")].seen_by} == {"dhip"}


def test_outside_pointers_refused_and_never_contacted(scanned: Scanned) -> None:
    site, _, ctx, heard = scanned
    referrer = site.address_of("onvif-outside")
    refs = {(r.address, str(r.referrer), r.via) for r in ctx.out_of_scope}
    assert (site.outside_address, referrer, "onvif.xaddrs") in refs
    assert (site.outside_address, referrer, "ssdp.location") in refs
    assert heard == []
