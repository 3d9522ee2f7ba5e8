"""The central-store tests share the report tests' fixture audit and a real PostgreSQL server."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "render"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pg import make_central  # noqa: E402


@pytest.fixture
def central(pg_database: str) -> Iterator[str]:
    """A fresh central store (the schema and the push functions): its superuser URL."""
    yield make_central(pg_database)
