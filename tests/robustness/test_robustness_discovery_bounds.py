"""Discovery channels against hostile devices: each round ends in bounded time and memory.

Discovery runs before any probe, so a device that holds one channel holds the whole audit.
"""

from __future__ import annotations

import time

import pytest

from auditor.context import NetContext
from auditor.discovery import discover_all
from auditor.lab.hostile import hostile_site
from auditor.scope import Scope

TIMEOUT = 1.0


@pytest.mark.parametrize(
    ("profile", "channel"),
    [
        ("hostile-ssdp-slow", "ssdp"),
        ("hostile-xxe", "ssdp"),
        ("hostile-laughs", "ssdp"),
        ("hostile-xxe", "ws-discovery"),
        ("hostile-laughs", "sadp"),
        ("hostile-flood", "ws-discovery"),
        ("hostile-dhip-length", "dhip"),
    ],
)
def test_channel_round_is_bounded(profile: str, channel: str) -> None:
    with hostile_site([profile]) as site:
        address = site.address_of(profile)
        ctx = NetContext(scope=Scope.parse((address,)), timeout=TIMEOUT, multicast=False)
        start = time.monotonic()
        result = discover_all(ctx, channels=[channel])
        elapsed = time.monotonic() - start
    assert elapsed < 8 * TIMEOUT, f"{channel} against {profile} took {elapsed:.1f} s"
    assert not result.errors
    for host in result.hosts:
        for obs in host.observations:
            assert len(obs.value) <= 1 << 20
            assert "lollollol" not in obs.value
