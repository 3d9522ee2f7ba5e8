"""`camaudit report AUDIT -f json|csv` and `camaudit scan ... -f json` write from the store device
by device, never loading the whole report, and write exactly the bytes they wrote when they
loaded it (issue 16): on the demo's lab audit (re-assessed, with known-vulnerability data
imported), on both store engines, and on an offline import.
"""

from __future__ import annotations

import argparse
import errno
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor import resources
from auditor.cli import scan
from auditor.cli.app import main
from auditor.cli.history import _prepared
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.exitcodes import ExitCode, exit_code_for
from auditor.lab import DEMO_DEVICES, LoopbackSite
from auditor.models import Audience, AuditReport, Severity
from auditor.render.csv_format import CsvFormat
from auditor.render.interface import RenderOptions
from auditor.store import Store, reader
from bench.imports import generate
from bench.micro import replicate
from tests.render.camaudit_sample_audit import sample_report
from tests.robustness.test_robustness_disk_full import camaudit, small_disk
from tests.store.test_store_report_stream import save, todays_json
from tests.vulns.conftest import ASSETS, CVE5, NVD


def _no_loading(monkeypatch: pytest.MonkeyPatch) -> None:
    """From here on, loading a whole report from the store fails the test."""

    def refused(*args: object) -> None:
        raise AssertionError("the whole report was loaded")

    monkeypatch.setattr(Store, "load_report", refused)
    monkeypatch.setattr(reader, "load_devices", refused)


@pytest.fixture(scope="module")
def demo_audit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AuditReport, Path]]:
    """The demo's lab audited (as `camaudit demo` does), with KEV and CVE data in use; the
    report and the data folder."""
    from auditor.vulns import import_cve, import_kev

    root = tmp_path_factory.mktemp("stream") / "data"
    import_kev(root, ASSETS / "kev-excerpt.json")
    import_cve(root, [*NVD, *CVE5])
    resources.use_data_root(root)
    try:
        with LoopbackSite(DEMO_DEVICES) as site:
            user, password = site.credentials
            config = AuditConfig(
                targets=site.targets,
                db_path=root / "demo.db",
                site="stream",
                ports=site.port_plan,
                timeout=2.0,
                credentials=CredentialStore(default=Credential(user, Secret(password))),
                multicast=False,
            )
            report = Auditor(config).run()
        yield report, root
    finally:
        resources.use_data_root(None)


def _rerendered(
    where: Path | str, audit_id: str, *, as_recorded: bool = False, profile: str | None = None
) -> AuditReport:
    """The report as `camaudit report` renders it from a loaded report (its path before)."""
    with Store(where, read_only=True) as store:
        loaded = store.load_report(audit_id)
    args = argparse.Namespace(as_recorded=as_recorded)
    return _prepared([loaded], args, where, Audience(profile) if profile else None)


@pytest.mark.nmap
@pytest.mark.slow
@pytest.mark.parametrize(
    "options",
    [(), ("--as-recorded",), ("--profile", Audience.US_FEDERAL_AGENCY.value)],
    ids=["reassessed", "as-recorded", "other-profile"],
)
def test_report_writes_the_loaded_reports_bytes_without_loading_it(
    demo_audit: tuple[AuditReport, Path],
    store_location: Path | str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    options: tuple[str, ...],
) -> None:
    audit, data = demo_audit
    with Store(store_location) as store:
        save(store, audit)
    aid = audit.audit.id
    expected = _rerendered(
        store_location,
        aid,
        as_recorded="--as-recorded" in options,
        profile=options[1] if options[:1] == ("--profile",) else None,
    )
    assert any(d.vulnerabilities for d in expected.devices)  # the findings are attached again
    _no_loading(monkeypatch)
    db = ["--db", str(store_location)]
    data_dir = ["--data-dir", str(data)]
    folder = tmp_path / "reports"
    out = folder / "out"
    code = main(
        [*data_dir, "report", aid, *db, *options, "-f", "json", "-f", "csv", "-o", str(out)]
    )
    assert code == ExitCode.CLEAN
    assert (folder / "out.json").read_bytes() == todays_json(expected)
    assert (folder / "out.csv").read_bytes() == CsvFormat(RenderOptions()).render(expected)
    capsysbinary.readouterr()
    assert main([*data_dir, "report", aid, *db, *options, "-f", "json", "-o", "-"]) == 0
    assert capsysbinary.readouterr().out == todays_json(expected)
    # No temporary file is left beside the reports.
    assert sorted(p.name for p in folder.iterdir()) == ["out.csv", "out.json"]


def test_scan_writes_json_from_the_store_without_loading_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    xml, db = tmp_path / "scan.xml", tmp_path / "a.db"
    generate(xml, 300)
    # 300 devices is a large audit here: the console shows the cut summary, counted in SQL.
    monkeypatch.setattr(scan, "LARGE_AUDIT", 100)
    with monkeypatch.context() as guarded:
        _no_loading(guarded)
        code = main(
            ["-q", "scan", "--from-nmap", str(xml), "--db", str(db), "--fail-on", "low",
             "-f", "console", "-f", "json", "-f", "csv", "-o", str(tmp_path / "all")]
        )  # fmt: skip
    out = " ".join(capsys.readouterr().out.split())
    assert f"The list is cut: {scan.CUT_LIST} of 300 devices shown" in out
    with Store(db) as store:
        (audit,) = store.list_audits()
        report = store.load_report(audit.id)
    assert len(report.devices) == 300
    assert (tmp_path / "all.json").read_bytes() == todays_json(report)
    assert (tmp_path / "all.csv").read_bytes() == CsvFormat(RenderOptions()).render(report)
    assert code == exit_code_for(report, Severity.LOW)
    # A small audit asked for JSON alone: the exit code is counted in the store too.
    monkeypatch.setattr(scan, "LARGE_AUDIT", 2000)
    with monkeypatch.context() as guarded:
        _no_loading(guarded)
        code = main(
            ["-q", "scan", "--from-nmap", str(xml), "--db", str(db), "--fail-on", "low",
             "-f", "json", "-o", str(tmp_path / "again.json")]
        )  # fmt: skip
    with Store(db) as store:
        latest = store.latest_audit()
        assert latest is not None and latest != audit.id
        again = store.load_report(latest)
    assert (tmp_path / "again.json").read_bytes() == todays_json(again)
    assert code == exit_code_for(again, Severity.LOW)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs")
def test_a_full_disk_half_way_leaves_every_previous_report_and_no_partial_file(
    tmp_path: Path,
) -> None:
    db = tmp_path / "a.db"
    # About 0.5 MB of CSV, then 1 MB of JSON: the CSV fits on the disk, the JSON does not.
    audit = replicate(sample_report(), 60)
    with Store(db) as store:
        save(store, audit)
    with small_disk(tmp_path / "disk", size="1m") as disk:
        before = {name: f"the previous {name}\n".encode() for name in ("r.csv", "r.json")}
        for name, data in before.items():
            (disk / name).write_bytes(data)
        done = camaudit(
            "report", audit.audit.id, "--db", str(db), "-f", "csv", "-f", "json",
            "-o", str(disk / "r"),
        )  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        out = disk / "r.json"
        assert f"cannot write the report to {out}: {os.strerror(errno.ENOSPC)}" in done.stderr
        # Both reports are the previous ones: never a new CSV beside an old JSON.
        assert {p.name: p.read_bytes() for p in disk.iterdir()} == before
