"""The console summary of a large offline import is counted in the store and its device list is
cut, and says so (issue 16); the counts and the exit code are those of the full report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from auditor.cli import scan
from auditor.cli.app import main
from auditor.exitcodes import ExitCode, exit_code_for
from auditor.models import Severity
from auditor.render.view import summarise
from auditor.store import Store
from bench.imports import generate

HOSTS = 2_500


def _row(out: str, label: str) -> int:
    """The number on the summary row ``label`` (rich pads the columns with spaces)."""
    found = re.search(rf"^\s*{re.escape(label)}\s+(\d+)\s*$", out, re.MULTILINE)
    assert found, f"no summary row {label!r} in:\n{out[:3000]}"
    return int(found.group(1))


def test_a_large_import_prints_counts_and_a_cut_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scan.LARGE_AUDIT < HOSTS  # this import is "large" at the shipped threshold
    xml, db, out_json = tmp_path / "scan.xml", tmp_path / "a.db", tmp_path / "all.json"
    generate(xml, HOSTS)
    code = main(
        [
            "-q",
            "scan",
            "--from-nmap",
            str(xml),
            "--db",
            str(db),
            "--fail-on",
            "low",
            "-f",
            "console",
            "-f",
            "json",
            "-o",
            str(out_json),
        ]
    )
    out = capsys.readouterr().out
    with Store(db) as store:
        (audit,) = store.list_audits()
        report = store.load_report(audit.id)
    s = summarise(report)
    assert s.devices == HOSTS
    # The counts are the full report's.
    assert _row(out, "devices") == s.devices
    assert _row(out, "video devices") == s.cameras
    assert _row(out, "exposed") == s.exposed
    assert _row(out, "maker unknown / review") == s.review
    assert _row(out, "OEM relabels") == s.relabels
    assert _row(out, "incomplete hosts") == s.incomplete
    for severity, n in s.by_severity:
        if n:
            assert _row(out, severity.label) == n
    # The top actions are the full report's, without the addresses.
    flat = " ".join(out.split())
    assert s.actions
    for action in s.actions:
        assert f"{action.rank}. {action.headline} ({action.makers_text})" in flat
    assert f"Evidence SHA-256 {report.evidence_sha256}" in out
    # The list is cut, says so, and names the command that gives every device.
    shown = scan.CUT_LIST
    assert f"Most severe devices ({shown} of {HOSTS})" in out
    assert f"The list is cut: {shown} of {HOSTS} devices shown" in flat
    assert f"camaudit report {audit.id} --db {db} -f html" in flat
    listed = re.findall(r"^ (10\.\d+\.\d+\.\d+)\s", out, re.MULTILINE)
    assert len(listed) == shown
    # They are the most severe: their severities are the top of the report's, worst first.
    worst = {str(d.host.address): d.max_severity for d in report.devices}
    ranked = sorted((d.max_severity for d in report.devices), key=lambda v: -v.value)
    assert [worst[a] for a in listed] == ranked[:shown]
    assert ranked[0] > Severity.NONE
    # The exit code is the full report's; the JSON asked for has every device.
    assert code == exit_code_for(report, Severity.LOW) == ExitCode.EXPOSURE_FOUND
    assert len(json.loads(out_json.read_text("utf-8"))["devices"]) == HOSTS
