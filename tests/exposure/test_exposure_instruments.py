"""Instruments by kind: the reviewed facts, what each kind asks a user to do, and what a device
that is not a camera must never be told.

Dates are pinned (conftest.TODAY, or explicit days), never the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from auditor.errors import DataFileError
from auditor.exposure import Assessor
from auditor.exposure.data import load_regulatory_data
from auditor.exposure.regulatory import INSTRUMENT_KINDS
from auditor.exposure.remediation import recommend
from auditor.models import (
    Audience,
    DeviceType,
    ExposureStatus,
    Identification,
    RemediationAction,
    Severity,
)
from auditor.resources import fingerprints_dir

S = ExposureStatus
R = RemediationAction
#: Publishers whose own pages count as primary for US facts (the issuing authority, the Federal
#: Register and its official copies, the codified regulations and the statute books).
US_PRIMARY_HOSTS = (
    "federalregister.gov",
    "govinfo.gov",
    "ecfr.gov",
    "fcc.gov",
    "treasury.gov",
    "congress.gov",
    "acquisition.gov",
    "defense.gov",
    "trade.gov",
    "texas.gov",
)


def _host_is_primary(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return any(host == h or host.endswith("." + h) for h in US_PRIMARY_HOSTS)


# --- the facts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("maker", "brand", "device_type"),
    [
        ("Hikvision", "Hikvision", DeviceType.NVR),
        ("Hikvision", "Hikvision", DeviceType.IP_CAMERA),
        ("Hikvision", "LTS", DeviceType.IP_CAMERA),
        ("Dahua", "Dahua", DeviceType.IP_CAMERA),
        ("Dahua", "Dahua", DeviceType.DVR),
        ("Dahua", "Lorex", DeviceType.IP_CAMERA),
    ],
)
def test_texas_lists_every_hikvision_and_dahua_device(
    assessor: Assessor,
    make_ident: Callable[..., Identification],
    maker: str,
    brand: str,
    device_type: DeviceType,
) -> None:
    device = make_ident(maker, brand, device_type, oem_relabel=brand != maker)
    result = assessor.assess(device, Audience.US_STATE_TEXAS)
    texas = result.by_instrument()["us-tx-prohibited-tech"]
    assert [(e.status, e.entity, e.severity) for e in texas] == [
        (S.LISTED, maker, Severity.CRITICAL)
    ]
    assert texas[0].since == date(2023, 1, 26)
    assert result.remediation.action is R.REPLACE
    assert "state devices and networks" in result.remediation.why


def test_every_us_instrument_cites_a_primary_source() -> None:
    data = load_regulatory_data()
    us = [i for i in data.instruments.values() if i.jurisdiction.startswith("US")]
    assert len(us) >= 15
    for inst in us:
        assert inst.source_kind == "primary", inst.id
        assert _host_is_primary(inst.source), (inst.id, inst.source)
        assert inst.verified is not None and inst.verified >= data.as_of, inst.id
    # A listing under a US instrument cites a primary source, or says it is uncertain.
    for row in data.listings:
        if data.instruments[row.instrument].jurisdiction.startswith("US"):
            assert row.source_kind == "primary" or row.uncertain, (row.entity, row.instrument)
            if row.source_kind == "primary":
                assert _host_is_primary(row.source), (row.entity, row.instrument, row.source)


def test_every_instrument_has_a_kind_a_status_and_dates() -> None:
    data = load_regulatory_data()
    assert data.as_of == date(2026, 12, 4)
    for inst in data.instruments.values():
        assert inst.kind in INSTRUMENT_KINDS
        assert inst.status in {"in_force", "suspended", "challenged", "proposed", "unverified"}
        assert inst.verified is not None and inst.as_of <= inst.verified
        if inst.source_kind == "secondary" or inst.status == "unverified":
            assert inst.note, f"{inst.id}: a weak or unconfirmed fact must say what is known"
    kinds: dict[str, str] = {i.id: i.kind for i in data.instruments.values()}
    assert kinds["us-bis-entity-list"] == "export_control"
    assert kinds["us-ndaa-889-b"] == "contractor_use_ban"
    assert kinds["us-fcc-covered-list"] == "authorisation_ban"
    assert kinds["ca-ica-hikvision-2025"] == "investment_ban"
    assert kinds["ca-federal-hikvision-2025"] == "procurement_ban"
    assert kinds["in-meity-cctv-2024"] == "certification"
    assert kinds["us-tx-prohibited-tech"] == "state_list"


def test_corrected_dates_and_new_facts() -> None:
    data = load_regulatory_data()
    tiandy = next(
        r for r in data.listings if (r.entity, r.instrument) == ("Tiandy", "us-bis-entity-list")
    )
    assert tiandy.since == date(2022, 12, 16)
    texas_2026 = {
        r.entity
        for r in data.listings
        if r.instrument == "us-tx-prohibited-tech" and r.since == date(2026, 1, 26)
    }
    assert {"TP-Link", "Xiaomi", "Hisense", "NucTech", "Uniview"} <= texas_2026
    notice = data.instruments["us-fcc-2026-06-26-notice"]
    assert notice.status == "unverified" and notice.uncertain and notice.applies_via
    for iid in (
        "us-fcc-25-27-labs",
        "us-fcc-covered-list-uas-2025",
        "us-fcc-covered-list-routers-2026",
    ):
        assert data.instruments[iid].informational, iid
    assert data.instruments["us-fcc-25-71"].status == "challenged"


def test_affiliates_rule_is_suspended_for_its_year_only() -> None:
    rule = load_regulatory_data().instruments["us-bis-affiliates-rule"]
    assert not rule.in_force(date(2025, 9, 1))  # before it took effect
    assert rule.in_force(date(2025, 10, 1))  # in force for six weeks
    assert not rule.in_force(date(2026, 1, 1))  # suspended 2025-11-10 .. 2026-11-09
    assert not rule.in_force(date(2026, 11, 9))
    assert rule.in_force(date(2026, 11, 10))  # due back, whether it returned is unverified
    assert rule.status == "unverified" and rule.uncertain


def test_canada_separates_the_investment_order_from_the_procurement_bar(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    result = assessor.assess(make_ident("Hikvision"), Audience.CA_GOVERNMENT)
    by = result.by_instrument()
    assert by["ca-federal-hikvision-2025"][0].severity is Severity.CRITICAL
    # The ICA order binds Hikvision Canada; the Quebec decree binds Quebec bodies only.
    assert by["ca-ica-hikvision-2025"][0].severity is Severity.INFO
    assert by["ca-qc-decree-2023"][0].severity is Severity.INFO
    assert "Hikvision Canada Inc." in by["ca-ica-hikvision-2025"][0].binds
    assert "Quebec provincial public bodies only" in by["ca-qc-decree-2023"][0].binds


# --- remediation by kind ------------------------------------------------------------------------


def test_entity_list_only_maker_is_not_told_to_replace(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    """Tiandy is on the Entity List only: watch it; Hikvision is named in section 889."""
    for audience in (Audience.GENERIC, Audience.US_FEDERAL_CONTRACTOR, Audience.US_FEDERAL_AGENCY):
        tiandy = assessor.assess(make_ident("Tiandy"), audience)
        hikvision = assessor.assess(make_ident("Hikvision"), audience)
        assert tiandy.by_instrument()["us-bis-entity-list"][0].severity >= Severity.MEDIUM
        assert tiandy.remediation.action is R.MONITOR, tiandy.remediation.why
        assert "not buying or using this device" in tiandy.remediation.why
        assert "52.204" not in tiandy.remediation.why
        assert hikvision.remediation.action in {R.REPLACE, R.ISOLATE}
        assert hikvision.remediation.why != tiandy.remediation.why


def test_contractor_use_ban_gives_inquiry_representation_and_one_day_report(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    result = assessor.assess(make_ident("Dahua"), Audience.US_FEDERAL_CONTRACTOR)
    why = result.remediation.why
    assert result.remediation.action is R.REPLACE
    assert "reasonable inquiry" in why
    assert "52.204-24(d)(2)" in why and "52.204-26(c)(2)" in why
    assert "within one business day (FAR 52.204-25(d)(2)(i))" in why


def test_fcc_rules_never_ask_to_remove_a_camera(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    """Huawei is covered outright by the FCC list; for a user the FCC rules are import rules."""
    for audience in Audience:
        result = assessor.assess(make_ident("Huawei"), audience)
        why = result.remediation.why
        if "FCC Covered List" not in why:
            continue
        # The FCC section is always a watch, whatever else the device calls for.
        assert "Keep it under watch (Authorisation, import and marketing ban: FCC Covered" in why
        assert "import and marketing, not use" in why or "binds others" in why
    texas = assessor.assess(make_ident("Huawei"), Audience.US_STATE_TEXAS)
    assert texas.by_instrument()["us-fcc-covered-list"][0].status is S.COVERED
    assert "the installed unit may stay in service" in texas.remediation.why


def test_certification_rule_asks_for_the_certificate(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    result = assessor.assess(make_ident("Axis"), Audience.IN_GOVERNMENT)
    assert result.remediation.action is R.REVIEW
    assert "certification" in result.remediation.why
    assert "Isolate" not in result.remediation.why


def test_section_889_states_its_four_purposes(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    label = S.COVERED_IF_SECURITY_USE.label
    for purpose in (
        "public safety",
        "government-facility security",
        "critical-infrastructure surveillance",
        "national security",
    ):
        assert purpose in label
    assert "used for security" not in label
    part_b = assessor.assess(make_ident("Hikvision"), Audience.US_FEDERAL_CONTRACTOR)
    effect = part_b.by_instrument()["us-ndaa-889-b"][0].effect
    assert "four purposes" in effect and "physical security surveillance" in effect


def test_actions_of_every_kind_are_merged_without_repeating_reasons(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    from auditor.exposure.remediation import PLANS

    result = assessor.assess(make_ident("Hikvision", device_type=DeviceType.NVR), Audience.GENERIC)
    why = result.remediation.why
    # One device, one remediation: each kind that reaches it says its own steps, once.
    for kind in ("contractor_use_ban", "export_control", "authorisation_ban", "investment_ban"):
        assert why.count(PLANS[kind].steps) == 1, kind
    for audience in Audience:
        for maker in ("Hikvision", "Dahua", "Huawei"):
            result = assessor.assess(make_ident(maker, device_type=DeviceType.NVR), audience)
            why = result.remediation.why
            for name in {e.instrument_name for e in result.exposures}:
                assert why.count(f"{name} (") <= 1, (maker, audience, name)


# --- things that are not cameras ----------------------------------------------------------------


def _not_cameras(make_ident: Callable[..., Identification]) -> dict[str, Identification]:
    return {
        "hp printer": make_ident("HP", "HP", DeviceType.PRINTER),
        "silent address": Identification.unknown(),
        "nginx server": make_ident(None, device_type=DeviceType.SERVER),
        "router": make_ident(None, device_type=DeviceType.ROUTER),
        "unknown type, unknown maker": make_ident(None, device_type=DeviceType.UNKNOWN),
    }


@pytest.mark.parametrize("audience", list(Audience))
def test_non_camera_devices_get_no_cctv_instrument_or_unknown_maker(
    assessor: Assessor, make_ident: Callable[..., Identification], audience: Audience
) -> None:
    cctv = {
        i.id
        for i in assessor.data.instruments.values()
        if i.device_scope == "video" or i.applies_to_all_video
    }
    assert {"uk-wms-2022-11-24", "in-meity-cctv-2024"} <= cctv
    for label, device in _not_cameras(make_ident).items():
        result = assessor.assess(device, audience)
        assert not [e for e in result.exposures if e.instrument in cctv], label
        assert not [e for e in result.exposures if e.status is S.UNKNOWN], label
        assert result.remediation.action is R.NONE, (label, result.remediation.why)
        assert result.max_severity <= Severity.INFO, label
    # A camera of unknown make is still never clean, and India's CCTV rule still reaches it.
    camera = assessor.assess(make_ident(None, device_type=DeviceType.CAMERA), audience)
    assert [e.status for e in camera.exposures if e.status is S.UNKNOWN] == [S.UNKNOWN]
    assert camera.remediation.action is R.REVIEW
    if audience is Audience.IN_GOVERNMENT:
        assert "in-meity-cctv-2024" in camera.by_instrument()


@pytest.mark.parametrize("audience", list(Audience))
def test_not_listed_never_drives_an_action(
    assessor: Assessor, make_ident: Callable[..., Identification], audience: Audience
) -> None:
    devices = [
        make_ident(m, device_type=t)
        for m in ("Hikvision", "Dahua", "Xiongmai", "Axis", "Lorex", "TP-Link", "HP", "Uniview")
        for t in (DeviceType.IP_CAMERA, DeviceType.NVR)
    ]
    for device in devices:
        result = assessor.assess(device, audience)
        for e in result.exposures:
            if e.status is S.NOT_LISTED:
                assert e.severity <= Severity.INFO, e
        kept = [e for e in result.exposures if e.status is not S.NOT_LISTED]
        without = recommend(device, kept, assessor.data.instruments)
        assert without.action is result.remediation.action, (device.manufacturer, audience)
        assert without.why == result.remediation.why
        assert "(not listed)" not in result.remediation.why


def test_unverified_listing_is_context_not_an_action(
    tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    """Were Hikvision's Texas listing unconfirmed, Texas would show it and not act on it."""
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
    listings = (folder / "listings.yaml").read_text()
    row = "{entity: Hikvision, instrument: us-tx-prohibited-tech, status: listed"
    assert row in listings
    (folder / "listings.yaml").write_text(
        listings.replace(row, row.replace("listed", "unverified"))
    )
    assessor = Assessor.load(None, today=date(2026, 12, 4), data=load_regulatory_data(folder))
    result = assessor.assess(
        make_ident("Hikvision", "LTS", oem_relabel=True), Audience.US_STATE_TEXAS
    )
    texas = result.by_instrument()["us-tx-prohibited-tech"][0]
    assert texas.status is S.NOT_LISTED and texas.uncertain and texas.severity is Severity.INFO
    assert "Texas" not in result.remediation.why


# --- the data files are checked -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "bad", "message"),
    [
        ("kind: export_control\n", "kind: embargo\n", "kind: 'embargo' is not one of"),
        ("status: in_force\n", "status: maybe\n", "status: 'maybe' is not one of"),
        ("source_kind: primary\n", "source_kind: blog\n", "source_kind: 'blog' is not one of"),
        ("    verified: 2026-12-04\n", "", "'verified' is a required property"),
    ],
)
def test_instrument_fields_are_validated(
    tmp_path: Path, field: str, bad: str, message: str
) -> None:
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
    text = (folder / "instruments.yaml").read_text()
    assert field in text
    (folder / "instruments.yaml").write_text(text.replace(field, bad, 1))
    with pytest.raises(DataFileError, match=message):
        load_regulatory_data(folder)


def test_an_unconfirmed_fcc_notice_is_shown_as_such_with_what_is_known(
    assessor: Assessor, make_ident: Callable[..., Identification]
) -> None:
    result = assessor.assess(make_ident("Hikvision"), Audience.US_FEDERAL_AGENCY)
    (notice,) = result.by_instrument()["us-fcc-2026-06-26-notice"]
    assert notice.uncertain and notice.status is S.COVERED_IF_SECURITY_USE
    assert notice.effect.startswith("Not confirmed from the issuing authority's own publication.")
    assert "See also: https://vpncentral.com/" in notice.effect
    assert notice.source.startswith("https://www.govinfo.gov/")  # the procedure it applies
    challenged = result.by_instrument()["us-fcc-25-71"][0]
    assert challenged.effect.startswith("Challenged in court")
