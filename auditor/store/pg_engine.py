"""The central engine: a PostgreSQL database, through psycopg 3 and libpq.

The URL carries no password (see ``location``): libpq reads PGPASSWORD, ~/.pgpass or a service
file itself, and TLS settings (``sslmode=verify-full``, ``sslrootcert``) pass through unchanged.
Errors name the database by its redacted URL only.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from auditor.errors import StoreError
from auditor.store.connection import Connection, Row, make_row
from auditor.store.dialect import POSTGRES
from auditor.store.guard import check_tables, explain
from auditor.store.location import check_url, redact
from auditor.store.schema import migrate

#: Seconds to wait for the server to answer a connection (libpq's connect_timeout).
CONNECT_TIMEOUT_S = 30
#: A lost connection is replaced once (``Connection.run``): after this pause (a restarting
#: server or a failover proxy needs a moment), one connect that waits at most RECONNECT_TIMEOUT_S
#: (libpq's minimum is 2 s), so a server that stays down fails the operation within seconds.
RECONNECT_PAUSE_S = 0.5
RECONNECT_TIMEOUT_S = 5


def _driver() -> Any:
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - a base dependency; a broken install
        raise StoreError(
            f"a postgresql:// store needs psycopg 3 (pip install 'psycopg[binary]'): {exc}"
        ) from exc
    return psycopg


def _row_factory(cursor: Any) -> Any:
    names = {d.name: i for i, d in enumerate(cursor.description or ())}

    def make(values: Sequence[object]) -> Row:
        return make_row(names, values, POSTGRES)

    return make


@contextmanager
def errors(url: str, action: str) -> Iterator[None]:
    psycopg = _driver()
    try:
        yield
    except StoreError:
        raise
    except (psycopg.Error, OSError, RuntimeError) as exc:
        # libpq's messages may quote the connection string; never echo a secret from it.
        message = explain(exc).replace(url, redact(url))
        raise StoreError(f"audit store {redact(url)}: could not {action}: {message}") from exc


def connect_plain(url: str) -> Connection:
    """Another connection to a store that ``open_postgres`` has made (no checks, no migration),
    for a writer with transactions of its own."""
    check_url(url)
    with errors(url, "connect"):
        raw = _connect(url, CONNECT_TIMEOUT_S)
    return Connection(raw, POSTGRES, reopen=lambda: _reconnect(url))


def _connect(url: str, timeout: int) -> Any:
    # Everything a session is given here is given again on a reconnect; the search_path and
    # other options travel in the URL, the SET statements through Connection.set_session.
    return _driver().connect(
        url,
        autocommit=True,  # transactions are explicit (BEGIN ... COMMIT), as with SQLite
        row_factory=_row_factory,
        connect_timeout=timeout,
        application_name="camaudit",
    )


def _reconnect(url: str) -> Any:
    time.sleep(RECONNECT_PAUSE_S)
    return _connect(url, RECONNECT_TIMEOUT_S)


def open_postgres(url: str, *, read_only: bool, lists_only: bool = False) -> Connection:
    """Connect to the database at ``url``; for writing, create or migrate the schema.

    ``lists_only`` (with ``read_only``): only the official-list tables will be read.
    """
    where = redact(url)
    conn = connect_plain(url)
    try:
        with errors(url, "open"):
            tables = {r[0] for r in conn.execute(POSTGRES.tables_sql()).fetchall()}
            version = (
                conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                if "schema_version" in tables
                else None
            )
            if read_only and not tables and not lists_only:
                raise StoreError(
                    f"audit store {where}: the database has no camaudit store yet; create it "
                    "with `camaudit store init --db URL` or a scan"
                )
            check_version = read_only and not lists_only
            check_tables(where, "a PostgreSQL database", tables, version, check_version)
            if read_only:
                # Nothing this process runs can change the central store (belt and braces:
                # the reader role of a least-privilege setup cannot write anyway).
                conn.set_session("SET default_transaction_read_only = on")
            else:
                # As SQLite's synchronous=FULL: a host is saved when its commit returns, even if
                # the server's default (a DBA's tuning) lets commits return before the WAL write.
                conn.set_session(POSTGRES.durability(flushed=True))
                migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn
