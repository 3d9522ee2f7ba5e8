"""The official-list tables (``list_*``): imports, their entries, and every name of every entry.

The exposure module parses the files (``auditor.exposure.liststore``); this module only stores and
reads rows, on the store's own connection, inside the store's transactions. The newest import of
each kind is the one matched against.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from auditor.store.connection import Connection

#: Entries fetched per query (SQLite's default limit on parameters is 999).
_CHUNK = 500


@dataclass(frozen=True, slots=True)
class ImportRow:
    """One import as stored (dates and times as ISO text, as in the table)."""

    kind: str
    file_name: str
    files: str
    sha256: str
    published: str | None
    imported_at: str
    rows_read: int
    entries: int


#: An entry: (import-independent) key, instrument, name, program, since, source URL, row, line.
EntryRow = tuple[str, str, str, str, str | None, str, str, int]
#: A name of an entry: (index of the entry in the import's entries, name, norm, loose, primary).
NameRow = tuple[int, str, str, str, int]


def replace_import(
    conn: Connection, record: ImportRow, entries: Sequence[EntryRow], names: Sequence[NameRow]
) -> int:
    """Make ``record`` the current import of its kind (inside the caller's transaction)."""
    kind = record.kind
    conn.execute("UPDATE list_imports SET current = 0 WHERE kind = ?", (kind,))
    conn.execute(
        "DELETE FROM list_names WHERE entry_id IN (SELECT e.id FROM list_entries e "
        "JOIN list_imports i ON i.id = e.import_id WHERE i.kind = ?)",
        (kind,),
    )
    conn.execute(
        "DELETE FROM list_entries WHERE import_id IN (SELECT id FROM list_imports WHERE kind = ?)",
        (kind,),
    )
    import_id = conn.insert(
        "INSERT INTO list_imports (kind, file_name, files, sha256, published, imported_at, "
        "rows_read, entries) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            kind,
            record.file_name,
            record.files,
            record.sha256,
            record.published,
            record.imported_at,
            record.rows_read,
            record.entries,
        ),
    )
    # Ids are given here, so that entries and names go in with two executemany calls: one
    # INSERT per row was most of the import time on a 200,000-row OpenSanctions file. The write
    # transaction holds the table against another import meanwhile.
    conn.lock_table("list_entries")
    first = int(conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM list_entries").fetchone()[0])
    conn.executemany(
        "INSERT INTO list_entries (id, import_id, entry_key, instrument, name, program, since, "
        "source_url, row_text, line) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(first + i, import_id, *entry) for i, entry in enumerate(entries)],
    )
    conn.executemany(
        "INSERT INTO list_names (entry_id, name, norm, loose, primary_name) VALUES (?, ?, ?, ?, ?)",
        [(first + index, *rest) for index, *rest in names],
    )
    return import_id


_IMPORT_COLUMNS = "id, kind, file_name, sha256, published, imported_at, rows_read, entries"


def current_imports(conn: Connection) -> list[tuple[object, ...]]:
    """The current import of each kind: (id, kind, file_name, sha256, published, imported_at,
    rows_read, entries), by kind."""
    rows = conn.execute(
        f"SELECT {_IMPORT_COLUMNS} FROM list_imports WHERE current = 1 ORDER BY kind"
    ).fetchall()
    return [tuple(r) for r in rows]


def names(conn: Connection) -> list[tuple[int, str, str, str]]:
    """(entry id, name, norm, loose) of every name in the current imports."""
    rows = conn.execute(
        "SELECT n.entry_id, n.name, n.norm, n.loose FROM list_names n "
        "JOIN list_entries e ON e.id = n.entry_id "
        "JOIN list_imports i ON i.id = e.import_id WHERE i.current = 1"
    ).fetchall()
    return [(int(r[0]), r[1], r[2], r[3]) for r in rows]


def entries(conn: Connection, ids: Sequence[int]) -> list[tuple[object, ...]]:
    """(id, key, instrument, name, program, since, source_url, row, line, kind, published) of
    the entries with these ids."""
    out: list[tuple[object, ...]] = []
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        marks = ",".join("?" * len(chunk))
        out.extend(
            tuple(r)
            for r in conn.execute(
                "SELECT e.id, e.entry_key, e.instrument, e.name, e.program, e.since, "
                "e.source_url, e.row_text, e.line, i.kind, i.published FROM list_entries e "
                f"JOIN list_imports i ON i.id = e.import_id WHERE e.id IN ({marks})",
                chunk,
            )
        )
    return out
