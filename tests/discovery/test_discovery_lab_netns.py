"""The namespace lab (root): real multicast, MACs on a real L2 segment, a routed second subnet.

A scan of the site finds every emulated device by the channels its profile answers: on the
auditor's segment by multicast and directed probes and by nmap (ARP gives every local device a
MAC), on the routed subnet only by directed probes and nmap. It sends nothing to the outside
address that a device points at; tcpdump on the auditor's interface proves it, with a route to
that address in place so that any attempt would have left the interface.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.context import NetContext
from auditor.discovery import discover_all
from auditor.lab import load_profiles
from auditor.lab.netns import NamespaceSite
from auditor.lab.profiles import DeviceProfile
from auditor.scope import Scope
from tests.capture import Capture

pytestmark = [pytest.mark.netns, pytest.mark.nmap]

UDP_CHANNEL = {
    "wsd": "ws-discovery",
    "sadp": "sadp",
    "dhip": "dhip",
    "xm_discovery": "xmeye",
    "ssdp": "ssdp",
}
ONVIF_TYPES = ("NetworkVideoTransmitter", "tds:Device")
ROUTED = ["hikvision-sadp-only", "dahua-dhip-only", "dahua-ipc", "onvif-outside", "hikvision-ipc"]


def expected(profile: DeviceProfile, routed: bool) -> set[str]:
    out = set() if routed else {"nmap"}  # on the segment, nmap's ARP finds every device
    for kind, cfg in profile.services.items():
        if kind in UDP_CHANNEL:
            types = str(cfg.get("types", "dn:NetworkVideoTransmitter tds:Device"))
            if kind == "wsd" and not any(t in types for t in ONVIF_TYPES):
                continue  # a printer's WSD does not match the ONVIF-typed probes
            out.add(UDP_CHANNEL[kind])
        elif kind != "silent":
            out.add("nmap")
    return out


def _scan(site: NamespaceSite, targets: list[str], timeout: float) -> tuple[Any, NetContext, float]:
    # Safety: this must run inside the lab's auditor namespace, never on the host's network.
    names = {n for _, n in socket.if_nameindex()}
    assert names <= {"lo", site.auditor_interface}, names
    ctx = NetContext(scope=Scope.parse(targets), timeout=timeout, ports=site.port_plan)
    start = time.monotonic()
    result = discover_all(ctx)
    return result, ctx, time.monotonic() - start


def _outside_capture(site: NamespaceSite, outside: str, pcap: Path) -> Capture:
    """Every packet (or ARP request) to ``outside`` on the auditor's interface. It proves it ran:
    its marker, sent to a device on the auditor's segment (one that answers ARP), must be in it."""
    return Capture(
        pcap,
        site.auditor_interface,
        f"dst host {outside}",
        marker_to=next(d.address for d in site.devices if not d.extra.get("routed")),
        netns=site.auditor_netns,
    )


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with NamespaceSite(sorted(load_profiles()), routed_devices=ROUTED) as site:
        outside = site.devices[0].outside_address
        # A route to the outside address: had discovery tried to reach it, the packet (or the
        # ARP request for it) would cross the auditor's interface and land in the capture.
        site.run_in_auditor(["ip", "route", "add", f"{outside}/32", "dev", site.auditor_interface])
        with _outside_capture(
            site, outside, tmp_path_factory.mktemp("capture") / "outside.pcap"
        ) as capture:
            targets = [str(site.subnet), str(site.routed_subnet)]
            result, ctx, wall = site.call_in_auditor(_scan, site, targets, 1.5)
            during = capture.stop()
        yield {
            "site": site,
            "result": result,
            "ctx": ctx,
            "wall": wall,
            "captured": during,
            "outside": outside,
        }


def test_every_device_found_by_its_channels(mixed: dict[str, Any]) -> None:
    site, result = mixed["site"], mixed["result"]
    assert result.errors == ()
    found = {str(h.address): h for h in result.hosts}
    wrong = {}
    for device in site.devices:
        routed = bool(device.extra.get("routed"))
        want = expected(device.profile, routed)
        seen = (
            {c.value for c in found[device.address].seen_by} if device.address in found else set()
        )
        if seen != want:
            wrong[f"{device.profile.id}@{device.address}"] = (sorted(seen), sorted(want))
    assert wrong == {}
    # Besides the devices only the lab's router is a live host on the segment.
    assert set(found) - {d.address for d in site.devices} <= {site.router_address}


def test_sadp_only_dhip_only_and_routed_devices(mixed: dict[str, Any]) -> None:
    site, result = mixed["site"], mixed["result"]
    found = {str(h.address): {c.value for c in h.seen_by} for h in result.hosts}
    routed = {d.profile.id: d.address for d in site.devices if d.extra.get("routed")}
    local = {d.profile.id: d.address for d in site.devices if not d.extra.get("routed")}
    assert found[routed["hikvision-sadp-only"]] == {"sadp"}
    assert found[routed["dahua-dhip-only"]] == {"dhip"}
    assert found[local["hikvision-sadp-only"]] == {"sadp", "nmap"}
    # Multicast does not cross the router: the routed ONVIF camera was found by a directed probe.
    assert "ws-discovery" in found[routed["hikvision-ipc"]]


def test_macs_and_oui_vendor_on_the_segment(mixed: dict[str, Any]) -> None:
    site, result = mixed["site"], mixed["result"]
    found = {str(h.address): h for h in result.hosts}
    for device in site.devices:
        host = found[device.address]
        if device.extra.get("routed"):
            # No L2 path: only a vendor reply can carry the MAC across the router.
            if not expected(device.profile, True) & {"sadp", "dhip", "xmeye"}:
                assert host.mac is None
            continue
        assert host.mac == device.mac, device.profile.id
    hik = found[site.address_of("hikvision-ipc")]
    assert hik.mac_vendor == "Hangzhou Hikvision Digital Technology"
    assert any(o.kind.value == "mac.vendor" for o in hik.observations)


def test_nothing_sent_outside_scope(mixed: dict[str, Any], tmp_path: Path) -> None:
    site, ctx, outside = mixed["site"], mixed["ctx"], mixed["outside"]
    refs = {(r.address, r.via) for r in ctx.out_of_scope}
    assert {(outside, "onvif.xaddrs"), (outside, "ssdp.location")} <= refs
    assert mixed["captured"] == []
    # Positive control: the same capture does see a datagram sent to that address on purpose.
    with _outside_capture(site, outside, tmp_path / "control.pcap") as control:
        probe = (
            "import socket; "
            f"socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('{outside}', 9))"
        )
        site.run_in_auditor(["python3", "-c", probe])
        seen = control.stop()
    # (The address is on-link without a neighbour: what leaves is the ARP request for it.)
    assert seen and all(outside in line for line in seen), seen


@pytest.mark.slow
def test_250_device_site_wall_time(capsys: pytest.CaptureFixture[str]) -> None:
    with NamespaceSite(count=250) as site:
        result, _, wall = site.call_in_auditor(_scan, site, [str(site.subnet)], 3.0)
    found = {str(h.address) for h in result.hosts}
    assert {d.address for d in site.devices} <= found
    with capsys.disabled():
        print(f"\ndiscovery of a 250-device /24 namespace site: {wall:.1f} s wall")
    # One collection window per channel, all channels at once: never a wait per host.
    assert wall < 30
