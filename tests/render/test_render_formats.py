"""Every format renders the shared fixture audit; golden files pin the output.

Regenerate the golden files after an intended change with:
    CAMAUDIT_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/render/test_render_formats.py
and review the diff.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from auditor.history.combine import combine
from auditor.models import AuditId, AuditReport
from auditor.render import FORMATS, FormatName, renderer
from auditor.render.json_format import SCHEMA_FILE, SCHEMA_VERSION
from auditor.resources import reports_dir
from tests.render.camaudit_sample_audit import (
    HOSTILE_MODEL,
    audit_info,
    sample_report,
)

GOLDEN = Path(__file__).parent / "golden"
TEXT_FORMATS = [f for f in FormatName if not FORMATS[f].binary]


def test_registry_is_exhaustive() -> None:
    assert set(FORMATS) == set(FormatName)
    suffixes = [cls.suffix for cls in FORMATS.values()]
    assert len(suffixes) == len(set(suffixes))


@pytest.mark.parametrize("fmt", TEXT_FORMATS, ids=str)
def test_golden(fmt: FormatName) -> None:
    out = renderer(fmt).render(sample_report())
    path = GOLDEN / f"sample.{FORMATS[fmt].suffix}"
    if os.environ.get("CAMAUDIT_REGEN_GOLDEN"):
        path.write_bytes(out)
    assert path.is_file(), f"missing golden file {path}; run with CAMAUDIT_REGEN_GOLDEN=1"
    assert out == path.read_bytes(), f"{fmt} output changed; review and regenerate {path}"


@pytest.mark.parametrize("fmt", TEXT_FORMATS, ids=str)
def test_renderers_are_pure(fmt: FormatName) -> None:
    assert renderer(fmt).render(sample_report()) == renderer(fmt).render(sample_report())


def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (reports_dir() / "schema" / SCHEMA_FILE).read_text(encoding="utf-8")
    )
    return schema


def _validate(report: AuditReport) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(renderer(FormatName.JSON).render(report))
    jsonschema.validate(
        doc, _schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    return doc


def test_json_validates_against_the_shipped_schema() -> None:
    doc = _validate(sample_report())
    assert doc["schema_version"] == SCHEMA_VERSION
    audit = doc["audit"]
    assert {"id", "site", "started", "finished", "profile", "scope", "data_versions"} <= set(audit)
    hik = doc["devices"][0]
    assert hik["manufacturer"] == "Hikvision" and hik["brand"] == "LTS" and hik["oem_relabel"]
    assert [p["probe"] for p in hik["probes"]] == ["http", "isapi", "onvif"]
    assert hik["probes"][2] == {
        "probe": "onvif",
        "outcome": "not_run",
        "reason": "no_credentials",
        "detail": "GetDeviceInformation needs credentials",
        "duration_s": 0.0,
    }
    assert {e["instrument"] for e in hik["exposures"]} == {
        "us-ndaa-889",
        "us-fcc-covered-list",
        "us-bis-entity-list",
    }
    unknown = doc["devices"][2]
    assert unknown["manufacturer"] is None
    assert doc["summary"]["by_manufacturer"]["unknown"] == 1
    assert doc["summary"]["by_severity"]["critical"] == 2
    assert doc["summary"]["by_instrument"]["us-ndaa-889"] == 2
    assert audit["evidence_sha256"] == sample_report().evidence_sha256


def test_json_schema_accepts_empty_interrupted_and_combined_audits() -> None:
    empty = AuditReport(audit=dataclasses.replace(audit_info(), finished=None))
    assert _validate(empty)["audit"]["finished"] is None
    other = sample_report()
    branch = dataclasses.replace(
        other, audit=dataclasses.replace(other.audit, id=AuditId("branch-1"), site="Branch")
    )
    doc = _validate(combine([sample_report(), branch]))
    assert {d["site"] for d in doc["devices"]} == {"Headquarters", "Branch"}
    assert len(doc["devices"]) == 10


def test_json_schema_rejects_a_broken_document() -> None:
    doc = json.loads(renderer(FormatName.JSON).render(sample_report()))
    del doc["devices"][0]["oem_relabel"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, _schema())


def test_hostile_strings_are_escaped_in_html() -> None:
    html = renderer(FormatName.HTML).render(sample_report()).decode()
    # No device string becomes markup: the only tags are the template's.
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "<b>bold</b>" not in html
    assert "&lt;script&gt;alert(&#39;brand&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "\x1b" not in html and "\x07" not in html
    # Only in-page anchors and web sources are links (no file:, javascript: or formula hrefs).
    for href in re.findall(r'href="([^"]*)"', html):
        assert href.startswith(("#", "https://")), href
    assert "Content-Security-Policy" in html and "default-src 'none'" in html


def test_hostile_strings_are_neutralised_in_csv() -> None:
    raw = renderer(FormatName.CSV).render(sample_report()).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(raw)))
    assert {r["record"] for r in rows} == {"notice", "device", "exposure"}
    # The notices come first, so a reader sees them before any device.
    assert [r["status"] for r in rows[:2]] == ["legal", "data"]
    assert "not legal advice" in rows[0]["effect"] and rows[1]["since"] == "2026-08-22"
    assert sum(r["record"] == "device" for r in rows) == 5
    assert sum(r["record"] == "exposure" for r in rows) == 8
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
            assert "\x1b" not in value and "\n" not in value
    hostile = next(r for r in rows if r["address"] == "10.20.0.66" and r["record"] == "device")
    assert hostile["model"].startswith("'=cmd|")
    assert hostile["firmware"].startswith("'+SUM(1+1)")
    exposure = next(r for r in rows if r["address"] == "10.20.0.66" and r["record"] == "exposure")
    assert exposure["entity"] == "'-2+3"


def test_console_strips_control_characters() -> None:
    text = renderer(FormatName.CONSOLE).render(sample_report()).decode()
    assert "\x1b" not in text and "\x07" not in text
    # The payload is shown, defused, not executed (a model this long folds across lines).
    joined = re.sub(r"\s+", "", text)
    assert "]0;pwned" in joined
    assert HOSTILE_MODEL[:9].replace(" ", "") in joined


def test_markdown_has_no_live_markup() -> None:
    text = renderer(FormatName.MARKDOWN).render(sample_report()).decode()
    assert "<script" not in text and "<img" not in text
    assert "\x1b" not in text
    # A device string cannot break out of its table cell.
    for line in text.splitlines():
        if line.startswith("| 10.20.0.66"):
            assert line.count(" | ") == 7


def test_template_dir_overrides_the_brand(tmp_path: Path) -> None:
    (tmp_path / "brand.html").write_text(
        '<div class="brand"><div class="brand-name">Acme Risk Partners</div></div>'
    )
    from auditor.render.interface import RenderOptions

    html = (
        renderer(FormatName.HTML, RenderOptions(template_dir=tmp_path))
        .render(sample_report())
        .decode()
    )
    assert "Acme Risk Partners" in html
    assert "Executive summary" in html  # the rest still comes from the shipped templates


@pytest.mark.parametrize("fmt", TEXT_FORMATS, ids=str)
def test_an_empty_interrupted_audit_renders(fmt: FormatName) -> None:
    empty = AuditReport(audit=dataclasses.replace(audit_info(), finished=None))
    out = renderer(fmt).render(empty)
    assert out
    if fmt in (FormatName.HTML, FormatName.MARKDOWN, FormatName.CONSOLE):
        assert b"interrupted" in out.lower()


def test_combined_report_keeps_devices_apart_by_site() -> None:
    other = sample_report()
    branch = dataclasses.replace(
        other, audit=dataclasses.replace(other.audit, id=AuditId("branch-1"), site="Branch")
    )
    html = renderer(FormatName.HTML).render(combine([sample_report(), branch])).decode()
    assert 'id="device-10.20.0.11-Headquarters"' in html
    assert 'id="device-10.20.0.11-Branch"' in html
    assert "Organisation (2 sites: Headquarters, Branch)" in html


@pytest.mark.parametrize("fmt", TEXT_FORMATS, ids=str)
def test_undecodable_text_renders(fmt: FormatName) -> None:
    report = sample_report()
    odd = dataclasses.replace(
        report.devices[0],
        identification=dataclasses.replace(report.devices[0].identification, model="DS\udce9"),
    )
    out = renderer(fmt).render(dataclasses.replace(report, devices=(odd,)))
    out.decode("utf-8")  # always valid UTF-8
    if fmt is FormatName.JSON:
        assert json.loads(out)["devices"][0]["model"] == "DS\udce9"  # exact, as a \u escape
