"""Lab fixtures: one loopback site with every profile, shared by the lab's protocol tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from auditor.lab import LoopbackSite, load_profiles


@pytest.fixture(scope="session")
def all_site() -> Iterator[LoopbackSite]:
    with LoopbackSite(sorted(load_profiles())) as site:
        yield site
