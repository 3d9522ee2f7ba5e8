"""`camaudit diff` for pipelines (formats, --fail-on, exit codes, matching without MACs) and
`report A B` over audits of one site (each device once)."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.cli.app import main
from auditor.history.compare import MatchBasis, diff
from auditor.models import AuditId, AuditReport, DeviceResult
from auditor.resources import reports_dir
from auditor.store import Store
from tests.render.camaudit_sample_audit import sample_report

FIRST, SECOND = "20261121T090000Z-hq", "20261221T090000Z-hq"


def _save(store: Store, report: AuditReport) -> None:
    store.begin_audit(report.audit)
    for d in report.devices:
        store.save_device(report.audit.id, d)
    if report.audit.finished:
        store.finish_audit(report.audit.id, report.audit.finished, report.notes)


def _a_month_later(report: AuditReport, devices: tuple[DeviceResult, ...]) -> AuditReport:
    audit = dataclasses.replace(
        report.audit,
        id=AuditId(SECOND),
        started=report.audit.started + timedelta(days=30),
        finished=report.audit.finished + timedelta(days=30) if report.audit.finished else None,
    )
    return AuditReport(audit=audit, devices=devices, notes=report.notes)


def _escalated() -> tuple[AuditReport, AuditReport]:
    """A month later the unknown device at .13 is found to be reached by the FCC Covered List
    (high); the camera that timed out and the hostile DVR are gone."""
    first = sample_report()
    d = first.devices
    fcc = next(e for e in d[0].exposures if e.instrument == "us-fcc-covered-list")
    assert fcc.severity.label == "high"
    worse = dataclasses.replace(d[2], exposures=(*d[2].exposures, fcc))
    return first, _a_month_later(first, (d[0], d[1], worse))


@pytest.fixture
def escalated_db(store_location: Path | str) -> Path | str:
    """The two audits in a store, on each engine (`diff` and `report` take either)."""
    path = store_location
    with Store(path) as store:
        for report in _escalated():
            _save(store, report)
    return path


def _diff_json(
    db: Path | str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(["diff", FIRST, SECOND, "--db", str(db), "-f", "json", *extra])
    doc: dict[str, Any] = json.loads(capsys.readouterr().out)
    return code, doc


def test_diff_json_fails_on_a_new_high_exposure(
    escalated_db: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, doc = _diff_json(escalated_db, capsys, "--fail-on", "high")
    assert code == 1
    schema = json.loads((reports_dir() / "schema" / "camaudit-diff-1.schema.json").read_text())
    jsonschema.validate(doc, schema)
    assert doc["gate"] == {
        "fail_on": "high",
        "reached": True,
        "new_audit_incomplete": False,
        "incomplete_because": [],
        "exit_code": 1,
    }
    (hit,) = [e for e in doc["escalations"] if e["reaches_fail_on"]]
    assert (hit["address"], hit["instrument"], hit["severity"], hit["before"]) == (
        "10.20.0.13",
        "us-fcc-covered-list",
        "high",
        None,
    )
    assert hit["source"].startswith("https://www.fcc.gov/")
    assert doc["summary"]["gone"] == 2 and doc["summary"]["new"] == 0
    assert {d["address"] for d in doc["devices"]["gone"]} == {"10.20.0.14", "10.20.0.66"}


def test_diff_gate_follows_fail_on_and_exit_zero(
    escalated_db: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    # High is below critical: nothing new reaches it, and the later audit is complete.
    code, doc = _diff_json(escalated_db, capsys, "--fail-on", "critical")
    assert code == 0 and doc["gate"]["reached"] is False and doc["gate"]["exit_code"] == 0
    assert main(["diff", FIRST, SECOND, "--db", str(escalated_db), "--exit-zero"]) == 0
    out = capsys.readouterr().out
    assert "New or worsened exposures at high or above" in out
    # The reverse direction improves things: nothing new, the earlier audit's gaps are gone.
    assert main(["diff", SECOND, FIRST, "--db", str(escalated_db)]) == 3  # .14 timed out
    out = capsys.readouterr().out
    assert "The later audit is incomplete: 1 camera(s) or possible camera(s) not fully " in out
    assert "probed: 10.20.0.14" in out


def test_diff_markdown_to_a_file_neutralises_device_strings(
    escalated_db: Path | str, tmp_path: Path
) -> None:
    target = tmp_path / "changes.md"
    args = ["diff", FIRST, SECOND, "--db", str(escalated_db), "-f", "markdown", "-o", str(target)]
    assert main(args) == 1
    text = target.read_text()
    assert text.startswith(f"# Changes from {FIRST} (Headquarters, 2026-11-21)")
    assert "## New or worsened exposures at high or above" in text
    assert "## Gone devices" in text and "10.20.0.66" in text
    assert "<img" not in text and "&lt;img" in text and "\x1b" not in text


def _readdressed(report: AuditReport, subnet: str) -> AuditReport:
    """The same devices on another subnet, none with a MAC (a routed or loopback site)."""
    net = ipaddress.ip_network(subnet)
    devices = tuple(
        dataclasses.replace(
            d,
            host=dataclasses.replace(
                d.host, address=net.network_address + int(d.host.address) % 256, mac=None
            ),
        )
        for d in report.devices
    )
    return dataclasses.replace(report, devices=devices)


def test_devices_without_a_mac_on_a_new_subnet_are_matched_not_new() -> None:
    first = _readdressed(sample_report(), "10.20.0.0/24")
    second = _readdressed(sample_report(), "127.77.0.0/24")
    result = diff(first, second)
    assert not result.added and not result.gone
    assert result.moved == len(second.devices) == 5
    basis = {str(c.new.host.address): c.basis for c in result.changed}
    assert basis["127.77.0.11"] is MatchBasis.SERIAL
    assert basis["127.77.0.14"] is MatchBasis.IDENTITY  # Axis camera, no serial
    assert basis["127.77.0.13"] is MatchBasis.BANNERS  # maker unknown: its title
    assert all(c.fields == (("address", c.fields[0][1], c.fields[0][2]),) for c in result.changed)
    assert result.escalations() == ()


def test_a_different_serial_at_the_same_address_is_a_replaced_device() -> None:
    first = sample_report()
    camera = first.devices[0]
    swapped = dataclasses.replace(
        camera,
        host=dataclasses.replace(camera.host, mac=None),
        identification=dataclasses.replace(camera.identification, serial="CMIP8242WB2026OTHER"),
    )
    second = dataclasses.replace(first, devices=(swapped, *first.devices[1:]))
    result = diff(first, second)
    assert [str(d.host.address) for d in result.added] == ["10.20.0.11"]
    assert [str(d.host.address) for d in result.gone] == ["10.20.0.11"]
    # Its exposures are new on a new device: a pipeline gating on critical fails.
    assert {e.instrument for e in result.escalations()} >= {"us-ndaa-889"}


def test_two_cameras_claiming_one_serial_match_by_something_else() -> None:
    first = sample_report()
    a, b = first.devices[0], first.devices[1]
    same = a.identification.serial
    twin = dataclasses.replace(b, identification=dataclasses.replace(b.identification, serial=same))
    first = dataclasses.replace(first, devices=(a, twin))
    result = diff(first, first)
    assert result.is_empty and result.unchanged == 2  # by MAC: the shared serial decides nothing


def test_report_of_two_audits_of_one_site_counts_each_device_once(
    escalated_db: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "both.json"
    # --as-recorded: the stored assessments (report re-assesses by default, which would replace
    # the hand-made escalation below with the reviewed data's own findings).
    args = ["report", FIRST, SECOND, "--db", str(escalated_db), "--as-recorded", "-f", "json"]
    args += ["-o", str(target)]
    assert main(args) == 0
    doc = json.loads(target.read_text())
    by_address = [d["address"] for d in doc["devices"]]
    # 3 devices seen in both audits (from the later one) and 2 seen only in the first.
    assert sorted(by_address) == [f"10.20.0.{n}" for n in (11, 12, 13, 14, 66)]
    assert doc["summary"]["devices"] == 5
    later = next(d for d in doc["devices"] if d["address"] == "10.20.0.13")
    assert "us-fcc-covered-list" in {e["instrument"] for e in later["exposures"]}
    assert doc["audit"]["site"] == "Headquarters"
    notes = " ".join(doc["audit"]["notes"])
    assert "same site" in notes and "counted once" in notes
    assert "3 devices seen in both" in notes and "2 seen only in" in notes
    assert "counted once" in capsys.readouterr().err


def test_all_sites_leaves_the_demo_site_out(
    escalated_db: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from auditor.history.combine import DEMO_SITE

    demo = sample_report()
    demo = dataclasses.replace(
        demo,
        audit=dataclasses.replace(demo.audit, id=AuditId("20261122T090000Z-demo"), site=DEMO_SITE),
    )
    with Store(escalated_db) as store:
        _save(store, demo)
    target = tmp_path / "org.json"
    args = ["report", "--all-sites", "--db", str(escalated_db), "-f", "json", "-o", str(target)]
    assert main(args) == 0
    doc = json.loads(target.read_text())
    if isinstance(escalated_db, str):  # a central store: the organisation view
        assert [s["latest"]["audit"] for s in doc["sites"]] == [SECOND]
        assert doc["totals"]["devices"] == 3
    else:
        assert doc["audit"]["id"] == SECOND and len(doc["devices"]) == 3
    assert "leaving out the demo site" in capsys.readouterr().err


def test_three_audits_of_one_site_keep_each_device_once_from_its_latest_sighting() -> None:
    from auditor.history.combine import combine

    first, second = _escalated()
    third = dataclasses.replace(
        second,
        audit=dataclasses.replace(
            second.audit,
            id=AuditId("20270121T090000Z-hq"),
            started=second.audit.started + timedelta(days=31),
            finished=None,
        ),
        devices=second.devices[:2],
    )
    merged = combine([third, first, second])  # in any order: the dates decide
    assert [str(d.host.address) for d in merged.devices] == [
        "10.20.0.11",
        "10.20.0.12",  # from the third audit
        "10.20.0.13",  # from the second: it carries the FCC exposure found then
        "10.20.0.14",
        "10.20.0.66",  # only in the first
    ]
    assert merged.devices[2].max_severity.label == "high"
    (note,) = [n for n in merged.notes if n.startswith("Audits of the same site")]
    assert "3 devices seen in more than one, 2 seen only in an earlier audit" in note
    assert merged.audit.finished is None  # the latest part was interrupted
