"""The embedded engine: one SQLite file (WAL) per project.

Every write is its own transaction with ``synchronous=FULL``, so an audit interrupted by Ctrl-C,
kill -9 or a power cut keeps every host that was saved. A file that is not ours, or that a newer
camaudit wrote, is refused before anything is written to it; ``read_only`` changes nothing in the
file (no WAL switch, no migration), so a store on a read-only medium can still be reported on.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from auditor.errors import StoreError
from auditor.store.connection import Connection, Row, make_row
from auditor.store.dialect import SQLITE
from auditor.store.guard import check_tables, explain
from auditor.store.schema import migrate

logger = logging.getLogger(__name__)

#: How long opening the store waits for another process that holds it.
OPEN_WAIT_S = 30.0


@contextmanager
def errors(where: str, action: str) -> Iterator[None]:
    try:
        yield
    except StoreError:
        raise
    except (sqlite3.Error, OSError, RuntimeError) as exc:
        raise StoreError(f"audit store {where}: could not {action}: {explain(exc)}") from exc


def _row_factory(cursor: sqlite3.Cursor, row: tuple[object, ...]) -> Row:
    names = {d[0]: i for i, d in enumerate(cursor.description)}
    return make_row(names, row, SQLITE)


def open_sqlite(path: Path, *, read_only: bool, lists_only: bool = False) -> Connection:
    """Open (and for writing, create or migrate) the store file at ``path``.

    ``lists_only`` (with ``read_only``): the official-list tables are all that will be read, so
    audit tables of an older schema (or none) are no reason to refuse the file.
    """
    # Several processes opening a new store at once (a scan starting while `audits` runs)
    # meet SQLite's locks in places its busy handler does not cover: wait for them.
    deadline = time.monotonic() + OPEN_WAIT_S
    while True:
        try:
            return _open(path, read_only, lists_only)
        except StoreError as exc:
            locked = isinstance(exc.__cause__, sqlite3.OperationalError) and "locked" in str(
                exc.__cause__
            )
            if not locked or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _open(path: Path, read_only: bool, lists_only: bool) -> Connection:
    if path.exists():
        _check_ours(path, read_only and not lists_only)
    elif read_only:
        raise StoreError(f"audit store {path}: no such file")
    if read_only:
        return Connection(_open_read_only(path), SQLITE)
    with errors(str(path), "open"):
        path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
        raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    try:
        with errors(str(path), "open"):
            raw.row_factory = _row_factory
            mode = _enable_wal(raw)
            if str(mode).lower() != "wal":
                logger.warning("%s: SQLite refused WAL mode (%s)", path, mode)
            # FULL: a committed host survives a power cut, not only a killed process.
            raw.execute(SQLITE.durability(flushed=True))
            raw.execute("PRAGMA foreign_keys=ON")
            conn = Connection(raw, SQLITE)
            migrate(conn)
            return conn
    except BaseException:
        raw.close()
        raise


def connect_plain(path: Path, *, durable: bool) -> Connection:
    """Another connection to a store that ``open_sqlite`` has made (no checks, no migration),
    for a writer with transactions of its own. ``durable=False``: a commit survives a killed
    process but not a power cut (WAL with synchronous=NORMAL), for data a resume finds again."""
    with errors(str(path), "open"):
        raw = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
        raw.row_factory = _row_factory
        raw.execute(SQLITE.durability(flushed=durable))
        raw.execute("PRAGMA foreign_keys=ON")
    return Connection(raw, SQLITE)


def _connect_ro(path: Path, *, immutable: bool = False) -> sqlite3.Connection:
    flags = "mode=ro&immutable=1" if immutable else "mode=ro"
    uri = f"{path.resolve().as_uri()}?{flags}"
    return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)


def _check_ours(path: Path, read_only: bool) -> None:
    """Refuse, without writing a byte, a file that is not an audit store or is too new."""
    with errors(str(path), "open"):
        conn = _connect_ro(path, immutable=not os.access(path.parent, os.W_OK))
        try:
            tables = {
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if not r[0].startswith("sqlite_")
            }
            version = (
                conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                if "schema_version" in tables
                else None
            )
        finally:
            conn.close()
    check_tables(str(path), "an SQLite file", tables, version, read_only)


def _open_read_only(path: Path) -> sqlite3.Connection:
    with errors(str(path), "open"):
        try:
            conn = _connect_ro(path)
            conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchall()
        except sqlite3.OperationalError:
            # A WAL file on a read-only medium: SQLite cannot create its -shm index there.
            # Read it as immutable; nothing can be writing to a read-only medium.
            conn = _connect_ro(path, immutable=True)
        conn.row_factory = _row_factory
        conn.execute("PRAGMA query_only=ON")
        return conn


def _enable_wal(conn: sqlite3.Connection, wait_s: float = 30.0) -> str:
    """Switch the file to WAL, waiting while another process holds it.

    Changing the journal mode of a new file does not always go through SQLite's busy handler:
    two camaudit processes opening a new store at once saw "database is locked" at once.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
