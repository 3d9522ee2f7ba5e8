"""The audit store: one SQLite file (WAL) per project, or a central PostgreSQL database.

``Store(path_or_url)``: a path (or text that is not a URL) is an SQLite file, the embedded
default; a ``postgresql://`` URL without a password is a PostgreSQL database. Both hold the same
schema and answer the same queries (``dialect`` keeps their differences in one place).

Every write is its own transaction (with ``synchronous=FULL`` in SQLite), so an audit interrupted
by Ctrl-C, kill -9 or a power cut keeps every host that was saved, and `scan --resume` skips them.
Saving a host again replaces it, so a resumed audit never holds a host twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from auditor.errors import StoreError
from auditor.models import (
    AuditId,
    AuditInfo,
    AuditReport,
    ChannelFailure,
    DeviceResult,
    OutOfScopeReference,
)
from auditor.store import lists, reader, writer
from auditor.store import location as loc
from auditor.store.codec_audit import audit_from_row
from auditor.store.connection import Connection
from auditor.store.reader import AuditSummary
from auditor.store.schema import LISTS, applied_version
from auditor.store.sqlite_engine import OPEN_WAIT_S, open_sqlite
from auditor.store.sqlite_engine import errors as sqlite_errors
from auditor.store.summary import evidence_sha256

__all__ = ["OPEN_WAIT_S", "AuditSummary", "Store"]

T = TypeVar("T")


def connect(where: Path | str, *, durable: bool = True) -> Connection:
    """Another connection to the store at ``where`` (a path or a URL), which ``Store`` has
    already opened for writing (created, checked, migrated): for a writer that keeps its own
    transactions beside the store's (one per host), on either engine. ``durable=False`` lets
    SQLite skip the fsync per commit, for rows a resume finds again."""
    if loc.is_url(where):
        from auditor.store.pg_engine import connect_plain as pg_connect

        return pg_connect(str(where))
    from auditor.store.sqlite_engine import connect_plain as sqlite_connect

    return sqlite_connect(Path(where), durable=durable)


class Store:
    """The audit history in one store. Thread-safe; use as a context manager."""

    def __init__(
        self, path: Path | str, *, read_only: bool = False, lists_only: bool = False
    ) -> None:
        """Open (and for writing, create or migrate) the store at ``path`` (a path or a URL).

        ``read_only`` (audits, report, diff) never changes the store: no WAL switch, no migration,
        so a store on a read-only medium or owned by someone else can still be reported on. A
        database that is not ours, or that a newer camaudit wrote, is refused before anything is
        written to it. ``lists_only`` (with ``read_only``): only the official-list tables will be
        read, so audit tables of an older schema are no reason to refuse the store.
        """
        lists_only = lists_only and read_only
        self.read_only = read_only
        self._lock = threading.Lock()
        self.url: str | None = None
        if loc.is_url(path):
            self.url = loc.check_url(str(path))
            self.path = Path()  # no file: `location` says where the store is
            from auditor.store.pg_engine import errors as pg_errors
            from auditor.store.pg_engine import open_postgres

            self._engine_errors: Callable[[str], AbstractContextManager[None]] = lambda action: (
                pg_errors(self.url or "", action)
            )
            self._conn: Connection = open_postgres(
                self.url, read_only=read_only, lists_only=lists_only
            )
        else:
            self.path = Path(path)
            self._engine_errors = lambda action: sqlite_errors(str(self.path), action)
            self._conn = open_sqlite(self.path, read_only=read_only, lists_only=lists_only)

    @property
    def location(self) -> str:
        """Where the store is, as it may be shown: the file's path, or the URL without secrets."""
        return loc.describe(self.url) if self.url is not None else str(self.path)

    @property
    def engine(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._conn.dialect.name

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        with self._engine_errors(action):
            yield

    def _write(
        self, action: str, work: Callable[[Connection], T], *, commit_idempotent: bool = True
    ) -> T:
        """One transaction: all of it is committed, or none of it (the store stays consistent).
        A PostgreSQL connection found lost is replaced once and ``work`` runs again
        (``Connection.run``); ``commit_idempotent``: running it twice leaves what once does."""
        with self._lock, self._errors(action):
            return self._conn.run(work, write=True, commit_idempotent=commit_idempotent)

    def _read(self, action: str, work: Callable[[Connection], T]) -> T:
        """Queries in one snapshot, run again on a new connection if the server's was lost."""
        with self._lock, self._errors(action):
            return self._conn.run(work, write=False)

    def _setting(self, action: str, statement: str) -> None:
        with self._lock, self._errors(action):
            self._conn.run(lambda c: c.set_session(statement), write=False, snapshot=False)

    @contextmanager
    def relaxed_durability(self) -> Iterator[None]:
        """Commits in the block are not flushed to disk one by one (SQLite: WAL with
        ``synchronous=NORMAL``; PostgreSQL: ``synchronous_commit = off``): each is still atomic
        and survives a killed process, but a power cut (a server crash) may undo the last ones.
        Only for work redone from its input: an offline import (``scan --resume`` reads the file
        again), where one flush per host was half the time (issue 16)."""
        dialect = self._conn.dialect
        relax, restore = dialect.durability(flushed=False), dialect.durability(flushed=True)
        self._setting("relax durability", relax)
        try:
            yield
        finally:
            self._setting("restore durability", restore)

    @contextmanager
    def snapshot(self, action: str) -> Iterator[Connection]:
        """Several queries that must see one state of the store (a snapshot in PostgreSQL): for
        the modules that query the store's tables themselves (the organisation view, the cut
        summary), which never write through it. Errors come out as StoreError, saying ``action``.
        A connection the BEGIN finds lost is replaced once; one lost in the block is an error."""
        with self._lock, self._errors(action):
            conn = self._conn
            conn.start(write=False)
            try:
                yield conn
            finally:
                conn.end_read()

    # -- writes --------------------------------------------------------------------------------

    def begin_audit(self, info: AuditInfo) -> None:
        """Record a new audit; for an existing id (a resume) update its info and keep its hosts."""
        # An upsert: run again after a COMMIT whose outcome is unknown, the same row.
        self._write(f"record audit {info.id}", lambda conn: writer.upsert_audit(conn, info))

    def save_device(
        self,
        audit_id: AuditId | str,
        device: DeviceResult,
        out_of_scope: Iterable[OutOfScopeReference] = (),
    ) -> None:
        """Save one host with everything learned about it, replacing an earlier save of it.

        ``out_of_scope`` (the references this host made) goes in the same transaction, so a
        killed audit keeps them with the hosts it kept.
        """
        refs = tuple(out_of_scope)  # iterated again if the save runs again

        # Idempotent, so a save whose COMMIT outcome is unknown runs again too: replace_device
        # deletes any save of this host in this audit (its rows cascade) before inserting it,
        # and insert_refs keeps a reference already recorded once (ON CONFLICT DO NOTHING).
        def save(conn: Connection) -> None:
            self._require_audit(conn, audit_id)
            with conn.batch():
                writer.replace_device(conn, audit_id, device)
                writer.insert_refs(conn, audit_id, refs)

        self._write(f"save host {device.host.address}", save)

    def save_out_of_scope(
        self, audit_id: AuditId | str, refs: Iterable[OutOfScopeReference]
    ) -> None:
        """Record references (a reference already recorded is kept once)."""
        kept = tuple(refs)

        def record(conn: Connection) -> None:
            self._require_audit(conn, audit_id)
            writer.insert_refs(conn, audit_id, kept)

        self._write("record out-of-scope references", record)

    def finish_audit(
        self,
        audit_id: AuditId | str,
        finished: datetime,
        notes: tuple[str, ...] = (),
        channel_failures: tuple[ChannelFailure, ...] = (),
    ) -> None:
        """Mark the audit finished; ``channel_failures`` replaces those of an earlier run."""

        def finish(conn: Connection) -> None:  # sets the same columns again: idempotent
            self._require_audit(conn, audit_id)
            writer.finish_audit(conn, audit_id, finished, notes, channel_failures)

        self._write(f"finish audit {audit_id}", finish)

    # -- reads ---------------------------------------------------------------------------------

    def completed_addresses(self, audit_id: AuditId | str) -> set[str]:
        """The hosts already saved for this audit (`scan --resume` skips them)."""
        rows = self._read(
            "read hosts",
            lambda c: c.execute(
                "SELECT address FROM hosts WHERE audit_id = ?", (audit_id,)
            ).fetchall(),
        )
        return {r[0] for r in rows}

    def load_audit_info(self, audit_id: AuditId | str) -> AuditInfo:
        return self._read(
            f"read audit {audit_id}", lambda c: audit_from_row(self._require_audit(c, audit_id))
        )

    def load_head(self, audit_id: AuditId | str) -> AuditReport:
        """The audit without its devices (info, out-of-scope references, notes)."""
        return self._read(
            f"read audit {audit_id}",
            lambda c: reader.load_head(c, self._require_audit(c, audit_id)),
        )

    def load_report(self, audit_id: AuditId | str) -> AuditReport:
        return self._read(
            f"read audit {audit_id}",
            lambda c: reader.load_report(c, self._require_audit(c, audit_id)),
        )

    @contextmanager
    def report_stream(
        self, audit_id: AuditId | str, batch: int = reader.BATCH
    ) -> Iterator[reader.StoredReport]:
        """The audit to be written device by device: its head at once, its devices read a batch
        at a time as they are iterated, all in one snapshot of the store; memory holds one batch
        whatever the audit's size (issue 16). Iterate the devices inside the block only (it
        holds the store's connection; other calls on this store wait for its end)."""
        action = f"read audit {audit_id}"
        with self._lock:
            conn = self._conn
            # A read of minutes, beside writers: SQLite too reads one state (a deferred BEGIN
            # holds its WAL snapshot from the first read), or a host saved again half-way (a
            # resumed audit replaces it) would be missing or half-read.
            sqlite_snapshot = not conn.dialect.is_postgres
            with self._errors(action):
                if sqlite_snapshot:
                    conn.execute("BEGIN")
                else:
                    # A connection lost while idle is replaced here; once devices are being
                    # read, a lost one ends the stream with the error (its snapshot is gone).
                    conn.start(write=False)
            try:
                with self._errors(action):
                    row = self._require_audit(conn, audit_id)
                    head = reader.load_head(conn, row)
                    digest = evidence_sha256(conn, row["id"])
                devices = reader.iter_devices(conn, row["id"], batch)
                # Only the store's own reads are its errors: the caller's (a full disk while it
                # writes the report) stay the caller's, not "could not read audit".
                yield reader.StoredReport(head, digest, self._guarded(devices, action))
            finally:
                with self._errors(action):
                    if sqlite_snapshot and conn.in_transaction:
                        conn.commit()
                    else:
                        conn.end_read()

    def _guarded(self, devices: Iterator[DeviceResult], action: str) -> Iterator[DeviceResult]:
        while True:
            with self._errors(action):
                device = next(devices, None)
            if device is None:
                return
            yield device

    def list_audits(self) -> list[AuditSummary]:
        return self._read("list audits", reader.list_audits)

    def latest_audit(self, site: str | None = None) -> AuditId | None:
        query = "SELECT id FROM audits"
        params: tuple[str, ...] = ()
        if site is not None:
            query += " WHERE site = ?"
            params = (site,)

        def latest(conn: Connection) -> Any:
            order = f"{conn.dialect.binary('started')} DESC, {conn.dialect.binary('id')} DESC"
            return conn.execute(f"{query} ORDER BY {order} LIMIT 1", params).fetchone()

        row = self._read("find the latest audit", latest)
        return AuditId(row[0]) if row else None

    def resolve_audit(self, text: str) -> AuditId:
        """An audit id from a full id or a unique prefix of one (as typed on the command line)."""
        rows = self._read(
            "find the audit",
            lambda c: c.execute(
                "SELECT id FROM audits WHERE id = ? "
                "OR substr(id, 1, length(CAST(? AS TEXT))) = ? "
                f"ORDER BY {c.dialect.binary('id')}",
                (text, text, text),
            ).fetchall(),
        )
        ids = [r[0] for r in rows]
        if text in ids:
            return AuditId(text)
        if len(ids) == 1:
            return AuditId(ids[0])
        if not ids:
            raise StoreError(f"no audit {text!r} in {self.location} (see `camaudit audits`)")
        raise StoreError(f"{text!r} matches several audits: {', '.join(ids[:5])}; give more of it")

    # -- official lists: auditor.exposure.liststore parses them; the store keeps the rows ---------

    def replace_list_import(
        self,
        record: lists.ImportRow,
        entries: Sequence[lists.EntryRow],
        names: Sequence[lists.NameRow],
    ) -> int:
        """Make ``record`` the current import of its kind, in one transaction; its id."""
        # A new import row (a new id) each run: not run again after an unknown COMMIT.
        return self._write(
            f"import the {record.kind} list",
            lambda conn: lists.replace_import(conn, record, entries, names),
            commit_idempotent=False,
        )

    def _has_lists(self, conn: Connection) -> bool:
        return applied_version(conn, LISTS) > 0

    def list_imports(self) -> list[tuple[object, ...]]:
        return self._read(
            "read the imported lists",
            lambda c: lists.current_imports(c) if self._has_lists(c) else [],
        )

    def list_names(self) -> list[tuple[int, str, str, str]]:
        return self._read(
            "read the imported lists", lambda c: lists.names(c) if self._has_lists(c) else []
        )

    def list_entries(self, ids: Sequence[int]) -> list[tuple[object, ...]]:
        return self._read(
            "read the imported lists",
            lambda c: lists.entries(c, ids) if self._has_lists(c) else [],
        )

    def _require_audit(self, conn: Connection, audit_id: str) -> Any:
        row = reader.find_audit(conn, audit_id)
        if row is None:
            raise StoreError(f"no audit {audit_id!r} in {self.location} (see `camaudit audits`)")
        return row
