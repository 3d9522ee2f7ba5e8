"""Least privilege on the central store, against a real server: the collector role may only push
audits of its own site (no reading, no update, no delete), the reader may only read."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from auditor.cli.app import main
from auditor.models import AuditId
from auditor.store.central import grant_statements
from tests.central.pg import as_user, canonical_pg, canonical_sqlite, counts_pg, save_report
from tests.render.camaudit_sample_audit import sample_report

pytestmark = pytest.mark.postgres


class Roles:
    def __init__(self, url: str) -> None:
        self.url = url
        db = str(conninfo_to_dict(url)["dbname"])
        # Roles belong to the cluster, which the tests share: one set per test database.
        self.collector, self.reader = f"{db}_collector", f"{db}_reader"
        self.berlin, self.paris, self.hq = f"{db}_berlin", f"{db}_paris", f"{db}_hq"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                grant_statements(
                    "public",
                    db,
                    collector=self.collector,
                    reader=self.reader,
                    example_login=self.berlin,
                    example_site="Headquarters",
                )
            )
            conn.execute(
                f"CREATE ROLE {self.paris} LOGIN IN ROLE {self.collector};"
                f"INSERT INTO camaudit_collectors (role, site) VALUES ('{self.paris}', 'Paris');"
                f"CREATE ROLE {self.hq} LOGIN IN ROLE {self.reader};"
            )

    def login(self, role: str) -> str:
        return as_user(self.url, role)


@pytest.fixture
def roles(central: str) -> Roles:
    """The printed statements, run by the administrator: two sites' logins and a reader."""
    return Roles(central)


def _denied(url: str, statement: str) -> None:
    with (
        psycopg.connect(url, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(statement)


def test_a_collector_pushes_its_own_site_twice_and_changes_nothing_the_second_time(
    roles: Roles, tmp_path: Path
) -> None:
    local = tmp_path / "hq.db"
    report = sample_report()
    save_report(local, report)
    collector = roles.login(roles.berlin)  # its site is Headquarters (the fixture's row)
    assert main(["push", "--to", collector, "--db", str(local)]) == 0
    before = counts_pg(roles.url)
    assert main(["push", "--to", collector, "--db", str(local)]) == 0
    assert counts_pg(roles.url) == before
    assert canonical_pg(roles.url, report.audit.id) == canonical_sqlite(local, report.audit.id)


def test_a_collector_cannot_read_change_or_delete_any_row(roles: Roles, tmp_path: Path) -> None:
    local = tmp_path / "hq.db"
    save_report(local, sample_report())
    assert main(["push", "--to", roles.url, "--db", str(local)]) == 0  # the admin pushed HQ
    before = counts_pg(roles.url)
    paris = roles.login(roles.paris)
    for statement in (
        "SELECT * FROM audits",
        "SELECT count(*) FROM hosts",
        "SELECT * FROM observations LIMIT 1",
        "SELECT * FROM camaudit_collectors",
        "UPDATE audits SET site = 'Paris'",
        "UPDATE identifications SET manufacturer = 'Axis'",
        "DELETE FROM hosts",
        "DELETE FROM audits",
        "TRUNCATE exposures",
        "INSERT INTO audits (id, site, started, tool_version, targets, excludes, profile, "
        "data_versions, ports, probes) VALUES ('x', 'Paris', 'now', '0', '[]', '[]', 'generic', "
        "'[]', '[]', '[]')",
        f"INSERT INTO camaudit_collectors (role, site) VALUES ('{roles.paris}', '*')",
        "SELECT camaudit_may_push('Headquarters')",
    ):
        _denied(paris, statement)
    assert counts_pg(roles.url) == before


def test_a_collector_cannot_push_into_another_sites_audit(roles: Roles, tmp_path: Path) -> None:
    report = sample_report()
    hq = tmp_path / "hq.db"
    save_report(hq, report)
    # Paris's own store holds an audit that claims to be Headquarters'.
    assert main(["push", "--to", roles.login(roles.paris), "--db", str(hq)]) == 2
    assert counts_pg(roles.url)["audits"] == 0
    assert main(["push", "--to", roles.url, "--db", str(hq)]) == 0
    before = counts_pg(roles.url)
    # Even with HQ's audit id: no host of Paris gets into it, finished or not.
    with psycopg.connect(roles.login(roles.paris), autocommit=True) as conn:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(
                "SELECT camaudit_push_host(%s, %s::jsonb)",
                (report.audit.id, '{"host": {"address": "10.9.9.9"}}'),
            )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT camaudit_finish_audit(%s, '{}'::jsonb, 0)", (report.audit.id,))
    assert counts_pg(roles.url) == before
    # Nor can its own audit carry hosts labelled as another site's.
    paris_audit = dataclasses.replace(report.audit, id=AuditId("p0"), site="Paris", finished=None)
    save_report(tmp_path / "p0.db", dataclasses.replace(report, audit=paris_audit, devices=()))
    assert main(["push", "--to", roles.login(roles.paris), "--db", str(tmp_path / "p0.db")]) == 0
    with (
        psycopg.connect(roles.login(roles.paris), autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute(
            "SELECT camaudit_push_host('p0', %s::jsonb)",
            ('{"host": {"address": "10.9.9.9", "site": "Headquarters"}}',),
        )
    assert counts_pg(roles.url)["hosts"] == before["hosts"]
    # Its own site goes in.
    paris = dataclasses.replace(
        report, audit=dataclasses.replace(report.audit, id=AuditId("p1"), site="Paris")
    )
    save_report(tmp_path / "paris.db", paris)
    assert main(["push", "--to", roles.login(roles.paris), "--db", str(tmp_path / "paris.db")]) == 0
    assert counts_pg(roles.url)["audits"] == 3


def test_the_reader_reads_and_cannot_write(roles: Roles, tmp_path: Path) -> None:
    local = tmp_path / "hq.db"
    save_report(local, sample_report())
    assert main(["push", "--to", roles.url, "--db", str(local)]) == 0
    before = counts_pg(roles.url)
    reader = roles.login(roles.hq)
    with psycopg.connect(reader) as conn:
        assert conn.execute("SELECT count(*) FROM hosts").fetchone() == (5,)
    for statement in (
        "UPDATE audits SET site = 'x'",
        "DELETE FROM hosts",
        "INSERT INTO out_of_scope (audit_id, address, referrer, via, seq) "
        "VALUES ('20261121T090000Z-hq', 'a', 'b', 'c', 9)",
        "SELECT camaudit_push_audit('{}'::jsonb)",
    ):
        _denied(reader, statement)
    assert main(["push", "--to", reader, "--db", str(local)]) == 2
    assert counts_pg(roles.url) == before
