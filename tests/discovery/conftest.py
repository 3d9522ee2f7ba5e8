"""Real UDP responders on loopback addresses for the discovery tests (no root needed)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from auditor.context import NetContext
from auditor.scope import Scope

Handler = Callable[[bytes, tuple[str, int]], list[bytes]]


@dataclass
class Responder:
    """A UDP socket bound to ``address:port`` that answers each datagram with ``handler``'s list."""

    address: str
    port: int
    handler: Handler
    received: list[bytes] = field(default_factory=list)

    def start(self) -> Responder:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((self.address, self.port))
        self.sock.settimeout(0.1)
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received.append(data)
            for reply in self.handler(data, peer):
                self.sock.sendto(reply, peer)

    def stop(self) -> None:
        self._stop.set()
        self.thread.join(2)
        self.sock.close()


@pytest.fixture
def responders() -> Iterator[Callable[[str, int, Handler], Responder]]:
    started: list[Responder] = []

    def make(address: str, port: int, handler: Handler) -> Responder:
        r = Responder(address, port, handler).start()
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop()


@pytest.fixture
def make_ctx() -> Callable[..., NetContext]:
    """A unicast-only context (the loopback lab has no multicast) over the given targets."""

    def make(*targets: str, timeout: float = 0.6, excludes: tuple[str, ...] = ()) -> NetContext:
        scope = Scope.parse(list(targets), list(excludes))
        return NetContext(scope=scope, timeout=timeout, multicast=False)

    return make
