"""What a re-rendered report says about its data: the bundle, its age, lists, not legal advice."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.clock import TODAY_ENV
from auditor.models import AuditReport, DataVersion
from auditor.render import FormatName, renderer
from auditor.render.pdf_format import find_chromium
from auditor.store import Store
from tests.databundle.databundle_helpers import AS_OF, SHIPPED_AS_OF, TODAY, make_source
from tests.databundle.test_data_bundle import release
from tests.render.camaudit_sample_audit import sample_report

ASSETS = Path(__file__).resolve().parent.parent / "exposure" / "assets"
FORMATS = ("json", "csv", "markdown", "html", "console", "cyclonedx")
SUFFIX = {
    "json": "json",
    "csv": "csv",
    "markdown": "md",
    "html": "html",
    "console": "txt",
    "cyclonedx": "cdx.json",
}


def _save(store: Store, report: AuditReport) -> None:
    store.begin_audit(report.audit)
    for d in report.devices:
        store.save_device(report.audit.id, d)
    if report.audit.finished:
        store.finish_audit(report.audit.id, report.audit.finished, report.notes)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "camaudit.db"
    with Store(path) as store:
        _save(store, sample_report())
    return path


def render_all(db: Path, out: Path) -> dict[str, str]:
    args = ["report", "--db", str(db), "-o", str(out / "report")]
    for fmt in FORMATS:
        args += ["-f", fmt]
    assert main(args) == 0
    return {f: (out / f"report.{SUFFIX[f]}").read_text(encoding="utf-8-sig") for f in FORMATS}


def summary_of(html: str) -> str:
    start = html.index('<section id="summary"')
    return html[start : html.index("</section>", start)]


def test_every_report_names_the_bundle_in_use(
    tmp_path: Path,
    test_key: Path,
    data_dir: Path,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(TODAY_ENV, TODAY.isoformat())
    bundle = release(
        make_source(tmp_path, AS_OF, "2026.12.01-test"),
        tmp_path / "b.tar.gz",
        test_key,
        "2026.12.0",
    )
    assert main(["data", "update", str(bundle)]) == 0
    reports = render_all(db, tmp_path)
    for fmt, text in reports.items():
        assert "bundle 2026.12.0" in text, fmt
        assert f"as of {AS_OF}" in text, fmt
        assert "STALE DATA" not in text, fmt  # three days old
    doc = json.loads(reports["json"])
    bundle_row = next(v for v in doc["audit"]["data_versions"] if v["name"] == "data bundle")
    assert (
        bundle_row["version"].startswith("bundle 2026.12.0")
        and bundle_row["as_of"] == AS_OF.isoformat()
    )
    assert "bundle 2026.12.0" in summary_of(reports["html"])
    # The default output, the console on stdout, names it too.
    capsys.readouterr()
    assert main(["report", "--db", str(db)]) == 0
    assert "Data: bundle 2026.12.0" in capsys.readouterr().out


@pytest.mark.parametrize("age", [104, 469])
def test_stale_data_and_not_legal_advice_reach_every_format(
    tmp_path: Path,
    data_dir: Path,
    db: Path,
    monkeypatch: pytest.MonkeyPatch,
    age: int,
) -> None:
    # The shipped data, some months and more than a year past its as-of date.
    monkeypatch.setenv(TODAY_ENV, (SHIPPED_AS_OF + timedelta(days=age)).isoformat())
    reports = render_all(db, tmp_path)
    for fmt, text in reports.items():
        flat = " ".join(text.split())
        assert "not legal advice" in flat, fmt
        assert "STALE DATA" in flat and "camaudit data update BUNDLE" in flat, fmt
        assert f"as of {SHIPPED_AS_OF}" in flat, fmt
    rows = list(csv.DictReader(io.StringIO(reports["csv"])))
    notices = [r for r in rows if r["record"] == "notice"]
    assert rows[: len(notices)] == notices  # before any device row
    assert {"legal", "data", "stale", "lists"} <= {r["status"] for r in notices}
    stale = next(r for r in notices if r["status"] == "stale")
    assert stale["since"] == SHIPPED_AS_OF.isoformat() and "camaudit data update" in stale["effect"]
    summary = " ".join(summary_of(reports["html"]).split())
    assert "Not legal advice." in summary and "STALE DATA" in summary
    assert "camaudit data update BUNDLE" in summary
    # The console's first lines, before any table: a reader cannot miss them.
    head = " ".join(reports["console"].split("devices")[0].split())
    assert "not legal advice" in head and "STALE DATA" in head
    assert f"is {age} days old" in reports["json"]


def test_imported_lists_take_effect_when_a_stored_audit_is_rendered_again(
    tmp_path: Path, data_dir: Path, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TODAY_ENV, TODAY.isoformat())
    sdn = ASSETS / "ofac_new" / "SDN.CSV"  # a SYNTHETIC SDN row for Hikvision (see README)
    assert main(["lists", "import", str(sdn), "--kind", "ofac-sdn", "--db", str(db)]) == 0
    target = tmp_path / "r.json"
    assert main(["report", "--db", str(db), "-f", "json", "-o", str(target)]) == 0
    doc = json.loads(target.read_text())
    notes = " ".join(doc["audit"]["notes"])
    assert "No official list imported" not in notes
    assert re.search(rf"Re-assessed on {TODAY} .* ofac-sdn \(SDN.CSV\)", notes)
    assert doc["audit"]["profile"] == "us-federal-contractor"  # the audit's own audience
    hik = next(d for d in doc["devices"] if d["manufacturer"] == "Hikvision")
    sdn_hits = [e for e in hik["exposures"] if e["instrument"] == "us-ofac-sdn"]
    assert sdn_hits and sdn_hits[0]["status"] != "not_listed"
    assert any(v["name"] == "list ofac-sdn" for v in doc["audit"]["data_versions"])
    # Asked for the assessment as recorded, the report says plainly what it does not apply.
    assert main(["report", "--db", str(db), "--as-recorded", "-f", "json", "-o", str(target)]) == 0
    doc = json.loads(target.read_text())
    kinds = {n["kind"]: n["text"] for n in doc["audit"]["notices"]}
    assert "NOT APPLIED" in kinds["not-applied"] and "ofac-sdn SDN.CSV" in kinds["not-applied"]
    hik = next(d for d in doc["devices"] if d["manufacturer"] == "Hikvision")
    assert not any(e["instrument"] == "us-ofac-sdn" for e in hik["exposures"])


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(
    find_chromium() is None or shutil.which("pdftotext") is None,
    reason="needs chromium and pdftotext (apt-get install chromium poppler-utils)",
)
def test_the_pdf_says_it_on_its_first_page(tmp_path: Path) -> None:
    # The issue: the stale warning was on page 106 of 107. Now it heads the executive summary.
    report = sample_report()
    stale = DataVersion("data bundle", "shipped with camaudit 0.1.0", SHIPPED_AS_OF, "", True)
    report = dataclasses.replace(
        report,
        audit=dataclasses.replace(report.audit, data_versions=(stale,)),
    )
    path = tmp_path / "report.pdf"
    path.write_bytes(renderer(FormatName.PDF).render(report))
    first = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    flat = " ".join(first.split())
    assert "Executive summary" in flat and "not legal advice" in flat
    assert "STALE DATA" in flat and "camaudit data update BUNDLE" in flat
    assert f"as of {SHIPPED_AS_OF}" in flat
