"""One connection to the store, whichever engine holds it, with the store's row type.

Queries are written once (``?`` placeholders); the dialect translates them and escapes the text
an engine cannot hold, and every row comes back as a :class:`Row` with that text restored.
Transactions are explicit: :meth:`Connection.begin_write` takes the engine's write lock (SQLite's
``BEGIN IMMEDIATE``; a plain ``BEGIN`` in PostgreSQL, whose rows lock as they are written).

A PostgreSQL connection can be lost under a long audit (a server restart, a failover, a proxy's
idle timeout, ``pg_terminate_backend``): :meth:`Connection.run` then reconnects once, with the
same URL and session settings, and runs the work again (see ``run`` for when that is safe).
"""

from __future__ import annotations

import contextlib
import sqlite3
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol, TypeVar

from auditor.store.dialect import Dialect

T = TypeVar("T")


class ConnectionLost(RuntimeError):
    """The server went away and the one reconnect allowed failed too."""


class Row:
    """A result row addressable by index or column name, with escaped text restored."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: tuple[object, ...], names: dict[str, int]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._names[key]]

    def __len__(self) -> int:
        return len(self._values)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def keys(self) -> list[str]:
        return list(self._names)


class Cursor(Protocol):
    """What both drivers' cursors offer and the store uses."""

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Connection:
    """The store's connection: the driver's, its dialect, and the store's conventions."""

    def __init__(self, raw: Any, dialect: Dialect, reopen: Callable[[], Any] | None = None) -> None:
        # sqlite3.Connection or psycopg.Connection: psycopg is imported only for a URL.
        self.raw = raw
        self.dialect = dialect
        # A new raw connection to the same server (PostgreSQL only; None: never reconnect).
        self._reopen = reopen
        self._session: dict[str, str] = {}
        self._closed = False  # closed by its owner: never reopened behind its back

    def set_session(self, statement: str) -> None:
        """A session setting (``SET name = value``), made again on a new connection after a
        reconnect; the last one made of each name wins."""
        self.raw.execute(statement)
        self._session[statement.split("=")[0].strip().lower()] = statement

    def lost(self, exc: BaseException) -> bool:
        """Whether ``exc`` says the server connection is gone (and this one may reconnect)."""
        if self._reopen is None or self._closed:
            return False
        import psycopg

        if not isinstance(exc, psycopg.OperationalError):
            return False
        return bool(
            self.raw.closed or self.raw.broken or isinstance(exc, psycopg.errors.AdminShutdown)
        )

    def reconnect(self) -> None:
        """Replace the lost connection by a new one with the same settings: one attempt, whose
        wait ``reopen`` bounds; when it fails, ConnectionLost (the old one stays, broken, and the
        next operation tries once more: the server may be back by then)."""
        assert self._reopen is not None
        with contextlib.suppress(Exception):
            self.raw.close()
        try:
            raw = self._reopen()
            try:
                for statement in self._session.values():
                    raw.execute(statement)
            except BaseException:
                raw.close()
                raise
        except self.driver_errors as exc:
            raise ConnectionLost(
                f"the connection to the database server was lost and reconnecting failed: {exc}"
            ) from exc
        self.raw = raw

    def run(
        self,
        work: Callable[[Connection], T],
        *,
        write: bool,
        snapshot: bool = True,
        commit_idempotent: bool = True,
    ) -> T:
        """``work`` in one write transaction (``write``), one read snapshot (``snapshot``) or
        as is; run once more on a new connection when the connection is found lost.

        Work that failed before COMMIT was rolled back with the lost session, so running it
        again is always safe. A failure during COMMIT leaves its outcome unknown (the server
        may have committed before the connection dropped): the work runs again only when
        ``commit_idempotent`` says a second run on top of a committed first one leaves the same
        rows (a host's save deletes the host, then inserts it); otherwise the error stands."""
        for last in (False, True):
            committing = False
            try:
                self._begin(write, snapshot)
                try:
                    result = work(self)
                except BaseException:
                    self.rollback()
                    raise
                committing = True
                self._end(write, snapshot)
                return result
            except Exception as exc:
                if last or not self.lost(exc) or (committing and write and not commit_idempotent):
                    raise
                self.reconnect()
        raise AssertionError("unreachable")  # pragma: no cover

    def start(self, *, write: bool) -> None:
        """Begin a transaction or a read snapshot left open for the caller (which ends it);
        a connection found lost by the BEGIN (it failed while idle) is replaced once."""
        try:
            self._begin(write, True)
        except Exception as exc:
            if not self.lost(exc):
                raise
            self.reconnect()
            self._begin(write, True)

    def _begin(self, write: bool, snapshot: bool) -> None:
        if write:
            self.begin_write()
        elif snapshot:
            self.begin_read()

    def _end(self, write: bool, snapshot: bool) -> None:
        if write:
            self.commit()
        elif snapshot:
            self.end_read()

    def _params(self, params: Sequence[object]) -> tuple[object, ...]:
        bind = self.dialect.bind
        return tuple(bind(p) for p in params)

    def execute(self, sql: str, params: Sequence[object] = ()) -> Cursor:
        cursor: Cursor = self.raw.execute(self.dialect.sql(sql), self._params(params))
        return cursor

    def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        query = self.dialect.sql(sql)
        bound = [self._params(r) for r in rows]
        if not bound:
            return
        if self.dialect.is_postgres:
            with self.raw.cursor() as cur:
                cur.executemany(query, bound)
        else:
            self.raw.executemany(query, bound)

    def insert(self, sql: str, params: Sequence[object]) -> int:
        """Run an INSERT into a table with an ``id`` column; the new row's id."""
        cursor = self.raw.execute(
            self.dialect.sql(self.dialect.returning_id(sql)), self._params(params)
        )
        new_id = cursor.fetchone()[0] if self.dialect.is_postgres else cursor.lastrowid
        if new_id is None:
            raise RuntimeError("the database gave no id for a new row")
        return int(new_id)

    def batch(self) -> AbstractContextManager[object]:
        """Statements that need no answer go to the server without waiting for one (psycopg's
        pipeline mode; a statement whose answer is read waits for everything before it)."""
        if self.dialect.is_postgres:
            pipeline: AbstractContextManager[object] = self.raw.pipeline()
            return pipeline
        return nullcontext()

    def begin_write(self) -> None:
        self.raw.execute(self.dialect.begin_write)

    def begin_read(self) -> None:
        """A consistent snapshot for a read of several queries (where the engine needs one)."""
        if self.dialect.begin_read is not None:
            self.raw.execute(self.dialect.begin_read)

    def end_read(self) -> None:
        if self.dialect.begin_read is not None and self.in_transaction:
            self.raw.execute("COMMIT")

    def lock_table(self, table: str) -> None:
        statement = self.dialect.lock_table(table)
        if statement is not None:
            self.raw.execute(statement)

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    @contextmanager
    def write_transaction(self) -> Iterator[Connection]:
        """One write transaction: all of it is committed, or none of it."""
        self.begin_write()
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        self.commit()

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    @property
    def driver_errors(self) -> tuple[type[Exception], ...]:
        """The driver's own error classes (``except conn.driver_errors``)."""
        if self.dialect.is_postgres:
            import psycopg

            return (psycopg.Error, ConnectionLost)
        return (sqlite3.Error,)

    @property
    def in_transaction(self) -> bool:
        if self.dialect.is_postgres:
            import psycopg

            # UNKNOWN: a lost connection, where nothing can be rolled back or committed.
            status = psycopg.pq.TransactionStatus
            return self.raw.info.transaction_status not in (status.IDLE, status.UNKNOWN)
        return bool(self.raw.in_transaction)

    def close(self) -> None:
        self._closed = True
        self.raw.close()


def make_row(names: dict[str, int], values: Sequence[object], dialect: Dialect) -> Row:
    unbind = dialect.unbind
    # Text is interned: a report repeats the same probe names, skip details, exposure effects
    # and sources on every device, and the driver returns a new copy of each per row (a
    # 50,000-host import's report loaded in 674 MB, 351 MB interned, at the same speed).
    return Row(tuple(_shared(unbind(v)) for v in values), names)


def _shared(value: object) -> object:
    return sys.intern(value) if type(value) is str else value
