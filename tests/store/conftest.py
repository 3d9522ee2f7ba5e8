"""The store tests run on both engines.

``store_location`` is an SQLite file for the ``sqlite`` run and a fresh PostgreSQL database (a
``postgresql://`` URL to the throwaway cluster of ``tests/pgcluster.py``) for the ``postgres`` run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    if request.param == "sqlite":
        return tmp_path / "c.db"
    url: str = request.getfixturevalue("pg_database")
    return url
