"""A real full file system (a tiny tmpfs): the store says so clearly and keeps every saved host."""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.errors import StoreError
from auditor.store import Store
from tests.render.camaudit_sample_audit import dahua_nvr, sample_report


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "camaudit-test", str(mnt)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount tmpfs here: {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk_is_a_clear_error_and_loses_nothing(small_fs: Path) -> None:
    db = small_fs / "camaudit.db"
    report = sample_report()
    template = dahua_nvr()
    saved: set[str] = set()
    with Store(db) as store:
        store.begin_audit(report.audit)
        with pytest.raises(StoreError, match="disk") as err:
            for i in range(100_000):
                host = dataclasses.replace(
                    template.host, address=ipaddress.ip_address(f"10.50.{i // 250}.{i % 250 + 1}")
                )
                store.save_device(report.audit.id, dataclasses.replace(template, host=host))
                saved.add(str(host.address))
        assert "every host saved so far is kept" in str(err.value)
        assert len(saved) >= 3
        assert store.completed_addresses(report.audit.id) == saved
    # Reopened (as after freeing room), the file is consistent and holds every saved host.
    with Store(db) as store:
        assert store.completed_addresses(report.audit.id) == saved
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
