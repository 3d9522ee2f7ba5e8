"""The store gives back exactly what was saved, once, and keeps its file consistent."""

from __future__ import annotations

import dataclasses
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from auditor.credentials import Secret
from auditor.errors import StoreError
from auditor.models import AuditId, AuditReport, Outcome, ProbeAttempt
from auditor.store import AuditSummary, Store
from auditor.store.schema import CURRENT_VERSION
from tests.render.camaudit_sample_audit import audit_info, hostile_device, sample_report
from tests.store.store_engines import run_sql, save_report


def _save(store: Store, report: AuditReport | None = None) -> AuditReport:
    return save_report(store, report or sample_report())


def test_round_trip_is_exact(store_location: Path | str) -> None:
    with Store(store_location) as store:
        report = _save(store)
        loaded = store.load_report(report.audit.id)
    assert loaded == report
    assert loaded.evidence_sha256 == report.evidence_sha256
    # The evidence chain points at the very observations the probes made.
    hik = loaded.devices[0]
    assert hik.identification.evidence[1].observation is not None
    assert hik.identification.evidence[1].observation == hik.attempts[1].observations[0]
    assert loaded.devices[1].identification.components[0].evidence[0].observation.value == (
        "processor=HI3536"
    )


def test_a_new_file_is_made_in_new_folders(tmp_path: Path) -> None:
    with Store(tmp_path / "a" / "b" / "camaudit.db") as store:
        report = _save(store)
        assert store.load_report(report.audit.id) == report


def test_reopen_reads_the_same(store_location: Path | str) -> None:
    db = store_location
    with Store(db) as store:
        report = _save(store)
    with Store(db) as store:
        assert store.load_report(report.audit.id) == report
        assert store.load_audit_info(report.audit.id) == report.audit


def test_saving_a_host_again_replaces_it(store_location: Path | str) -> None:
    with Store(store_location) as store:
        report = _save(store)
        changed = dataclasses.replace(report.devices[0], exposures=())
        store.save_device(report.audit.id, changed)
        store.save_device(report.audit.id, changed)
        loaded = store.load_report(report.audit.id)
        count = store._conn.execute("SELECT COUNT(*) FROM hosts").fetchone()[0]
        obs_count = store._conn.execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert count == len(report.devices)
    assert loaded.devices[0] == changed
    assert loaded.devices[1:] == report.devices[1:]
    # Every carried observation once, plus the incomplete host's MAC that only its evidence cites.
    expected_obs = sum(len(d.observations) for d in report.devices) + 1
    assert obs_count == expected_obs


def test_completed_addresses_and_listing(store_location: Path | str) -> None:
    with Store(store_location) as store:
        info = audit_info()
        store.begin_audit(dataclasses.replace(info, finished=None))
        store.save_device(info.id, hostile_device())
        assert store.completed_addresses(info.id) == {"10.20.0.66"}
        later = dataclasses.replace(
            info, id=AuditId("later"), started=info.started + timedelta(days=1), finished=None
        )
        store.begin_audit(later)
        other_site = dataclasses.replace(later, id=AuditId("branch"), site="Branch")
        store.begin_audit(other_site)
        summaries = store.list_audits()
        assert summaries[0] == AuditSummary(
            id=info.id,
            site="Headquarters",
            started=info.started,
            finished=None,
            devices=1,
            incomplete=0,
            profile=info.profile,
        )
        assert {s.id for s in summaries} == {info.id, "later", "branch"}
        assert store.latest_audit("Headquarters") == "later"
        assert store.latest_audit("Nowhere") is None
        assert store.resolve_audit("bra") == "branch"
        with pytest.raises(StoreError, match="no audit"):
            store.resolve_audit("zzz")
        # begin_audit again (a resume) keeps the saved hosts.
        store.begin_audit(dataclasses.replace(info, finished=None))
        assert store.completed_addresses(info.id) == {"10.20.0.66"}


def test_unknown_audit_is_a_clear_error(store_location: Path | str) -> None:
    with Store(store_location) as store, pytest.raises(StoreError, match="no audit 'nope'"):
        store.load_report("nope")
    with Store(store_location) as store, pytest.raises(StoreError, match="no audit"):
        store.save_device("nope", hostile_device())


def test_wal_and_schema_version(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] == CURRENT_VERSION


def test_migrates_an_empty_file_and_keeps_list_tables(tmp_path: Path) -> None:
    db = tmp_path / "empty.db"
    db.write_bytes(b"")
    conn = sqlite3.connect(db)
    # The exposure module's own tables live in the same file; the store must leave them alone.
    conn.execute("CREATE TABLE list_imports (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO list_imports (name) VALUES ('fcc')")
    conn.commit()
    conn.close()
    with Store(db) as store:
        report = _save(store)
        assert store.load_report(report.audit.id) == report
        assert store._conn.execute("SELECT name FROM list_imports").fetchall()[0][0] == "fcc"
    with Store(db):  # opening again applies nothing twice
        pass


def test_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    db = tmp_path / "notes.txt"
    db.write_text("these are my notes, not a database\n" * 100)
    with pytest.raises(StoreError, match="not a camaudit store"):
        Store(db)
    assert db.read_text().startswith("these are my notes")


def test_newer_schema_is_refused(store_location: Path | str) -> None:
    Store(store_location).close()
    run_sql(store_location, "INSERT INTO schema_version VALUES (?)", (CURRENT_VERSION + 1,))
    for read_only in (False, True):
        with pytest.raises(StoreError, match="newer than this camaudit"):
            Store(store_location, read_only=read_only)


def test_unwritable_path_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="audit store"):
        Store(blocker / "sub" / "camaudit.db")


def test_full_disk_rolls_back_the_host(tmp_path: Path) -> None:
    with Store(tmp_path / "c.db") as store:
        report = sample_report()
        store.begin_audit(report.audit)
        store.save_device(report.audit.id, report.devices[0])
        pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
        # SQLite's own SQLITE_FULL path: the file may not grow beyond its current size.
        store._conn.execute(f"PRAGMA max_page_count = {pages}")
        big = dataclasses.replace(
            report.devices[1],
            attempts=report.devices[1].attempts
            + (ProbeAttempt("http", Outcome.COMPLETED, detail="x" * 200_000),),
        )
        with pytest.raises(StoreError, match="disk"):
            store.save_device(report.audit.id, big)
        store._conn.execute("PRAGMA max_page_count = 1073741823")
        assert store.completed_addresses(report.audit.id) == {"10.20.0.11"}
        assert store._conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        store.save_device(report.audit.id, report.devices[1])
        assert len(store.load_report(report.audit.id).devices) == 2


def test_a_secret_is_never_stringified_into_the_store(store_location: Path | str) -> None:
    with Store(store_location) as store:
        report = sample_report()
        store.begin_audit(report.audit)
        leaky = dataclasses.replace(
            report.devices[0],
            attempts=(ProbeAttempt("http", Outcome.COMPLETED, detail=Secret("hunter2")),),  # type: ignore[arg-type]
        )
        # A programming error, not a store failure: it must surface, and write nothing.
        with pytest.raises(TypeError, match="Secret"):
            store.save_device(report.audit.id, leaky)
        assert store.completed_addresses(report.audit.id) == set()
    assert run_sql(store_location, "SELECT COUNT(*) FROM hosts") == [(0,)]
    if isinstance(store_location, Path):
        assert b"hunter2" not in store_location.read_bytes()


def test_concurrent_saves_from_threads(store_location: Path | str) -> None:
    import ipaddress
    from concurrent.futures import ThreadPoolExecutor

    report = sample_report()
    template = report.devices[1]
    with Store(store_location) as store:
        store.begin_audit(report.audit)

        def save(i: int) -> None:
            host = dataclasses.replace(
                template.host, address=ipaddress.ip_address(f"10.40.{i // 200}.{i % 200 + 1}")
            )
            store.save_device(report.audit.id, dataclasses.replace(template, host=host))

        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(save, range(200)))
        assert len(store.completed_addresses(report.audit.id)) == 200
        loaded = store.load_report(report.audit.id)
        assert all(d.identification == template.identification for d in loaded.devices)


def test_odd_text_round_trips_exactly(store_location: Path | str) -> None:
    """Lone surrogates (lenient decoding), NULs and bidi controls are kept byte for byte."""
    from datetime import UTC, datetime

    from auditor.models import Observation, ObservationKind

    odd = "caf\udce9 \x00 \u202e gnp.exe \U0001f4f7 " + "x" * 70_000
    obs = Observation(ObservationKind.HTTP_BODY, odd, "http:80", datetime.now(UTC), 80)
    report = sample_report()
    device = dataclasses.replace(
        report.devices[2],
        attempts=(ProbeAttempt("http", Outcome.COMPLETED, (obs,), detail="d\udc80"),),
    )
    with Store(store_location) as store:
        store.begin_audit(dataclasses.replace(report.audit, site="Sit\udcffe"))
        store.save_device(report.audit.id, device)
        loaded = store.load_report(report.audit.id)
    assert loaded.devices == (device,)
    assert loaded.devices[0].attempts[0].observations[0].sha256 == obs.sha256
    assert loaded.audit.site == "Sit\udcffe"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_an_unrelated_sqlite_file_is_refused_unchanged(tmp_path: Path) -> None:
    # `camaudit audits --db other.db` used to add the store's tables to someone else's database.
    db = tmp_path / "other.db"
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.execute("INSERT INTO invoices (total) VALUES (12.5)")
    conn.commit()
    conn.close()
    before = _snapshot(tmp_path)
    for read_only in (False, True):
        with pytest.raises(StoreError, match="not a camaudit store.*invoices"):
            Store(db, read_only=read_only)
    assert _snapshot(tmp_path) == before  # no WAL, no -shm, not a byte changed


def test_a_newer_schema_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    db = tmp_path / "new.db"
    conn = sqlite3.connect(db)  # a rollback-journal file, as a newer camaudit might leave it
    conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
    conn.execute("INSERT INTO schema_version VALUES (?)", (CURRENT_VERSION + 1,))
    conn.commit()
    conn.close()
    before = _snapshot(tmp_path)
    with pytest.raises(StoreError, match="newer than this camaudit"):
        Store(db)
    assert _snapshot(tmp_path) == before
    assert sqlite3.connect(db).execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_read_only_opening_changes_nothing_and_reads_everything(
    store_location: Path | str,
) -> None:
    with Store(store_location) as store:
        report = _save(store)
    with Store(store_location, read_only=True) as store:
        assert store.load_report(report.audit.id) == report
        assert [s.id for s in store.list_audits()] == [report.audit.id]
        with pytest.raises(StoreError):
            store.begin_audit(dataclasses.replace(report.audit, site="Elsewhere"))
        with pytest.raises(StoreError):
            store.save_device(report.audit.id, report.devices[0])
    with Store(store_location, read_only=True) as store:
        assert store.load_report(report.audit.id) == report


def test_read_only_opening_of_a_file_changes_no_byte(tmp_path: Path) -> None:
    db = tmp_path / "c.db"
    with Store(db) as store:
        report = _save(store)
    before = _snapshot(tmp_path)
    with Store(db, read_only=True) as store:
        assert store.load_report(report.audit.id) == report
        with pytest.raises(StoreError):
            store.begin_audit(report.audit)
    after = _snapshot(tmp_path)
    assert after["c.db"] == before["c.db"]


def test_read_only_opening_of_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such file"):
        Store(tmp_path / "none.db", read_only=True)
    assert not (tmp_path / "none.db").exists()


def test_many_processes_opening_a_new_store_at_once_migrate_it_once(tmp_path: Path) -> None:
    # A scan starting while `camaudit audits` (or a test) opens the same new file: both used to
    # read version 0 and apply migration 1, and the second failed on "table already exists".
    import subprocess
    import sys

    db = tmp_path / "race.db"
    opener = (
        "import sys, time; from auditor.store import Store\n"
        "t = float(sys.argv[2])\n"
        "while time.time() < t: pass\n"
        "Store(sys.argv[1]).close()\n"
    )
    for _ in range(5):
        db.unlink(missing_ok=True)
        start = f"{__import__('time').time() + 1.0}"
        procs = [
            subprocess.Popen([sys.executable, "-c", opener, str(db), start], stderr=subprocess.PIPE)
            for _ in range(6)
        ]
        errors = [p.communicate(timeout=60)[1].decode() for p in procs]
        assert all(p.returncode == 0 for p in procs), errors
        versions = sqlite3.connect(db).execute("SELECT version FROM schema_version").fetchall()
        assert sorted(v for (v,) in versions) == list(range(1, CURRENT_VERSION + 1))


def test_a_second_connection_shares_the_store_and_its_text_rules(
    store_location: Path | str,
) -> None:
    """connect(): a writer with its own transactions beside the store's, on either engine."""
    from auditor.store.db import connect

    report = sample_report()
    odd = "Sit\udcffe \x00 \u202e"  # a lone surrogate, a NUL, a bidi control
    with Store(store_location) as store:
        store.begin_audit(report.audit)
        other = connect(store_location, durable=False)
        try:
            other.begin_write()
            other.execute("UPDATE audits SET site = ? WHERE id = ?", (odd, report.audit.id))
            other.commit()
            row = other.execute("SELECT site FROM audits WHERE id = ?", (report.audit.id,))
            assert row.fetchone()["site"] == odd
            with pytest.raises(other.driver_errors):  # the driver's own errors, to wrap
                other.execute("SELECT no_such_column FROM audits")
        finally:
            other.close()
        assert store.load_audit_info(report.audit.id).site == odd


def test_every_cascading_foreign_key_is_indexed(tmp_path: Path) -> None:
    """Deleting a host (a re-saved or re-probed one) cascades through every foreign key; one
    without an index makes each cascade scan its whole table, so saves slow as the store grows."""
    db = tmp_path / "a.db"
    Store(db).close()
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        unindexed = []
        for table in tables:
            leading = {
                conn.execute(f"PRAGMA index_info('{index[1]}')").fetchone()[2]
                for index in conn.execute(f"PRAGMA index_list('{table}')")
            } | {c[1] for c in conn.execute(f"PRAGMA table_info('{table}')") if c[5] == 1}
            for fk in conn.execute(f"PRAGMA foreign_key_list('{table}')"):
                if fk[6] == "CASCADE" and fk[3] not in leading:
                    unindexed.append(f"{table}.{fk[3]}")
    finally:
        conn.close()
    assert tables and not unindexed, unindexed
