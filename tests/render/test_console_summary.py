"""The cut console summary of a large audit (issue 16): rendered from counts, never lying about
being cut, and the threshold between it and the full console report."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.cli import scan
from auditor.cli.app import main
from auditor.render.console_summary import render_cut_summary
from auditor.render.interface import RenderOptions
from auditor.store.summary import AuditCounts, CutSummary
from bench.imports import generate
from tests.render.camaudit_sample_audit import audit_info

UNCONFIRMED = (
    "Unconfirmed: 3,000 hosts were seen only in discovery replies and never answered a unicast "
    "exchange"
)


def _counts(notes: tuple[str, ...]) -> AuditCounts:
    return AuditCounts(
        audit=audit_info(),
        notes=notes,
        devices=3_200,
        incomplete=0,
        video=3_100,
        relabels=0,
        exposed=0,
        review=3_100,
        by_severity=(),
        vulnerable=0,
        known_exploited=0,
        out_of_scope=0,
    )


def test_the_audits_unconfirmed_note_is_shown() -> None:
    out = render_cut_summary(CutSummary(_counts((UNCONFIRMED,)), ()), RenderOptions()).decode()
    assert UNCONFIRMED in " ".join(out.split())
    assert "The list is cut: 0 of 3200 devices shown" in " ".join(out.split())


@pytest.mark.parametrize(("large_audit", "cut"), [(40, False), (39, True)])
def test_the_threshold_between_full_and_cut(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    large_audit: int,
    cut: bool,
) -> None:
    monkeypatch.setattr(scan, "LARGE_AUDIT", large_audit)
    xml = tmp_path / "scan.xml"
    generate(xml, 40)
    main(["-q", "scan", "--from-nmap", str(xml), "--db", str(tmp_path / "a.db"), "--exit-zero"])
    out = " ".join(capsys.readouterr().out.split())
    assert ("The list is cut: 40 of 40 devices shown" in out) is cut
    assert ("Most severe devices (40 of 40)" in out) is cut
    # The full console report, as before: a table per action, NO ACTION among them.
    assert ("NO ACTION (" in out) is not cut
