"""The throwaway PostgreSQL cluster the store tests run against is a real, private server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import psycopg
import pytest

from tests.pgcluster import PgCluster

pytestmark = pytest.mark.postgres


def test_each_test_gets_a_fresh_empty_database(pg_cluster: PgCluster, pg_database: str) -> None:
    with psycopg.connect(pg_database) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
        user = conn.execute("SELECT current_user, current_setting('server_version_num')").fetchone()
    assert tables == (0,)
    assert user is not None and user[0] == "postgres"
    assert int(user[1]) >= 120000


def test_cluster_runs_unprivileged_in_a_private_folder(pg_cluster: PgCluster) -> None:
    with psycopg.connect(pg_cluster.dsn) as conn:
        row = conn.execute(
            "SELECT pg_backend_pid(), current_setting('listen_addresses')"
        ).fetchone()
        assert row is not None
        pid, listen = row
        # Read while the connection is open: its backend process exits when it closes (reading
        # /proc after that raced the exit and failed now and then).
        owner = os.stat(f"/proc/{pid}").st_uid
    assert listen == ""  # the Unix socket in our folder only: nothing on the network
    assert owner != 0
    mode = stat.S_IMODE(Path(pg_cluster.folder).stat().st_mode)
    assert mode == 0o700
