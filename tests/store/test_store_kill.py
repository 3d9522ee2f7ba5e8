"""A writer killed with SIGKILL mid-audit leaves a consistent store holding every committed host,
and a resume that saves the remaining hosts duplicates nothing."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from auditor.store import Store
from tests.render.camaudit_sample_audit import audit_info, sample_report

ROOT = Path(__file__).resolve().parents[2]

WRITER = textwrap.dedent(
    """
    import dataclasses, ipaddress
    from tests.render.camaudit_sample_audit import audit_info, dahua_nvr
    from auditor.store import Store

    store = Store({db!r})
    info = dataclasses.replace(audit_info(), finished=None)
    store.begin_audit(info)
    template = dahua_nvr()
    for i in range(1, 100000):
        host = dataclasses.replace(
            template.host, address=ipaddress.ip_address(f"10.30.{{i // 250}}.{{i % 250 + 1}}")
        )
        store.save_device(info.id, dataclasses.replace(template, host=host))
        print(i, flush=True)
    """
)


def test_sigkilled_writer_keeps_what_was_committed(store_location: Path | str) -> None:
    db = store_location
    # The writer imports the shared fixture audit as ``tests.render...``, from the repository.
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER.format(db=str(db))],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    reported = 0
    deadline = time.monotonic() + 60
    # Let it commit a few dozen hosts, then kill it without warning, mid-write.
    while reported < 40 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    assert reported >= 40

    if isinstance(db, Path):
        conn = sqlite3.connect(db)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.close()
    # (PostgreSQL rolls the killed session's open transaction back and enforces the keys.)

    info = audit_info()
    with Store(db) as store:
        done = store.completed_addresses(info.id)
        # Every host the writer reported as saved is there (it may have committed one more).
        assert reported <= len(done) <= reported + 1
        report = store.load_report(info.id)
        assert len(report.devices) == len(done)
        assert all(d.identification.manufacturer == "Dahua" for d in report.devices)
        assert all(len(d.identification.evidence) == 3 for d in report.devices)
        summary = store.list_audits()[0]
        assert summary.finished is None  # shown as interrupted

        # Resume: the engine saves only what is missing, and a re-save replaces, never adds.
        sample = sample_report()
        for device in sample.devices:
            store.save_device(info.id, device)
        store.save_device(info.id, sample.devices[0])
        assert info.finished is not None
        store.finish_audit(info.id, info.finished)
        after = store.load_report(info.id)
        addresses = [str(d.host.address) for d in after.devices]
        assert len(addresses) == len(set(addresses)) == len(done) + len(sample.devices)
        assert store.list_audits()[0].finished == info.finished
