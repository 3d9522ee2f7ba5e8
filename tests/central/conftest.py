"""The central-store tests: a real PostgreSQL server (tests/pgcluster.py), never a mock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.central.pg import make_central


@pytest.fixture
def central(pg_database: str) -> Iterator[str]:
    """A fresh central store (the schema and the push functions): its superuser URL."""
    yield make_central(pg_database)
