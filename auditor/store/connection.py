"""One connection to the store, whichever engine holds it, with the store's row type.

Queries are written once (``?`` placeholders); the dialect translates them and escapes the text
an engine cannot hold, and every row comes back as a :class:`Row` with that text restored.
Transactions are explicit: :meth:`Connection.begin_write` takes the engine's write lock (SQLite's
``BEGIN IMMEDIATE``; a plain ``BEGIN`` in PostgreSQL, whose rows lock as they are written).
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, Protocol

from auditor.store.dialect import Dialect


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

    def __init__(self, raw: Any, dialect: Dialect) -> None:
        # sqlite3.Connection or psycopg.Connection: psycopg is imported only for a URL.
        self.raw = raw
        self.dialect = dialect

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

            return (psycopg.Error,)
        return (sqlite3.Error,)

    @property
    def in_transaction(self) -> bool:
        if self.dialect.is_postgres:
            import psycopg

            return bool(self.raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE)
        return bool(self.raw.in_transaction)

    def close(self) -> None:
        self.raw.close()


def make_row(names: dict[str, int], values: Sequence[object], dialect: Dialect) -> Row:
    unbind = dialect.unbind
    # Text is interned: a report repeats the same probe names, skip details, exposure effects
    # and sources on every device, and the driver returns a new copy of each per row (a
    # 50,000-host import's report loaded in 674 MB, 351 MB interned, at the same speed).
    return Row(tuple(_shared(unbind(v)) for v in values), names)


def _shared(value: object) -> object:
    return sys.intern(value) if type(value) is str else value
