"""A scan killed mid-way (SIGKILL) resumes from the store: nothing lost, nothing duplicated."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.errors import StoreError
from auditor.lab import DEMO_DEVICES, LoopbackSite
from auditor.store import Store

pytestmark = [pytest.mark.nmap, pytest.mark.slow]


def _saved(db: Path) -> tuple[str, set[str]] | None:
    """What the running scan has committed, read as `camaudit audits` reads (never writing)."""
    if not db.exists():
        return None
    try:
        with Store(db, read_only=True) as store:
            audits = store.list_audits()
            if not audits:
                return None
            return audits[0].id, store.completed_addresses(audits[0].id)
    except StoreError:  # the scan is still creating the file
        return None


def _kill_when(
    scan: list[str], db: Path, ready: Callable[[set[str]], bool], limit: float, what: str
) -> None:
    """Run ``scan`` and SIGKILL it as soon as the hosts it has saved satisfy ``ready``."""
    proc = subprocess.Popen(scan, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            saved = _saved(db)
            if saved and ready(saved[1]):
                return
            assert proc.poll() is None, "the scan ended before it could be killed"
            time.sleep(0.05)
        pytest.fail(f"not reached within {limit:.0f} s: {what}")
    finally:
        proc.kill()
        proc.wait()


def test_sigkill_mid_scan_then_resume(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    with LoopbackSite(DEMO_DEVICES) as site:
        base = [sys.executable, "-m", "auditor", "-q"]
        # A low rate spreads the hosts out in time, so the kill lands between two of them.
        scan = [
            *base,
            "scan",
            *site.targets,
            "--ports",
            site.port_plan.spec(),
            "--db",
            str(db),
            "--rate",
            "12",
            "--timeout",
            "1",
            "-f",
            "json",
            "-o",
            str(tmp_path / "a.json"),
        ]
        _kill_when(scan, db, lambda saved: len(saved) >= 2, 90, "two hosts saved")
        audit_id, before = _saved(db) or ("", set())
        with Store(db) as store:
            (summary,) = store.list_audits()
            assert summary.finished is None, "a killed audit must show as unfinished"
        assert 0 < len(before) < len(site.targets)

        resumed = subprocess.run(
            [
                *base,
                "scan",
                "--resume",
                audit_id,
                "--db",
                str(db),
                "--timeout",
                "1",
                "-f",
                "json",
                "-o",
                str(tmp_path / "b.json"),
            ],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert resumed.returncode in (0, 1, 3), resumed.stderr

    with Store(db) as store:
        report = store.load_report(audit_id)
        assert len(store.list_audits()) == 1
    addresses = [str(d.host.address) for d in report.devices]
    assert len(addresses) == len(set(addresses)), "a resumed audit holds a host twice"
    assert before <= set(addresses), "hosts saved before the kill were lost"
    assert report.audit.finished is not None
    answering = {t.address for t in site.truth if t.profile != "silent-host"}
    assert answering <= set(addresses)


def test_resume_keeps_the_port_roles(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from auditor.models import AuditId, AuditInfo
    from auditor.ports import PortPlan

    plan = PortPlan.parse("10080/http,10443/https,10554/rtsp")
    info = AuditInfo(
        AuditId("a1"),
        "site",
        datetime.now(UTC),
        "0",
        ("127.0.0.1",),
        ports=plan.ports,
        port_spec=plan.spec(),
    )
    with Store(tmp_path / "s.db") as store:
        store.begin_audit(info)
    with Store(tmp_path / "s.db") as store:
        assert PortPlan.parse(store.load_audit_info(AuditId("a1")).port_spec) == plan


def test_out_of_scope_references_survive_a_kill(tmp_path: Path) -> None:
    # The references a host made (its redirects out of the scope) are saved with the host, not
    # when the audit ends: after SIGKILL the store already holds them for every saved host.
    from auditor.lab.hostile import hostile_site

    db = tmp_path / "audit.db"
    devices = ["hostile-points-outside", "hikvision-ipc", "dahua-ipc", "axis-p1375", "printer-hp"]
    with hostile_site(devices) as site:
        pointer = next(t.address for t in site.truth if t.profile == "hostile-points-outside")
        scan = [sys.executable, "-m", "auditor", "-q", "scan", *site.targets]
        scan += ["--ports", site.port_plan.spec(), "--db", str(db), "--rate", "6"]
        scan += ["--timeout", "1", "-f", "json", "-o", str(tmp_path / "a.json")]
        _kill_when(scan, db, lambda saved: pointer in saved, 120, "the pointing host saved")
        audit_id, before = _saved(db) or ("", set())
        assert len(before) < len(site.targets), "killed too late to show anything"
        with Store(db) as store:
            report = store.load_report(audit_id)
        redirects = {(r.address, r.via) for r in report.out_of_scope if str(r.referrer) == pointer}
        assert (site.outside_address, "http.redirect") in redirects, report.out_of_scope


def test_a_dead_nmap_is_recorded_and_resume_runs_it_again(tmp_path: Path) -> None:
    # nmap killed from outside mid-sweep: the audit must say so (not finish quietly), exit 3,
    # accept --resume, and the resumed run keeps the original pace unless told otherwise.
    import json
    import os
    import signal

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db = tmp_path / "a.db"
    env = {**os.environ, "TMPDIR": str(tmp), "NO_COLOR": "1", "COLUMNS": "200"}
    base = [sys.executable, "-m", "auditor", "scan"]
    scan = [*base, "127.89.0.0/24", "--ports", "80,554", "--rate", "60", "--timeout", "0.5"]
    scan += ["--db", str(db), "-f", "json", "-f", "console", "-o", str(tmp_path / "a.json")]
    proc = subprocess.Popen(
        scan, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    try:
        deadline = time.monotonic() + 30
        nmap_pid = None
        while nmap_pid is None and time.monotonic() < deadline:
            ps = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True)
            found = [
                ln.split()[0] for ln in ps.stdout.splitlines() if str(tmp) in ln and "nmap" in ln
            ]
            nmap_pid = int(found[0]) if found else None
            time.sleep(0.1)
        assert nmap_pid is not None, "nmap never started"
        os.kill(nmap_pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, err
    assert "discovery incomplete" in out and "nmap" in out, out
    first = json.loads((tmp_path / "a.json").read_text())
    (failure,) = first["audit"]["channel_failures"]
    assert failure["channel"] == "nmap" and "nmap" in failure["message"]
    assert first["summary"]["discovery_incomplete"] is True
    assert first["audit"]["options"] == {"rate": 60, "timeout_s": 0.5}
    assert any("--resume" in n and "nmap" in n for n in first["audit"]["notes"])
    audit_id = first["audit"]["id"]

    # Resumed at a faster pace given now; the timeout is the original run's.
    resume = [*base, "--resume", audit_id, "--db", str(db), "--rate", "2000"]
    resume += ["-f", "json", "-o", str(tmp_path / "b.json")]
    done = subprocess.run(resume, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode in (0, 1), done.stderr
    second = json.loads((tmp_path / "b.json").read_text())
    assert second["audit"]["id"] == audit_id
    assert second["audit"]["channel_failures"] == []
    assert second["audit"]["options"] == {"rate": 2000, "timeout_s": 0.5}


def _sighted(db: Path) -> set[str]:
    """The addresses the running scan's discovery has recorded (read-only, never writing)."""
    import sqlite3

    if not db.exists():
        return set()
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return {r[0] for r in conn.execute("SELECT address FROM sightings")}
        finally:
            conn.close()
    except sqlite3.Error:  # the scan is still creating the file
        return set()


def test_sigkill_during_discovery_then_resume_keeps_what_discovery_found(tmp_path: Path) -> None:
    # Issue 16: discovery's sightings are kept in the store as they arrive. Killed while nmap
    # is still sweeping (the UDP channels have answered), the audit has saved no host yet; the
    # devices then go away, and `--resume` still audits every host the first discovery found.
    import os
    import signal

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db = tmp_path / "audit.db"
    env = {**os.environ, "TMPDIR": str(tmp)}
    base = [sys.executable, "-m", "auditor", "-q", "scan"]
    with LoopbackSite(DEMO_DEVICES) as site:
        # A slow pace keeps nmap sweeping for seconds after the UDP replies came in.
        scan = [*base, *site.targets, "--ports", site.port_plan.spec(), "--db", str(db)]
        scan += ["--rate", "8", "--timeout", "1", "-f", "json", "-o", str(tmp_path / "a.json")]
        proc = subprocess.Popen(scan, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        try:
            deadline = time.monotonic() + 60
            while not _sighted(db) and time.monotonic() < deadline:
                assert proc.poll() is None, "the scan ended before discovery was interrupted"
                time.sleep(0.05)
        finally:
            proc.kill()
            proc.wait()
            # nmap runs in its own process group: end the sweep the killed scan left behind.
            ps = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True)
            for line in ps.stdout.splitlines():
                if str(tmp) in line and "nmap" in line:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(int(line.split()[0]), signal.SIGKILL)
        found = _sighted(db)
        assert found, "nothing was sighted within 60 s"
        audit_id, saved = _saved(db) or ("", set())
        assert saved == set(), "killed too late: hosts were already saved"
    # The devices are gone: the resumed discovery finds nothing, yet nothing found is lost.
    resume = [*base, "--resume", audit_id, "--db", str(db), "--timeout", "0.5"]
    resume += ["-f", "json", "-o", str(tmp_path / "b.json")]
    done = subprocess.run(resume, capture_output=True, text=True, timeout=180, env=env)
    assert done.returncode in (0, 1, 3), done.stderr
    with Store(db) as store:
        report = store.load_report(audit_id)
    addresses = {str(d.host.address) for d in report.devices}
    assert found <= addresses, f"lost after the kill: {sorted(found - addresses)}"
    assert report.audit.finished is not None
