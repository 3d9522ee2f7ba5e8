"""write_reports: where each format goes, atomic files, nothing written when rendering fails."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from auditor.errors import ConfigError, UsageError
from auditor.render import FormatName
from auditor.render.output import default_name, write_reports
from tests.render.camaudit_sample_audit import sample_report


def test_one_format_to_a_file(tmp_path: Path) -> None:
    target = tmp_path / "out" / "audit.json"
    assert write_reports(sample_report(), [FormatName.JSON], str(target), None) == [str(target)]
    assert json.loads(target.read_text())["audit"]["site"] == "Headquarters"
    assert [p.name for p in target.parent.iterdir()] == ["audit.json"]  # no temp file left


def test_several_formats_share_a_base(tmp_path: Path) -> None:
    base = tmp_path / "q3" / "hq.html"
    written = write_reports(
        sample_report(), [FormatName.HTML, FormatName.CSV, FormatName.MARKDOWN], str(base), None
    )
    assert written == [str(tmp_path / "q3" / f"hq.{s}") for s in ("html", "csv", "md")]
    assert all(Path(p).stat().st_size > 1000 for p in written)


def test_default_names_and_console_to_stdout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    monkeypatch.chdir(tmp_path)
    report = sample_report()
    written = write_reports(report, [FormatName.CONSOLE, FormatName.JSON], None, None)
    assert written == ["-", "camaudit-Headquarters-20261121T090000Z-hq.json"]
    assert (tmp_path / written[1]).is_file()
    assert b"Camera audit Headquarters" in capsysbinary.readouterr().out


def test_stdout_takes_one_format(capsysbinary: pytest.CaptureFixture[bytes]) -> None:
    assert write_reports(sample_report(), [FormatName.CSV], "-", None) == ["-"]
    assert capsysbinary.readouterr().out.startswith("\ufeffrecord,".encode())
    with pytest.raises(UsageError, match="one format"):
        write_reports(sample_report(), [FormatName.CSV, FormatName.JSON], "-", None)


def test_default_name_is_safe_for_any_site() -> None:
    import dataclasses

    report = sample_report()
    hostile = dataclasses.replace(
        report, audit=dataclasses.replace(report.audit, site="../../etc/<passwd>\x00")
    )
    name = default_name(hostile, FormatName.HTML)
    assert "/" not in name and "\x00" not in name and name.endswith(".html")


def test_a_failed_render_writes_nothing_and_keeps_the_old_file(tmp_path: Path) -> None:
    templates = tmp_path / "templates"
    templates.mkdir()
    (templates / "brand.html").write_text("{% if %}broken")
    target = tmp_path / "report.html"
    target.write_text("previous report")
    with pytest.raises(ConfigError, match="template"):
        write_reports(sample_report(), [FormatName.JSON, FormatName.HTML], str(target), templates)
    assert target.read_text() == "previous report"
    assert not (tmp_path / "report.json").exists()


def test_an_unwritable_folder_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match="cannot write the report"):
        write_reports(sample_report(), [FormatName.JSON], str(blocker / "r.json"), None)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_a_read_only_folder_is_a_clear_error(tmp_path: Path) -> None:
    tmp_path.chmod(0o500)
    try:
        with pytest.raises(ConfigError, match="cannot write the report"):
            write_reports(sample_report(), [FormatName.JSON], str(tmp_path / "r.json"), None)
    finally:
        tmp_path.chmod(0o700)


def test_missing_template_dir_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a folder"):
        write_reports(
            sample_report(), [FormatName.HTML], str(tmp_path / "r.html"), tmp_path / "nope"
        )


def test_pdf_without_an_engine_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    if importlib.util.find_spec("weasyprint") is not None:
        pytest.skip("WeasyPrint is installed, so the fallback would print")
    monkeypatch.setenv("CAMAUDIT_CHROMIUM", str(tmp_path / "no-such-browser"))
    target = tmp_path / "r.pdf"
    with pytest.raises(ConfigError, match="needs Chromium"):
        write_reports(sample_report(), [FormatName.PDF], str(target), None)
    assert not target.exists()


@pytest.mark.parametrize(("umask", "mode"), [(0o077, 0o600), (0o022, 0o644), (0o027, 0o640)])
def test_reports_follow_the_umask(tmp_path: Path, umask: int, mode: int) -> None:
    # A report names every camera, model and firmware of a site: under umask 077 nobody else
    # may read it.
    old = os.umask(umask)
    try:
        write_reports(sample_report(), [FormatName.JSON], str(tmp_path / "r.json"), None)
    finally:
        os.umask(old)
    assert (tmp_path / "r.json").stat().st_mode & 0o777 == mode
