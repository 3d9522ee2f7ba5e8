"""SIGINT and SIGTERM in each stage of a real `camaudit scan`: a clean stop with exit code 130,
and `scan --resume` finishes the audit without probing a saved host again or saving one twice."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.lab.hostile import hostile_site
from auditor.lab.site import LoopbackSite
from auditor.models import Reason
from auditor.store import Store

pytestmark = pytest.mark.nmap

#: Ordinary devices, and two that keep the probing stage busy for seconds (so a signal lands
#: while hosts are in flight).
DEVICES = ("hikvision-ipc", "dahua-ipc", "axis-p1375", "printer-hp", "hostile-slowloris")
STAGE_LINE = {
    "discovery": "camaudit: discovering hosts",
    "probing": "camaudit: probing hosts",
    "report": "camaudit: report",
}


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    with hostile_site(DEVICES) as running:
        yield running


def _scan(site: LoopbackSite, db: Path, out: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "auditor",
        "scan",
        *site.targets,
        "--ports",
        site.port_plan.spec(),
        "--db",
        str(db),
        "--timeout",
        "0.5",
        "-f",
        "json",
        "-f",
        "html",
        "-o",
        str(out),
    ]


def _saved(db: Path) -> set[str]:
    with Store(db) as store:
        (audit,) = store.list_audits()
        return store.completed_addresses(audit.id)


def _interrupt(cmd: list[str], stage: str, signum: int, db: Path) -> tuple[int, str]:
    """Run ``cmd``; send ``signum`` once it reports ``stage`` (probing: once a host is saved)."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    lines: list[str] = []
    seen = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            lines.append(line)
            if STAGE_LINE[stage] in line:
                seen.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert seen.wait(60), "".join(lines)
        if stage == "probing":
            deadline = time.monotonic() + 30
            while not (db.exists() and _saved(db)) and time.monotonic() < deadline:
                time.sleep(0.05)
        proc.send_signal(signum)
        proc.wait(60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(5)
    return proc.returncode, "".join(lines)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
@pytest.mark.parametrize("stage", ["discovery", "probing"])
def test_stop_in_a_stage_then_resume(
    site: LoopbackSite, tmp_path: Path, stage: str, signum: int
) -> None:
    db = tmp_path / "audit.db"
    code, stderr = _interrupt(_scan(site, db, tmp_path / "a"), stage, signum, db)
    assert code == 130, stderr
    assert "Traceback" not in stderr
    assert "--resume" in stderr  # the user is told how to finish
    with Store(db) as store:
        (audit,) = store.list_audits()
        assert audit.finished is None
        before = store.completed_addresses(audit.id)
    if stage == "discovery":
        assert before == set()

    resume = [sys.executable, "-m", "auditor", "scan", "--resume", audit.id, "--db", str(db)]
    resume += ["--timeout", "0.5", "-f", "json", "-o", str(tmp_path / "b.json")]
    done = subprocess.run(resume, capture_output=True, text=True, timeout=120)
    assert done.returncode in (0, 1, 3), done.stderr
    # Only the hosts not saved before were probed again.
    m = re.search(r"probing hosts \((\d+) hosts?\)", done.stderr)
    todo = int(m.group(1)) if m else 0
    assert todo == len(site.targets) - len(before), done.stderr

    with Store(db) as store:
        report = store.load_report(audit.id)
    addresses = [str(d.host.address) for d in report.devices]
    assert len(addresses) == len(set(addresses)), "a host saved twice"
    assert set(site.targets) <= set(addresses)
    assert report.audit.finished is not None
    unfinished = [
        (str(d.host.address), a.probe)
        for d in report.devices
        for a in d.attempts
        if a.reason is Reason.INTERRUPTED
    ]
    assert not unfinished, f"resume left interrupted probes behind: {unfinished}"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_while_writing_reports_leaves_a_finished_audit(
    site: LoopbackSite, tmp_path: Path, signum: int
) -> None:
    db = tmp_path / "audit.db"
    out = tmp_path / "out"
    code, stderr = _interrupt(_scan(site, db, out), "report", signum, db)
    assert code in (130, 0, 1, 3), stderr  # the render may have finished before the signal
    assert "Traceback" not in stderr
    with Store(db) as store:
        (audit,) = store.list_audits()
        assert audit.finished is not None  # saved before any report was written
        report = store.load_report(audit.id)
    assert set(site.targets) <= {str(d.host.address) for d in report.devices}
    # Reports are written whole or not at all (temporary name, then rename).
    for path in tmp_path.glob("out*"):
        assert not path.name.endswith(".tmp"), path
    if (tmp_path / "out.json").exists():
        import json

        json.loads((tmp_path / "out.json").read_text())


def _nmap_children(marker: str) -> list[str]:
    ps = subprocess.run(
        ["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True
    )
    return [line for line in ps.stdout.splitlines() if "nmap" in line and marker in line]


@pytest.mark.parametrize(
    ("signum", "ignored"),
    [(signal.SIGINT, True), (signal.SIGINT, False), (signal.SIGTERM, False)],
    ids=["SIGINT-from-a-background-script", "SIGINT", "SIGTERM"],
)
def test_a_stop_during_a_long_nmap_run_ends_nmap_too(
    tmp_path: Path, signum: int, ignored: bool
) -> None:
    # A paced nmap sweep of 1,024 loopback addresses runs for minutes: the stop must end it (not
    # leave it scanning under PID 1), remove its temporary files, and not wait out the other
    # channels' paced sends. A script started with `&` inherits SIGINT ignored.
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    db = tmp_path / "a.db"
    cmd = [sys.executable, "-m", "auditor", "scan", "127.88.0.0/22", "--ports", "80,554"]
    cmd += ["--rate", "20", "--db", str(db), "-f", "json", "-o", str(tmp_path / "a.json")]
    env = {**os.environ, "TMPDIR": str(tmp), "NO_COLOR": "1"}

    def background() -> None:
        signal.signal(signal.SIGINT, signal.SIG_IGN)

    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=background if ignored else None,
    )
    try:
        deadline = time.monotonic() + 30
        while not _nmap_children(str(tmp)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _nmap_children(str(tmp)), "nmap never started"
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr and "did not run" not in stderr, stderr
    assert _nmap_children(str(tmp)) == []
    assert list(tmp.iterdir()) == []  # no camaudit-nmap-* left behind
