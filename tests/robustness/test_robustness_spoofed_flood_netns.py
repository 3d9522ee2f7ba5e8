"""Phantom devices (issue 13): one machine on the segment answers a WS-Discovery Probe with 3,000
ProbeMatches from forged in-scope source addresses, each naming a camera maker.

Before: 3,000 "Hikvision" cameras, 89 s and a 112 MB JSON report for a two-device segment. Now:
the channel accepts at most MAX_SOURCES_PER_ROUND sources per round (and says so in the notes),
and a host that only appeared in discovery replies and never answered a unicast exchange is
reported as unconfirmed, with no maker and no exposure.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from auditor.discovery.udp import MAX_SOURCES_PER_ROUND
from auditor.engine import AuditConfig, Auditor
from auditor.lab import load_profiles
from auditor.lab.hostile import hostile_profiles
from auditor.lab.netns import NamespaceSite
from auditor.models import AuditReport
from auditor.render import FormatName, renderer

pytestmark = [pytest.mark.netns, pytest.mark.nmap]

#: A /19: larger than the directed-probe limit, so discovery is multicast only, as on a big site.
SUBNET = "10.88.0.0/19"


def _audit(site: NamespaceSite, db: Path) -> tuple[AuditReport, float]:
    config = AuditConfig(
        targets=(str(site.subnet),),
        db_path=db,
        site="spoofed-flood",
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
    with NamespaceSite(
        ["hostile-spoofed-flood", "hikvision-ipc"], profiles=known, subnet=SUBNET
    ) as site:
        db = tmp_path_factory.mktemp("flood") / "a.db"
        report, wall = site.call_in_auditor(_audit, site, db)
        yield {"site": site, "report": report, "wall": wall}


def test_phantoms_are_unconfirmed_not_cameras(run: dict[str, Any]) -> None:
    report, site = run["report"], run["site"]
    real = {site.address_of("hikvision-ipc"), site.address_of("hostile-spoofed-flood")}
    phantoms = [d for d in report.devices if str(d.host.address) not in real]
    assert len(phantoms) >= 100  # the flood arrived
    for device in phantoms:
        assert device.unconfirmed, device.host.address
        assert device.identification.manufacturer is None
        assert device.identification.brand is None
        assert not device.exposures
    camera = next(
        d for d in report.devices if str(d.host.address) == site.address_of("hikvision-ipc")
    )
    assert not camera.unconfirmed
    assert camera.identification.manufacturer == "Hikvision"


def test_caps_hold_per_channel_and_round_and_are_noted(run: dict[str, Any]) -> None:
    report = run["report"]
    assert len(report.devices) <= MAX_SOURCES_PER_ROUND + 2
    notes = "\n".join(report.notes)
    assert f"ws-discovery: reply cap reached: {MAX_SOURCES_PER_ROUND:,} source addresses" in notes
    unconfirmed = sum(1 for d in report.devices if d.unconfirmed)
    assert f"Unconfirmed: {unconfirmed:,} hosts were seen only in discovery replies" in notes


def test_flood_costs_bounded_time_and_report_size(run: dict[str, Any]) -> None:
    report = run["report"]
    assert run["wall"] < 75, run["wall"]
    data = renderer(FormatName.JSON).render(report)
    assert len(data) < 20_000_000, len(data)
    summary = json.loads(data)["summary"]
    assert summary["unconfirmed"] == sum(1 for d in report.devices if d.unconfirmed)
    assert summary["by_manufacturer"].get("Hikvision") == 1
