"""`camaudit audits`, `report` and `diff` against a real store file."""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import jsonschema
import pytest

from auditor.cli.app import main
from auditor.models import AuditId, AuditReport, Identification
from auditor.resources import reports_dir
from auditor.store import Store
from tests.render.camaudit_sample_audit import sample_report
from tests.store.store_engines import save_report


def _save(store: Store, report: AuditReport) -> None:
    save_report(store, report)


def _later(report: AuditReport) -> AuditReport:
    """A month later: one camera gone, one new, one moved address, one re-identified."""
    devices = list(report.devices)
    moved = dataclasses.replace(
        devices[0],
        host=dataclasses.replace(devices[0].host, address=ipaddress.ip_address("10.20.0.111")),
    )
    reidentified = dataclasses.replace(
        devices[2], identification=devices[3].identification, exposures=()
    )
    new = dataclasses.replace(
        devices[3],
        host=dataclasses.replace(
            devices[3].host, address=ipaddress.ip_address("10.20.0.77"), mac="ac:cc:8e:99:99:99"
        ),
    )
    audit = dataclasses.replace(
        report.audit,
        id=AuditId("20261221T090000Z-hq"),
        started=report.audit.started + timedelta(days=30),
        finished=report.audit.finished + timedelta(days=30) if report.audit.finished else None,
    )
    return AuditReport(audit=audit, devices=(moved, devices[1], reidentified, new))


@pytest.fixture
def db(store_location: Path | str) -> Path | str:
    """A store with three audits, on each engine: `--db` takes the file or the URL alike."""
    path = store_location
    with Store(path) as store:
        first = sample_report()
        _save(store, first)
        _save(store, _later(first))
        branch = dataclasses.replace(
            first,
            audit=dataclasses.replace(
                first.audit, id=AuditId("20261120T080000Z-br"), site="Branch", finished=None
            ),
            devices=first.devices[:2],
        )
        _save(store, branch)
    return path


def test_audits_lists_every_audit(db: Path | str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audits", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "20261121T090000Z-hq" in out and "20261221T090000Z-hq" in out
    assert "interrupted" in out  # the branch audit never finished


def test_report_latest_as_json(db: Path | str, tmp_path: Path) -> None:
    target = tmp_path / "latest.json"
    assert main(["report", "--db", str(db), "-f", "json", "-o", str(target)]) == 0
    doc = json.loads(target.read_text())
    assert doc["audit"]["id"] == "20261221T090000Z-hq"
    assert len(doc["devices"]) == 4


def test_report_by_prefix_in_several_formats(db: Path | str, tmp_path: Path) -> None:
    base = tmp_path / "q4"
    args = ["report", "20261121", "--db", str(db), "-f", "html", "-f", "csv", "-o", str(base)]
    assert main(args) == 0
    assert "Headquarters" in (tmp_path / "q4.html").read_text()
    assert (tmp_path / "q4.csv").read_text(encoding="utf-8-sig").startswith("record,")


def test_combined_report_of_several_sites(db: Path | str, tmp_path: Path) -> None:
    target = tmp_path / "org.json"
    assert main(["report", "--all-sites", "--db", str(db), "-f", "json", "-o", str(target)]) == 0
    doc = json.loads(target.read_text())
    if isinstance(db, str):
        # A central store answers --all-sites with the organisation view, counted in SQL (it
        # may hold hundreds of audits); the device-level report takes audit ids (below).
        assert doc["kind"] == "camaudit-organisation-view"
        assert {s["site"] for s in doc["sites"]} == {"Headquarters", "Branch"}
        assert doc["totals"]["devices"] == 4 + 2  # the latest HQ audit and the branch audit
        assert [s["latest"]["finished"] for s in doc["sites"]].count(None) == 1  # interrupted
    else:
        assert {d["site"] for d in doc["devices"]} == {"Headquarters", "Branch"}
        assert len(doc["devices"]) == 4 + 2  # the latest HQ audit and the branch audit
        assert doc["audit"]["site"].startswith("Organisation (2 sites")
        assert doc["audit"]["finished"] is None  # one part was interrupted
    target2 = tmp_path / "org2.json"
    assert (
        main(
            [
                "report",
                "20261121T090000Z-hq",
                "20261120",
                "--db",
                str(db),
                "-f",
                "json",
                "-o",
                str(target2),
            ]
        )
        == 0
    )
    assert len(json.loads(target2.read_text())["devices"]) == 5 + 2


def test_report_errors_are_clear(
    db: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "nope", "--db", str(db)]) == 2
    assert "no audit 'nope'" in capsys.readouterr().err
    assert main(["report", "2026", "--db", str(db)]) == 2
    assert "matches several audits" in capsys.readouterr().err
    assert main(["audits", "--db", str(tmp_path / "missing.db")]) == 2
    assert "no audit store" in capsys.readouterr().err
    assert not (tmp_path / "missing.db").exists()


def test_diff_shows_new_gone_moved_and_changed(
    db: Path | str, capsys: pytest.CaptureFixture[str]
) -> None:
    # The later audit has a camera whose probes timed out: incomplete, as `scan` would say.
    assert main(["diff", "20261121", "20261221", "--db", str(db)]) == 3
    out = capsys.readouterr().out
    assert "1 new, 2 gone, 2 changed (1 moved address), 1 unchanged" in out
    assert "10.20.0.77" in out  # new
    assert "10.20.0.111" in out  # moved (matched by MAC)
    assert "manufacturer" in out and "Axis" in out  # re-identified


def test_diff_logic_matches_by_mac_then_address() -> None:
    from auditor.history.compare import diff

    old = sample_report()
    new = _later(old)
    result = diff(old, new)
    assert [str(d.host.address) for d in result.added] == ["10.20.0.77"]
    assert sorted(str(d.host.address) for d in result.gone) == ["10.20.0.14", "10.20.0.66"]
    moved = next(c for c in result.changed if str(c.new.host.address) == "10.20.0.111")
    assert moved.fields == (("address", "10.20.0.11", "10.20.0.111"),)
    reid = next(c for c in result.changed if str(c.new.host.address) == "10.20.0.13")
    assert ("manufacturer", "-", "Axis") in reid.fields
    assert [e.instrument for e in reid.exposures] == ["manual-review"]
    assert reid.exposures[0].after is None
    same = diff(old, old)
    assert same.is_empty and same.unchanged == 5
    assert Identification.unknown().manufacturer is None


def test_report_reassesses_for_another_profile(db: Path | str, tmp_path: Path) -> None:
    target = tmp_path / "generic.json"
    code = main(
        [
            "report",
            "20261121",
            "--db",
            str(db),
            "--profile",
            "generic",
            "-f",
            "json",
            "-o",
            str(target),
        ]
    )
    assert code == 0
    doc = json.loads(target.read_text())
    schema = json.loads(
        (reports_dir() / "schema" / "camaudit-report-1.schema.json").read_text(encoding="utf-8")
    )
    jsonschema.validate(doc, schema)  # real assessor output keeps the contract too
    assert doc["audit"]["profile"] == "generic"
    # The re-assessment comes from the exposure data, not from the stored exposures.
    stored = {e.instrument for e in sample_report().devices[0].exposures}
    assert doc["devices"][0]["exposures"]
    assert {e["instrument"] for e in doc["devices"][0]["exposures"]} != stored


def test_report_console_and_template_dir(
    db: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "20261121", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "Camera audit Headquarters" in out and "REPLACE (2)" in out
    brand = tmp_path / "brand"
    brand.mkdir()
    (brand / "disclaimer.html").write_text(
        "<p>Prepared by Acme Risk Partners. {{ DISCLAIMER }}</p>"
    )
    target = tmp_path / "acme.html"
    args = ["report", "20261121", "--db", str(db), "-f", "html", "-o", str(target)]
    assert main([*args, "--template-dir", str(brand)]) == 0
    html = target.read_text()
    assert "Prepared by Acme Risk Partners" in html and "not legal advice" in html


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("unshare") is None,
    reason="needs root and unshare for a read-only bind mount",
)
def test_a_store_on_a_read_only_medium_can_be_reported(db: Path | str, tmp_path: Path) -> None:
    if not isinstance(db, Path):
        pytest.skip("a file on a read-only medium is SQLite's case")
    # An archived audit on a read-only share: `report` and `audits` must read it, not refuse it
    # because SQLite cannot switch it to WAL or create its -shm index there.
    folder = db.parent
    out = tmp_path.parent / f"{tmp_path.name}-out.json"
    script = (
        f"mount --bind {folder} {folder} && mount -o remount,bind,ro {folder} {folder} && "
        f"touch {folder}/probe 2>/dev/null && echo WRITABLE; "
        f"{sys.executable} -m auditor report --db {db} -f json -o {out} && "
        f"{sys.executable} -m auditor audits --db {db}"
    )
    done = subprocess.run(
        ["unshare", "-m", "--propagation", "private", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "WRITABLE" not in done.stdout
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text())["audit"]["id"] == "20261221T090000Z-hq"
    assert "Branch" in done.stdout


def test_report_says_where_it_wrote_like_scan_does_and_honours_detail(
    db: Path | str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    summary, full = tmp_path / "summary.html", tmp_path / "full.html"
    args = ["report", "20261121", "--db", str(db), "-f", "html"]
    assert main([*args, "--detail", "summary", "-o", str(summary)]) == 0
    assert main([*args, "--detail", "full", "-o", str(full)]) == 0
    err = capsys.readouterr().err
    # The same last line as `camaudit scan` and `camaudit demo` (auditor.cli.console).
    assert f"camaudit: report written to {summary}" in err
    assert f"camaudit: report written to {full}" in err
    assert 'id="evidence"' not in summary.read_text()
    assert 'id="evidence"' in full.read_text()
