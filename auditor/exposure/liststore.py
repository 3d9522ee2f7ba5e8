"""Imported official lists, kept in the audit store's SQLite file in tables named ``list_*``.

The audit tables in the same file belong to the store; this module creates and touches only its
own tables, with its own schema version. An import is one transaction: a malformed file is
refused before anything is written, and a failure while writing leaves the previous import of
that kind in place. The newest import of each kind is the one matched against.
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.errors import StoreError
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.lists.base import MAX_ROW_CHARS, ListEntry, ParsedList
from auditor.exposure.normalise import loose_form, normal_form

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS list_schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS list_imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    file_name TEXT NOT NULL,
    files TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    published TEXT,
    imported_at TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    current INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS list_entries (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES list_imports(id),
    entry_key TEXT NOT NULL,
    instrument TEXT NOT NULL,
    name TEXT NOT NULL,
    program TEXT NOT NULL,
    since TEXT,
    source_url TEXT NOT NULL,
    row_text TEXT NOT NULL,
    line INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS list_names (
    entry_id INTEGER NOT NULL REFERENCES list_entries(id),
    name TEXT NOT NULL,
    norm TEXT NOT NULL,
    loose TEXT NOT NULL,
    primary_name INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS list_names_norm ON list_names(norm);
CREATE INDEX IF NOT EXISTS list_entries_import ON list_entries(import_id);
"""


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: int
    kind: str
    file_name: str
    sha256: str
    published: date | None
    imported_at: datetime
    rows_read: int
    entries: int

    def age_days(self, today: date) -> int | None:
        return None if self.published is None else (today - self.published).days


@dataclass(frozen=True, slots=True)
class StoredName:
    """One name of one listed party, as the matcher sees it."""

    name: str
    norm: str
    loose: str
    primary: bool
    entry: ListEntry
    kind: str
    published: date | None


def file_digest(paths: list[Path]) -> str:
    """One SHA-256 over every file of an import (SDN.CSV with its ALT/ADD files)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.lower().encode())
        h.update(b"\x00")
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def _connect(db_path: Path) -> sqlite3.Connection:
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(db_path, timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.executescript(_SCHEMA)
        row = conn.execute("SELECT version FROM list_schema_version").fetchone()
        if row is None:
            conn.execute("INSERT INTO list_schema_version VALUES (?)", (SCHEMA_VERSION,))
            conn.commit()
        elif row[0] > SCHEMA_VERSION:
            conn.close()
            raise StoreError(
                f"{db_path}: list tables are schema {row[0]}, newer than this camaudit "
                f"({SCHEMA_VERSION}); upgrade camaudit"
            )
    except sqlite3.Error as exc:
        raise StoreError(f"{db_path}: cannot open the list tables: {exc}") from None
    return conn


@contextmanager
def _read_only(db_path: Path | None) -> Iterator[sqlite3.Connection | None]:
    """Open for reading without creating anything; None when there is nothing to read."""
    if db_path is None or not db_path.exists():
        yield None
        return
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(f"{db_path}: cannot open: {exc}") from None
    with closing(conn):
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        yield conn if "list_imports" in tables else None


def import_list(db_path: Path, path: Path, kind: str) -> ImportRecord:
    """Parse ``path`` as ``kind`` and store it, replacing the previous import of that kind."""
    fmt = LIST_FORMATS.get(kind)
    if fmt is None:
        raise ValueError(f"unknown list kind {kind!r}")
    parsed = fmt.parse(path)  # raises DataFileError before anything is written
    digest = file_digest(parsed.files)
    now = datetime.now(UTC)
    conn = _connect(db_path)
    try:
        with conn:  # one transaction: all of it or none of it
            conn.execute("UPDATE list_imports SET current = 0 WHERE kind = ?", (kind,))
            conn.execute(
                "DELETE FROM list_names WHERE entry_id IN (SELECT e.id FROM list_entries e "
                "JOIN list_imports i ON i.id = e.import_id WHERE i.kind = ?)",
                (kind,),
            )
            conn.execute(
                "DELETE FROM list_entries WHERE import_id IN "
                "(SELECT id FROM list_imports WHERE kind = ?)",
                (kind,),
            )
            import_id = _insert_import(conn, parsed, path, digest, now)
            for entry in parsed.entries:
                _insert_entry(conn, import_id, entry)
    except sqlite3.Error as exc:
        raise StoreError(f"{db_path}: import of {path} failed, nothing changed: {exc}") from None
    finally:
        conn.close()
    logger.info("imported %s: %d rows, %d entries", path, parsed.rows_read, len(parsed.entries))
    return ImportRecord(
        import_id,
        kind,
        path.name,
        digest,
        parsed.published,
        now,
        parsed.rows_read,
        len(parsed.entries),
    )


def _insert_import(
    conn: sqlite3.Connection, parsed: ParsedList, path: Path, digest: str, now: datetime
) -> int:
    cur = conn.execute(
        "INSERT INTO list_imports (kind, file_name, files, sha256, published, imported_at, "
        "rows_read, entries) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            parsed.kind,
            path.name,
            "; ".join(str(p) for p in parsed.files),
            digest,
            parsed.published.isoformat() if parsed.published else None,
            now.isoformat(),
            parsed.rows_read,
            len(parsed.entries),
        ),
    )
    assert cur.lastrowid is not None
    return cur.lastrowid


def _insert_entry(conn: sqlite3.Connection, import_id: int, entry: ListEntry) -> None:
    cur = conn.execute(
        "INSERT INTO list_entries (import_id, entry_key, instrument, name, program, since, "
        "source_url, row_text, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            import_id,
            entry.key,
            entry.instrument,
            entry.name,
            entry.program,
            entry.since,
            entry.source_url,
            entry.row[:MAX_ROW_CHARS],
            entry.line,
        ),
    )
    names = dict.fromkeys([entry.name, *entry.aliases])
    conn.executemany(
        "INSERT INTO list_names (entry_id, name, norm, loose, primary_name) VALUES (?, ?, ?, ?, ?)",
        [
            (cur.lastrowid, n, normal_form(n), loose_form(n), int(n == entry.name))
            for n in names
            if normal_form(n)
        ],
    )


def _record(row: tuple[object, ...]) -> ImportRecord:
    published = date.fromisoformat(str(row[4])) if row[4] else None
    return ImportRecord(
        id=int(str(row[0])),
        kind=str(row[1]),
        file_name=str(row[2]),
        sha256=str(row[3]),
        published=published,
        imported_at=datetime.fromisoformat(str(row[5])),
        rows_read=int(str(row[6])),
        entries=int(str(row[7])),
    )


def current_imports(db_path: Path | None) -> tuple[ImportRecord, ...]:
    with _read_only(db_path) as conn:
        if conn is None:
            return ()
        rows = conn.execute(
            "SELECT id, kind, file_name, sha256, published, imported_at, rows_read, entries "
            "FROM list_imports WHERE current = 1 ORDER BY kind"
        ).fetchall()
    return tuple(_record(r) for r in rows)


def load_names(db_path: Path | None) -> tuple[StoredName, ...]:
    """Every name of every party in the current imports, for the matcher."""
    with _read_only(db_path) as conn:
        if conn is None:
            return ()
        rows = conn.execute(
            "SELECT n.name, n.norm, n.loose, n.primary_name, e.entry_key, e.instrument, e.name, "
            "e.program, e.since, e.source_url, e.row_text, e.line, i.kind, i.published "
            "FROM list_names n JOIN list_entries e ON e.id = n.entry_id "
            "JOIN list_imports i ON i.id = e.import_id WHERE i.current = 1"
        ).fetchall()
    out = []
    for r in rows:
        entry = ListEntry(
            key=r[4],
            instrument=r[5],
            name=r[6],
            program=r[7],
            since=r[8],
            source_url=r[9],
            row=r[10],
            line=r[11],
        )
        published = date.fromisoformat(r[13]) if r[13] else None
        out.append(StoredName(r[0], r[1], r[2], bool(r[3]), entry, r[12], published))
    return tuple(out)
