"""`camaudit store init --db postgresql://...`: the schema, the push functions and the GRANTs an
administrator runs; then a collector can push and a reader can report, on a real server."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
from psycopg.conninfo import conninfo_to_dict

from auditor.cli.app import main
from tests.central.pg import as_user, counts_pg, save_report
from tests.render.camaudit_sample_audit import sample_report

pytestmark = pytest.mark.postgres


def test_init_then_the_printed_statements_give_a_working_collector_and_reader(
    pg_database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(conninfo_to_dict(pg_database)["dbname"])
    names = [
        "--collector-role", f"{db}_col", "--reader-role", f"{db}_read",
        "--site-login", f"{db}_hq", "--site", "Headquarters",
    ]  # fmt: skip
    assert main(["store", "init", "--db", pg_database, *names]) == 0
    printed = capsys.readouterr()
    assert "Review and run these statements" in printed.err
    statements = printed.out
    assert "GRANT EXECUTE ON FUNCTION" in statements and "GRANT SELECT ON ALL TABLES" in statements
    assert "UPDATE" not in statements and "DELETE" not in statements
    # Running init again (an upgrade) changes nothing and prints the same.
    assert main(["store", "init", "--db", pg_database, *names]) == 0
    assert capsys.readouterr().out == statements

    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(statements)  # what the administrator runs (psql -f)
        conn.execute(f"CREATE ROLE {db}_boss LOGIN IN ROLE {db}_read")
    local = tmp_path / "hq.db"
    save_report(local, sample_report())
    collector = as_user(pg_database, f"{db}_hq")
    assert main(["push", "--to", collector, "--db", str(local)]) == 0
    assert counts_pg(pg_database)["hosts"] == 5
    reader = as_user(pg_database, f"{db}_boss")
    capsys.readouterr()
    assert main(["report", "--all-sites", "--db", reader, "-f", "json", "-o", "-"]) == 0
    assert '"devices": 5' in capsys.readouterr().out
    # The collector cannot read what it pushed.
    assert main(["audits", "--db", collector]) == 2
    assert "permission denied" in capsys.readouterr().err


def test_init_refuses_a_role_name_that_would_need_quoting(
    pg_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["store", "init", "--db", pg_database, "--reader-role", "x; DROP TABLE audits"]) == 2
    )
    assert "role name" in capsys.readouterr().err
