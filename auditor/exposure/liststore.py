"""Imported official lists: parsed here, kept in the audit store's ``list_*`` tables.

The store owns the connection, the migrations and the SQL (``auditor.store.lists``), on either
engine; this module turns list files into rows and rows back into entries. An import is one
transaction: a malformed file is refused before anything is written, and a failure while writing
leaves the previous import of that kind in place. The newest import of each kind is the one
matched against.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.errors import StoreError
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.lists.base import MAX_ROW_CHARS, ListEntry, ParsedList
from auditor.exposure.normalise import forms
from auditor.store import Store
from auditor.store.lists import EntryRow, ImportRow
from auditor.store.lists import NameRow as StoredNameRow
from auditor.store.location import describe, is_url

logger = logging.getLogger(__name__)

#: Less free space than this where the store lives counts as a full disk (error messages only).
_NEARLY_FULL = 64 * 1024


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


@contextmanager
def _reading(db: Path | str | None) -> Iterator[Store | None]:
    """The store, opened read-only for its list tables; None when there is nothing to read."""
    if db is None or (not is_url(db) and not Path(db).exists()):
        yield None
        return
    try:
        store = Store(db, read_only=True, lists_only=True)
    except StoreError as exc:
        raise StoreError(f"{describe(db)}: {_unreadable(db, exc)}") from None
    with store:
        yield store


def _unreadable(db: Path | str, exc: StoreError) -> str:
    """Why a store cannot be read. A WAL store opened on a full disk fails with "disk I/O error"
    (its -shm file cannot be made), which read as corruption; say the disk is full instead."""
    try:
        full = not is_url(db) and shutil.disk_usage(Path(db).parent).free < _NEARLY_FULL
    except OSError:
        full = False
    if full:
        return f"cannot read the store: the disk holding it is full ({exc}); free some disk space"
    return f"not a readable camaudit store: {exc}"


def import_list(db: Path | str, path: Path, kind: str) -> ImportRecord:
    """Parse ``path`` as ``kind`` and store it, replacing the previous import of that kind."""
    fmt = LIST_FORMATS.get(kind)
    if fmt is None:
        raise ValueError(f"unknown list kind {kind!r}")
    parsed = fmt.parse(path)  # raises DataFileError before anything is written
    digest = file_digest(parsed.files)
    now = datetime.now(UTC)
    record = ImportRow(
        kind=parsed.kind,
        file_name=path.name,
        files="; ".join(str(p) for p in parsed.files),
        sha256=digest,
        published=parsed.published.isoformat() if parsed.published else None,
        imported_at=now.isoformat(),
        rows_read=parsed.rows_read,
        entries=len(parsed.entries),
    )
    entries, names = _rows(parsed)
    try:
        with Store(db) as store:  # one transaction: all of it or none of it
            import_id = store.replace_list_import(record, entries, names)
    except StoreError as exc:
        raise StoreError(f"import of {path} failed, nothing changed: {exc}") from None
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


def _rows(parsed: ParsedList) -> tuple[list[EntryRow], list[StoredNameRow]]:
    entry_rows: list[EntryRow] = []
    name_rows: list[StoredNameRow] = []
    for index, entry in enumerate(parsed.entries):
        entry_rows.append(
            (
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
                name_rows.append((index, name, norm, loose, int(name == entry.name)))
    return entry_rows, name_rows


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


def current_imports(db: Path | str | None) -> tuple[ImportRecord, ...]:
    with _reading(db) as store:
        rows = store.list_imports() if store is not None else []
    return tuple(_record(r) for r in rows)


def load_names(db: Path | str | None) -> tuple[NameRow, ...]:
    """Every name of every party in the current imports, for the matcher's index."""
    with _reading(db) as store:
        rows = store.list_names() if store is not None else []
    return tuple(NameRow(*r) for r in rows)


def fetch_entries(db: Path | str | None, ids: Iterable[int]) -> dict[int, StoredEntry]:
    """The full entries (with their verbatim rows) for the names the matcher hit."""
    wanted = sorted(set(ids))
    out: dict[int, StoredEntry] = {}
    if not wanted:
        return out
    with _reading(db) as store:
        rows = store.list_entries(wanted) if store is not None else []
    for r in rows:
        entry = ListEntry(
            key=str(r[1]),
            instrument=str(r[2]),
            name=str(r[3]),
            program=str(r[4]),
            since=None if r[5] is None else str(r[5]),
            source_url=str(r[6]),
            row=str(r[7]),
            line=int(str(r[8])),
        )
        published = date.fromisoformat(str(r[10])) if r[10] else None
        out[int(str(r[0]))] = StoredEntry(entry, str(r[9]), published)
    return out
