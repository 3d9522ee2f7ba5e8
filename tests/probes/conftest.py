"""Fixtures for the probe tests (helpers live in probe_peers.py)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator

import pytest

from tests.probes.probe_peers import Peer


@pytest.fixture
def peer() -> Iterator[Callable[..., Peer]]:
    made: list[Peer] = []

    def make(handler: Callable[[socket.socket], None], address: str = "127.0.0.1") -> Peer:
        p = Peer(handler, address)
        made.append(p)
        return p

    yield make
    for p in made:
        p.close()
