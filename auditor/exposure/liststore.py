"""Imported official lists, kept in the audit store's SQLite file in tables named ``list_*``.

The audit tables in the same file belong to the store; this module creates and touches only its
own tables, with its own schema version. An import is one transaction: a malformed file is
refused before anything is written, and a failure while writing leaves the previous import of
that kind in place. The newest import of each kind is the one matched against.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.errors import StoreError
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.lists.base import MAX_ROW_CHARS, ListEntry, ParsedList
from auditor.exposure.normalise import forms

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1
#: Less free space than this where the store lives counts as a full disk (error messages only).
_NEARLY_FULL = 64 * 1024

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
class NameRow:
    """One name of one listed party, as the matcher indexes it (the entry is fetched on a hit)."""

    entry_id: int
    name: str
    norm: str
    loose: str


@dataclass(frozen=True, slots=True)
class StoredEntry:
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


def _unreadable(db_path: Path, exc: sqlite3.Error) -> str:
    """Why a store cannot be read. A WAL store opened on a full disk fails with "disk I/O error"
    (its -shm file cannot be made), which read as corruption; say the disk is full instead."""
    try:
        full = shutil.disk_usage(db_path.parent).free < _NEARLY_FULL
    except OSError:
        full = False
    if full:
        return f"cannot read the store: the disk holding it is full ({exc}); free some disk space"
    return f"not a readable camaudit store: {exc}"


@contextmanager
def _read_only(db_path: Path | None) -> Iterator[sqlite3.Connection | None]:
    """Open for reading without creating anything; None when there is nothing to read."""
    if db_path is None or not db_path.exists():
        yield None
        return
    # A store on a read-only medium (an archived audit on a share): SQLite cannot make the WAL
    # index there, so the file is opened as immutable, as the audit store itself does.
    flags = "mode=ro" if os.access(db_path.parent, os.W_OK) else "mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?{flags}", uri=True, timeout=30)
    except sqlite3.Error as exc:
        raise StoreError(f"{db_path}: cannot open: {exc}") from None
    with closing(conn):
        try:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{db_path}: {_unreadable(db_path, exc)}") from None
        yield conn if "list_imports" in {r[0] for r in rows} else None


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
            _insert_entries(conn, import_id, parsed.entries)
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


def _insert_entries(conn: sqlite3.Connection, import_id: int, entries: list[ListEntry]) -> None:
    # Ids are assigned here so that entries and names go in with two executemany calls:
    # one INSERT per row was most of the import time on a 200,000-row OpenSanctions file.
    first = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM list_entries").fetchone()[0]
    entry_rows = []
    name_rows = []
    for offset, entry in enumerate(entries):
        entry_id = first + offset
        entry_rows.append(
            (
                entry_id,
                import_id,
                entry.key,
                entry.instrument,
                entry.name,
                entry.program,
                entry.since,
                entry.source_url,
                entry.row[:MAX_ROW_CHARS],
                entry.line,
            )
        )
        for name in dict.fromkeys([entry.name, *entry.aliases]):
            norm, loose = forms(name)
            if norm:
                name_rows.append((entry_id, name, norm, loose, int(name == entry.name)))
    conn.executemany(
        "INSERT INTO list_entries (id, import_id, entry_key, instrument, name, program, since, "
        "source_url, row_text, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        entry_rows,
    )
    conn.executemany(
        "INSERT INTO list_names (entry_id, name, norm, loose, primary_name) VALUES (?, ?, ?, ?, ?)",
        name_rows,
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


def load_names(db_path: Path | None) -> tuple[NameRow, ...]:
    """Every name of every party in the current imports, for the matcher's index."""
    with _read_only(db_path) as conn:
        if conn is None:
            return ()
        rows = conn.execute(
            "SELECT n.entry_id, n.name, n.norm, n.loose FROM list_names n "
            "JOIN list_entries e ON e.id = n.entry_id "
            "JOIN list_imports i ON i.id = e.import_id WHERE i.current = 1"
        ).fetchall()
    return tuple(NameRow(*r) for r in rows)


def fetch_entries(db_path: Path | None, ids: Iterable[int]) -> dict[int, StoredEntry]:
    """The full entries (with their verbatim rows) for the names the matcher hit."""
    wanted = sorted(set(ids))
    out: dict[int, StoredEntry] = {}
    with _read_only(db_path) as conn:
        if conn is None or not wanted:
            return out
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                "SELECT e.id, e.entry_key, e.instrument, e.name, e.program, e.since, "
                "e.source_url, e.row_text, e.line, i.kind, i.published FROM list_entries e "
                f"JOIN list_imports i ON i.id = e.import_id WHERE e.id IN ({marks})",
                chunk,
            ).fetchall()
            for r in rows:
                entry = ListEntry(
                    key=r[1],
                    instrument=r[2],
                    name=r[3],
                    program=r[4],
                    since=r[5],
                    source_url=r[6],
                    row=r[7],
                    line=r[8],
                )
                published = date.fromisoformat(r[10]) if r[10] else None
                out[r[0]] = StoredEntry(entry, r[9], published)
    return out
