"""Re-assessing a stored report for another audience, totals, data versions and staleness."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

import pytest

from auditor.errors import DataFileError
from auditor.exposure import Assessor, reassess
from auditor.exposure.data import load_regulatory_data
from auditor.exposure.regulatory import Entity, Instrument, Listing
from auditor.models import (
    Audience,
    AuditId,
    AuditInfo,
    AuditReport,
    DeviceResult,
    DeviceType,
    Host,
    Identification,
    RemediationAction,
)
from auditor.resources import fingerprints_dir


def _report(make_ident: Callable[..., Identification]) -> AuditReport:
    devices = (
        DeviceResult(
            Host(ip_address("127.0.0.10")),
            identification=make_ident("Hikvision", "LTS", DeviceType.NVR, oem_relabel=True),
        ),
        DeviceResult(Host(ip_address("127.0.0.11")), identification=make_ident("Axis")),
        DeviceResult(Host(ip_address("127.0.0.12")), identification=make_ident(None)),
    )
    info = AuditInfo(
        AuditId("a1"), "lab", datetime(2026, 11, 20, tzinfo=UTC), "0.1", ("127.0.0.0/24",)
    )
    return AuditReport(info, devices, notes=("kept note from the engine",))


def test_reassess_for_another_audience(make_ident: Callable[..., Identification]) -> None:
    # A year after the data's as-of date, so that the stale note is there to be replaced.
    assessor = Assessor.load(None, today=date(2027, 12, 4))
    report = reassess(_report(make_ident), Audience.GENERIC, assessor)
    federal = reassess(report, Audience.US_FEDERAL_CONTRACTOR, assessor)
    assert federal.audit.profile is Audience.US_FEDERAL_CONTRACTOR
    assert [d.host for d in federal.devices] == [d.host for d in report.devices]
    before, after, unknown = (
        report.devices[0].remediation,
        federal.devices[0].remediation,
        federal.devices[2].remediation,
    )
    assert before is not None and before.action is RemediationAction.ISOLATE
    assert after is not None and after.action is RemediationAction.REPLACE
    assert after.priority == 1  # critical, and a recorder
    assert unknown is not None and unknown.action is RemediationAction.REVIEW
    # Notes are replaced, not stacked, and the engine's own note is kept.
    assert federal.notes.count("kept note from the engine") == 1
    assert sum(n.startswith("Stale data:") for n in federal.notes) == 1
    assert federal.notes[1].startswith("camaudit's exposure assessment is not legal advice")
    # The data bundle in use is named beside the regulatory data it holds.
    assert [v.name for v in federal.audit.data_versions] == ["data bundle", "regulatory data"]


def test_reassessment_sets_each_devices_severity_action_and_889_status(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    report = reassess(_report(make_ident), Audience.US_FEDERAL_CONTRACTOR, assessor)
    worst = [
        (d.max_severity.label, d.remediation and d.remediation.action.value) for d in report.devices
    ]
    # The LTS recorder (a Hikvision relabel), the Axis camera and the unidentified device.
    assert worst == [("critical", "replace"), ("info", "none"), ("high", "review")]
    part_b = [
        [e.status.value for e in d.exposures if e.instrument == "us-ndaa-889-b"]
        for d in report.devices
    ]
    assert part_b == [["covered_if_security_use"], ["not_listed"], []]


def test_staleness_follows_the_date(make_ident: Callable[..., Identification]) -> None:
    as_of = load_regulatory_data().as_of
    fresh = Assessor.load(None, today=as_of + timedelta(days=10))
    assert not fresh.data_versions()[0].stale
    assert not any(n.startswith("Stale data:") for n in fresh.notes())
    old = Assessor.load(None, today=as_of + timedelta(days=120))
    assert old.data_versions()[0].stale
    assert any(f"regulatory data as of {as_of.isoformat()}" in n for n in old.notes())


def test_list_staleness(assets: Path, tmp_path: Path) -> None:
    from auditor.exposure.liststore import import_list

    db = tmp_path / "a.db"
    import_list(db, assets / "opensanctions" / "targets.simple.csv", "opensanctions-csv")
    versions = {v.name: v for v in Assessor.load(db, today=date(2027, 6, 1)).data_versions()}
    assert versions["list opensanctions-csv"].as_of == date(2026, 11, 20)
    assert versions["list opensanctions-csv"].stale
    assert not Assessor.load(db, today=date(2026, 12, 1)).data_versions()[1].stale


# --- the reviewed data itself -----------------------------------------------------------------


def test_reviewed_data_is_sourced_and_consistent() -> None:
    import yaml

    data = load_regulatory_data()
    items: list[Instrument | Entity | Listing] = [
        *data.instruments.values(),
        *data.entities.values(),
        *data.listings,
    ]
    for item in items:
        assert item.source.strip() and item.as_of <= date(2026, 12, 4)
    vendors = set((fingerprints_dir() / "identifiers" / "vendors.txt").read_text().split("\n"))
    for name in (
        "Hikvision",
        "Dahua",
        "Uniview",
        "Tiandy",
        "Xiongmai",
        "HiSilicon",
        "Huawei",
        "Hytera",
        "Axis",
        "Lorex",
        "Skywatch",
        "ZTE",
    ):
        assert name in vendors and name in data.entities, name
    # No SDN listing of Hikvision (or anyone) in the reviewed data: SDN is checked live only.
    assert not [item for item in data.listings if item.instrument == "us-ofac-sdn"]
    # Brands named by a family exist in brands.yaml, and Lorex's dated ownership agrees with it.
    brands = yaml.safe_load((fingerprints_dir() / "brands.yaml").read_text())["brands"]
    known = {b["brand"] for b in brands}
    for entity in data.entities.values():
        assert set(entity.brands) <= known, (entity.id, set(entity.brands) - known)
    lorex_rows = next(b for b in brands if b["brand"] == "Lorex")["ownership"]
    edges = [
        (e.owner, e.since, e.until) for e in data.entities["Lorex"].ownership if not e.supplier
    ]
    assert edges == [(r["owner"], r["from"], r.get("until")) for r in lorex_rows]
    # The Affiliates Rule is dated and uncertain (regulatory.md, update of 2026-11-21).
    rule = data.instruments["us-bis-affiliates-rule"]
    assert rule.uncertain and rule.suspended_until == date(2026, 11, 9)


def test_unsourced_entry_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "regulatory"
    folder.mkdir()
    shipped = fingerprints_dir() / "regulatory"
    for name in (
        "dataset.yaml",
        "instruments.yaml",
        "entities.yaml",
        "listings.yaml",
        "audiences.yaml",
    ):
        (folder / name).write_text((shipped / name).read_text())
    text = (folder / "listings.yaml").read_text()
    (folder / "listings.yaml").write_text(
        text.replace("source: *qc2023, source_kind: secondary, ", "", 1)
    )
    with pytest.raises(
        DataFileError, match=r"listings\[\d+\] \(entity '\w+'\): 'source' is a required"
    ):
        load_regulatory_data(folder)
