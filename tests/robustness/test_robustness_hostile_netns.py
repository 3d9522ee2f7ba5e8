"""The discovery-level hostile devices on a real L2 segment (root): real multicast WS-Discovery,
SADP, DHIP and SSDP, so floods and XML bombs arrive the way they would on a site network.

The whole audit runs inside the lab's auditor namespace; a capture on its interface, with a
route to the out-of-scope address in place, proves nothing was sent there.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.discovery.wsd import MAX_ENDPOINTS_PER_SOURCE
from auditor.engine import AuditConfig, Auditor
from auditor.lab import load_profiles
from auditor.lab.hostile import hostile_profiles
from auditor.lab.netns import NamespaceSite
from auditor.models import AuditReport, Channel, Reason
from tests.capture import Capture

pytestmark = [pytest.mark.netns, pytest.mark.nmap]

DEVICES = [
    "hostile-xxe",
    "hostile-laughs",
    "hostile-flood",
    "hostile-dhip-length",
    "hostile-points-outside",
    "hostile-ssdp-slow",
    "hostile-xml-bombs",
    "hostile-floods",
    "hikvision-ipc",
    "dahua-ipc",
]


def _audit(site: NamespaceSite, db: Path) -> tuple[AuditReport, float]:
    names = {n for _, n in socket.if_nameindex()}
    assert names <= {"lo", site.auditor_interface}, names  # never the host's own network
    config = AuditConfig(
        targets=(str(site.subnet),),
        db_path=db,
        site="hostile-netns",
        ports=site.port_plan,
        timeout=1.5,
        interfaces=(site.auditor_interface,),
    )
    start = time.monotonic()
    report = Auditor(config).run()
    return report, time.monotonic() - start


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    known = {**load_profiles(), **hostile_profiles()}
    with NamespaceSite(DEVICES, profiles=known, subnet="192.0.2.0/24") as site:
        outside = site.devices[0].outside_address
        site.run_in_auditor(["ip", "route", "add", f"{outside}/32", "dev", site.auditor_interface])
        # The capture proves it ran: its marker, sent to a device on the auditor's segment (one
        # that answers ARP; a lab without routed devices has no router), must be in it.
        with Capture(
            tmp_path_factory.mktemp("capture") / "outside.pcap",
            site.auditor_interface,
            f"dst host {outside}",
            marker_to=next(d.address for d in site.devices if not d.extra.get("routed")),
            netns=site.auditor_netns,
        ) as capture:
            db = tmp_path_factory.mktemp("netns") / "a.db"
            report, wall = site.call_in_auditor(_audit, site, db)
            captured = capture.stop()
        yield {"site": site, "report": report, "wall": wall, "captured": captured, "out": outside}


def test_audit_over_multicast_completes_in_bounded_time(run: dict[str, Any]) -> None:
    report, site = run["report"], run["site"]
    assert run["wall"] < 90, run["wall"]
    found = {str(d.host.address) for d in report.devices}
    assert {d.address for d in site.devices} <= found
    bugs = [(str(d.host.address), a.probe) for d in report.devices for a in d.attempts
            if a.reason is Reason.BUG]  # fmt: skip
    assert not bugs


def test_multicast_flood_is_bounded(run: dict[str, Any]) -> None:
    report, site = run["report"], run["site"]
    by_addr = {str(d.host.address): d for d in report.devices}
    for profile in ("hostile-flood", "hostile-floods"):
        host = by_addr[site.address_of(profile)].host
        assert Channel.WS_DISCOVERY in host.seen_by
        assert 1 <= len(host.endpoint_ids) <= MAX_ENDPOINTS_PER_SOURCE


def test_multicast_xml_bombs_do_not_expand(run: dict[str, Any]) -> None:
    for device in run["report"].devices:
        for obs in device.observations:
            assert "lollollol" not in obs.value and "root:x:0:0" not in obs.value


def test_nothing_reaches_the_outside_address(run: dict[str, Any]) -> None:
    refs = {(r.address, r.via) for r in run["report"].out_of_scope}
    assert {(run["out"], "onvif.xaddrs"), (run["out"], "ssdp.location")} <= refs
    assert run["captured"] == []
