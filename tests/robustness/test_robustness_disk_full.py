"""A full disk while writing the store or a report: a clear one-line error, and a store that stays
consistent (integrity check passes, earlier audits intact, the interrupted one resumable).

The disk is a real tmpfs of a few hundred KB (root), filled to the last byte by a filler file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.lab.site import LoopbackSite
from auditor.store import Store

pytestmark = [
    pytest.mark.nmap,
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root to mount a small tmpfs"),
]

DEVICES = ("hikvision-ipc", "dahua-ipc", "axis-p1375", "uniview-ipc", "printer-hp")


@contextlib.contextmanager
def small_disk(where: Path, size: str = "3m") -> Iterator[Path]:
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(disk: Path) -> Path:
    """Write a filler file until the disk is full; returns it (delete it to free the space)."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        for block in (65536, 4096, 1):  # big blocks, then the last partial ones
            with contextlib.suppress(OSError):
                while True:
                    os.write(fd, b"\0" * block)
    finally:
        os.close(fd)
    return filler


def camaudit(*args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "NO_COLOR": "1"},
    )


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    with LoopbackSite(DEVICES) as running:
        yield running


def _scan(site: LoopbackSite, db: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return camaudit(
        "scan", *site.targets, "--ports", site.port_plan.spec(), "--db", str(db),
        "--timeout", "1", "-f", "json", "-o", "-", *extra,
    )  # fmt: skip


def _integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


def test_store_on_a_full_disk_fails_clearly_and_stays_consistent(
    site: LoopbackSite, tmp_path: Path
) -> None:
    with small_disk(tmp_path / "disk") as disk:
        db = disk / "audit.db"
        first = _scan(site, db)
        assert first.returncode in (0, 1, 3), first.stderr
        with Store(db) as store:
            (done,) = store.list_audits()
        filler = fill(disk)
        assert shutil.disk_usage(disk).free < 4096

        # Completely full: the store cannot even be opened (WAL needs its -shm file).
        full = _scan(site, db)
        assert full.returncode == 2, full.stderr
        assert "Traceback" not in full.stderr
        # One line naming the cause (the path is left out: the test folder's name says "full").
        last = full.stderr.strip().splitlines()[-1].replace(str(db), "DB")
        assert "store" in last and "disk" in last and "full" in last, last

        # Room to open and begin, not to save a host: the audit stops at the first write, which
        # is a host or, with discovery streaming into the store, the hosts it has seen so far.
        os.truncate(filler, filler.stat().st_size - 96 * 1024)
        full = _scan(site, db)
        assert full.returncode == 2, full.stderr
        assert "Traceback" not in full.stderr
        last = full.stderr.strip().splitlines()[-1].replace(str(db), "DB")
        assert "disk is full" in last, last
        assert "could not save host" in last or "could not record sightings" in last, last

        filler.unlink()
        assert _integrity(db) == "ok"
        with Store(db) as store:
            audits = store.list_audits()
            report = store.load_report(done.id)
        assert {str(d.host.address) for d in report.devices} == set(site.targets)
        unfinished = [a for a in audits if a.finished is None]
        assert len(unfinished) == 1
        # Whatever the second scan managed to save is a resumable, unfinished audit.
        for audit in unfinished:
            resumed = camaudit(
                "scan", "--resume", audit.id, "--db", str(db), "--timeout", "1",
                "-f", "json", "-o", "-",
            )  # fmt: skip
            assert resumed.returncode in (0, 1, 3), resumed.stderr
        assert _integrity(db) == "ok"
        with Store(db) as store:
            assert all(a.finished is not None for a in store.list_audits())


def test_report_on_a_full_disk_fails_clearly_and_leaves_no_partial_file(
    site: LoopbackSite, tmp_path: Path
) -> None:
    db = tmp_path / "audit.db"
    assert _scan(site, db).returncode in (0, 1, 3)
    with Store(db) as store:
        (audit,) = store.list_audits()
    with small_disk(tmp_path / "disk", size="64k") as disk:
        fill(disk)
        out = disk / "report.html"
        done = camaudit("report", audit.id, "--db", str(db), "-f", "html", "-o", str(out))
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        assert "cannot write the report" in done.stderr
        assert os.strerror(errno.ENOSPC) in done.stderr
        assert sorted(p.name for p in disk.iterdir()) == ["filler"]
