"""Raw SQL beside the store, on either engine, with that engine's own driver."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def run_sql(
    location: Path | str, statement: str, params: tuple[object, ...] = ()
) -> list[tuple[Any, ...]]:
    """A statement run beside the store, with the engine's own driver (what another tool sees)."""
    if isinstance(location, Path):
        import sqlite3

        with sqlite3.connect(location) as conn:
            return list(conn.execute(statement, params).fetchall())
    import psycopg

    with psycopg.connect(location, autocommit=True) as pg:
        cur = pg.execute(statement.replace("?", "%s"), params)
        return list(cur.fetchall()) if cur.description else []
