"""`camaudit push`: a site's audits into the central PostgreSQL store, real server."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from auditor.cli.app import main
from auditor.models import AuditReport
from auditor.store import Store
from tests.central.pg import canonical_pg, canonical_sqlite, counts_pg, replicate, save_report
from tests.render.camaudit_sample_audit import sample_report

pytestmark = pytest.mark.postgres


def _push(local: Path, url: str, *audits: str) -> int:
    return main(["push", *audits, "--to", url, "--db", str(local)])


def test_push_copies_every_row_once_and_a_second_push_changes_nothing(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "site.db"
    report = sample_report()
    save_report(local, report)
    aid = report.audit.id

    assert _push(local, central) == 0
    assert "5 hosts, 5 new" in capsys.readouterr().err
    assert canonical_pg(central, aid) == canonical_sqlite(local, aid)
    before = counts_pg(central)

    assert _push(local, central) == 0
    assert "5 hosts, 0 new" in capsys.readouterr().err
    assert counts_pg(central) == before
    assert canonical_pg(central, aid) == canonical_sqlite(local, aid)


def test_an_interrupted_audit_is_pushed_open_and_finished_by_a_later_push(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "site.db"
    report = sample_report()
    aid = report.audit.id
    with Store(local) as store:
        store.begin_audit(dataclasses.replace(report.audit, finished=None))
        for d in report.devices[:3]:
            store.save_device(aid, d)
    assert _push(local, central, aid[:10]) == 0
    assert "interrupted" in capsys.readouterr().err
    with psycopg.connect(central) as conn:
        row = conn.execute("SELECT finished FROM audits WHERE id = %s", (aid,)).fetchone()
        assert row == (None,)
        assert conn.execute("SELECT count(*) FROM hosts").fetchone() == (3,)

    # Resumed and finished at the site; the next push sends the rest and closes it.
    with Store(local) as store:
        for d in report.devices[3:]:
            store.save_device(aid, d)
        store.save_out_of_scope(aid, report.out_of_scope)
        assert report.audit.finished is not None
        store.finish_audit(aid, report.audit.finished, report.notes)
    assert _push(local, central) == 0
    assert "5 hosts, 2 new" in capsys.readouterr().err
    assert canonical_pg(central, aid) == canonical_sqlite(local, aid)


def test_an_audit_id_of_another_site_is_refused(central: str, tmp_path: Path) -> None:
    report = sample_report()
    save_report(tmp_path / "a.db", report)
    other = dataclasses.replace(report, audit=dataclasses.replace(report.audit, site="Elsewhere"))
    save_report(tmp_path / "b.db", other)
    assert _push(tmp_path / "a.db", central) == 0
    before = counts_pg(central)
    assert _push(tmp_path / "b.db", central) == 2
    assert counts_pg(central) == before


def test_a_password_in_the_url_is_refused_before_connecting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "site.db"
    save_report(local, sample_report())
    code = _push(local, "postgresql://collector:s3cret@127.0.0.1:1/central")
    err = capsys.readouterr().err
    assert code == 2
    assert "PGPASSWORD" in err and "s3cret" not in err


def test_push_reads_a_local_file_and_writes_a_url_only(
    central: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    local = tmp_path / "site.db"
    save_report(local, sample_report())
    assert main(["push", "--to", central, "--db", central]) == 2
    assert "local SQLite store" in capsys.readouterr().err
    assert main(["push", "--to", str(tmp_path / "other.db"), "--db", str(local)]) == 2
    assert "must be a postgresql:// URL" in capsys.readouterr().err
    assert counts_pg(central)["audits"] == 0


def _big_site(tmp_path: Path, hosts: int, name: str = "site") -> tuple[Path, AuditReport]:
    report = replicate(sample_report(), hosts, site=f"Site {name}", audit_id=f"20261201-{name}")
    local = tmp_path / f"{name}.db"
    save_report(local, report)
    return local, report


def _push_process(local: Path, url: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    argv = [sys.executable, "-m", "auditor", "push", "--to", url, "--db", str(local)]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_hosts(url: str, at_least: int, proc: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            n = conn.execute("SELECT count(*) FROM hosts").fetchone()[0]  # type: ignore[index]
            if n >= at_least:
                return int(n)
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.02)
    raise AssertionError("the push never got going")


def _assert_whole_hosts_only(url: str, aid: str) -> None:
    """Every host in the central store came with all its rows (one transaction per host)."""
    with psycopg.connect(url) as conn:
        partial = conn.execute(
            "SELECT count(*) FROM hosts h WHERE h.audit_id = %s AND NOT EXISTS "
            "(SELECT 1 FROM identifications i WHERE i.host_id = h.id)",
            (aid,),
        ).fetchone()
        assert partial == (0,)
        assert conn.execute("SELECT finished FROM audits WHERE id = %s", (aid,)).fetchone() == (
            None,
        )


@pytest.mark.slow
def test_a_push_killed_mid_way_and_repeated_gives_the_same_rows(
    central: str, tmp_path: Path
) -> None:
    local, report = _big_site(tmp_path, 600)
    aid = report.audit.id
    proc = _push_process(local, central)
    _wait_for_hosts(central, 50, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    kept = counts_pg(central)["hosts"]
    assert 50 <= kept < 600
    _assert_whole_hosts_only(central, aid)

    assert _push(local, central) == 0
    assert canonical_pg(central, aid) == canonical_sqlite(local, aid)


@pytest.mark.slow
def test_a_connection_cut_by_the_server_mid_push_loses_and_duplicates_nothing(
    central: str, tmp_path: Path
) -> None:
    local, report = _big_site(tmp_path, 600)
    aid = report.audit.id
    proc = _push_process(local, central)
    _wait_for_hosts(central, 50, proc)
    with psycopg.connect(central, autocommit=True) as admin:
        cut = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'camaudit push'"
        ).fetchall()
    assert cut == [(True,)]
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    assert b"push stopped" in err and b"run the same push again" in err
    _assert_whole_hosts_only(central, aid)

    assert _push(local, central) == 0
    assert canonical_pg(central, aid) == canonical_sqlite(local, aid)


@pytest.mark.slow
def test_twenty_collectors_pushing_at_once_lose_and_duplicate_nothing(
    central: str, tmp_path: Path
) -> None:
    sites = [_big_site(tmp_path, 40, f"s{i:02d}") for i in range(20)]
    procs = [_push_process(local, central) for local, _ in sites]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err
    for local, report in sites:
        assert canonical_pg(central, report.audit.id) == canonical_sqlite(local, report.audit.id)
    assert counts_pg(central)["hosts"] == 20 * 40
