"""A PostgreSQL store survives a dropped connection: the server ends the store's session
(``pg_terminate_backend``, as a restart, a failover or a proxy's idle timeout would) and the next
read or save reconnects once and succeeds, with every host exactly once. A server that stays
down is the same clear error as before, and the store works again once the server is back."""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import pytest

from auditor.errors import StoreError
from auditor.models import Channel, Host, Service
from auditor.store import Store
from auditor.store.location import redact
from auditor.store.sightings import Sightings
from tests.pgcluster import PgCluster, running_cluster, unavailable_reason
from tests.render.camaudit_sample_audit import sample_report
from tests.store.store_engines import run_sql, save_report

pytestmark = pytest.mark.postgres


def kill_store_sessions(url: str) -> int:
    """End every camaudit session on the store's database from a second connection; how many."""
    rows = run_sql(
        url,
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid() "
        "AND application_name = 'camaudit'",
    )
    assert rows and all(r[0] for r in rows), "no store session to end"
    # pg_terminate_backend only signals: wait until the sessions are really gone.
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        left = run_sql(
            url,
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = 'camaudit'",
        )
        if left[0][0] == 0:
            return len(rows)
        time.sleep(0.05)
    raise AssertionError("the store's sessions did not end")


def host_rows(url: str, audit_id: str) -> list[tuple[str, int]]:
    return [
        (str(r[0]), int(r[1]))
        for r in run_sql(
            url,
            "SELECT address, COUNT(*) FROM hosts WHERE audit_id = ? GROUP BY address "
            "ORDER BY address",
            (audit_id,),
        )
    ]


def test_reads_after_the_server_ended_the_session_succeed(pg_database: str) -> None:
    report = sample_report()
    with Store(pg_database) as store:
        save_report(store, report)
        kill_store_sessions(pg_database)
        assert store.load_report(report.audit.id) == report
        kill_store_sessions(pg_database)
        assert [a.id for a in store.list_audits()] == [report.audit.id]
        kill_store_sessions(pg_database)
        assert store.completed_addresses(report.audit.id) == {
            str(d.host.address) for d in report.devices
        }
        kill_store_sessions(pg_database)
        with store.snapshot("count hosts") as conn:
            assert conn.execute("SELECT COUNT(*) FROM hosts").fetchone()[0] == 5
        kill_store_sessions(pg_database)
        with store.report_stream(report.audit.id, batch=2) as stream:
            assert tuple(stream.devices) == report.devices


def test_a_read_only_store_reconnects_read_only(pg_database: str) -> None:
    report = sample_report()
    with Store(pg_database) as store:
        store.begin_audit(report.audit)
    with Store(pg_database, read_only=True) as reader:
        kill_store_sessions(pg_database)
        assert reader.load_audit_info(report.audit.id) == report.audit
        with reader.snapshot("check the session") as conn:
            assert conn.execute("SHOW default_transaction_read_only").fetchone()[0] == "on"


def test_a_save_after_the_kill_is_kept_once_with_the_session_settings(pg_database: str) -> None:
    report = sample_report()
    audit = report.audit.id
    first, second = report.devices[0], report.devices[1]
    with Store(pg_database) as store:
        store.begin_audit(report.audit)
        store.save_device(audit, first)
        kill_store_sessions(pg_database)
        store.save_device(audit, second)
        assert host_rows(pg_database, audit) == sorted(
            [(str(first.host.address), 1), (str(second.host.address), 1)]
        )
        assert store.load_report(audit).devices == (first, second)
        # The new session has the settings the store gave the old one (flushed commits).
        with store.snapshot("check the session") as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"
        with store.relaxed_durability():
            kill_store_sessions(pg_database)
            store.save_device(audit, report.devices[2])
            with store.snapshot("check the session") as conn:
                assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "off"
        with store.snapshot("check the session") as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone()[0] == "on"


def test_a_scan_with_kills_in_the_middle_ends_with_every_host_once(pg_database: str) -> None:
    report = sample_report()
    audit = report.audit.id
    assert report.audit.finished is not None
    with Store(pg_database) as store:

        def kill() -> None:
            kill_store_sessions(pg_database)

        store.begin_audit(report.audit)
        kill()
        store.begin_audit(report.audit)  # a resume of the same audit, after a drop
        for number, device in enumerate(report.devices):
            if number in (1, 3):
                kill()
            store.save_device(audit, device)
        store.save_device(audit, report.devices[2])  # saved again (a resume): replaced
        kill()
        store.save_out_of_scope(audit, report.out_of_scope)
        kill()
        store.finish_audit(audit, report.audit.finished, report.notes)
        kill()
        loaded = store.load_report(audit)
    assert loaded == report
    assert host_rows(pg_database, audit) == sorted((str(d.host.address), 1) for d in report.devices)


@pytest.mark.parametrize("when", ["mid-save", "commit"])
def test_a_save_cut_by_the_server_is_run_again_and_kept_once(pg_database: str, when: str) -> None:
    """The server ends the session once, in the middle of a host's save (an insert's trigger:
    the save was rolled back) or during its COMMIT (a deferred trigger: the outcome is unknown
    to the store; a host's save is idempotent, so it is run again either way)."""
    timing = "DEFERRABLE INITIALLY DEFERRED" if when == "commit" else "NOT DEFERRABLE"
    report = sample_report()
    audit = report.audit.id
    with Store(pg_database) as store:
        store.begin_audit(report.audit)
        store.save_device(audit, report.devices[0])
        run_sql(
            pg_database,
            "CREATE SEQUENCE kill_once; "
            "CREATE FUNCTION kill_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF nextval('kill_once') = 1 THEN PERFORM pg_terminate_backend(pg_backend_pid()); "
            "PERFORM pg_sleep(5); END IF; RETURN NULL; END $$; "
            f"CREATE CONSTRAINT TRIGGER cut AFTER INSERT ON hosts {timing} "
            "FOR EACH ROW EXECUTE FUNCTION kill_at_commit()",
        )
        store.save_device(audit, report.devices[1])
        assert run_sql(pg_database, "SELECT last_value FROM kill_once")[0][0] >= 2  # ran again
        assert host_rows(pg_database, audit) == sorted(
            (str(d.host.address), 1) for d in report.devices[:2]
        )
        assert store.load_report(audit).devices == report.devices[:2]


def test_the_sightings_writer_survives_a_kill(pg_database: str) -> None:
    report = sample_report()
    with Store(pg_database) as store:
        store.begin_audit(report.audit)
    addresses = [f"10.9.0.{n}" for n in range(1, 7)]

    def host(address: str) -> Host:
        return Host(
            ipaddress.ip_address(address),
            services=(Service(80, "tcp"),),
            seen_by=frozenset({Channel.NMAP}),
        )

    book = Sightings(pg_database, report.audit.id, ports_pending=False)
    try:
        for address in addresses[:3]:
            book.add(host(address))
        book.flush()
        kill_store_sessions(pg_database)
        for address in addresses[3:]:
            book.add(host(address))
        book.flush()  # a write on the new connection
        kill_store_sessions(pg_database)
        ready = book.ready(0, 100)  # a read on the new connection
        kill_store_sessions(pg_database)
        book.mark_probed(addresses[0], 1, unconfirmed=True)
        assert book.unconfirmed() == 1
    finally:
        book.close()
    assert sorted(str(s.host.address) for s in ready) == addresses
    counts = run_sql(
        pg_database,
        "SELECT COUNT(*), COUNT(DISTINCT address) FROM sightings WHERE audit_id = ?",
        (report.audit.id,),
    )
    assert counts == [(6, 6)]


@pytest.fixture
def own_cluster() -> Iterator[PgCluster]:
    """A cluster of this test's own, to stop and start (the session's serves the others)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with running_cluster() as cluster:
        yield cluster


def test_a_server_that_stays_down_is_a_clear_error_and_the_store_recovers(
    own_cluster: PgCluster,
) -> None:
    url = own_cluster.create_database("down")
    report = sample_report()
    audit = report.audit.id
    with Store(url) as store:
        store.begin_audit(report.audit)
        store.save_device(audit, report.devices[0])
        own_cluster.stop_server()
        began = time.monotonic()
        with pytest.raises(StoreError) as caught:
            store.save_device(audit, report.devices[1])
        waited = time.monotonic() - began
        message = str(caught.value)
        assert message.startswith(f"audit store {redact(url)}: could not save host 10.20.0.")
        assert "reconnecting failed" in message and "camaudit scan --resume" in message
        assert waited < 10  # one bounded reconnect, not a hang
        with pytest.raises(StoreError, match="could not read audit"):
            store.load_report(audit)
        own_cluster.start_server()
        store.save_device(audit, report.devices[1])  # the store is usable again
        assert store.load_report(audit).devices == report.devices[:2]
