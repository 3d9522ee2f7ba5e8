"""--rate paces camaudit; the wait for a token is not the device's time (issue 13: with
``--rate 8`` healthy HTTP probes failed "no complete reply within 6.0 s")."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from ipaddress import ip_address

from auditor.context import RateLimiter
from auditor.errors import ProbeError
from auditor.net.exchange import Endpoint, http_exchange, probe_deadline
from auditor.ports import Role
from tests.probes.probe_peers import Peer, http_response, make_ctx, read_request

RATE = 8.0
CLIENTS = 16


def test_healthy_exchanges_under_a_rate_limit_do_not_time_out(peer: Callable[..., Peer]) -> None:
    def handle(conn: socket.socket) -> None:
        if read_request(conn):
            conn.sendall(http_response(200, b"<html><title>ok</title></html>"))

    server = peer(handle)
    ctx = make_ctx({server.port: Role.HTTP}, timeout=0.5)
    ctx.rate = RateLimiter(RATE)

    target = Endpoint(ip_address(server.address), server.port)

    def one(_: int) -> str:
        try:
            return str(http_exchange(ctx, target, probe_deadline(ctx)).status)
        except ProbeError as exc:
            return exc.detail

    start = time.monotonic()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = list(pool.map(one, range(CLIENTS)))
    elapsed = time.monotonic() - start
    # The last token comes (CLIENTS - 1) / RATE s after the first: longer than the exchange's
    # own 2 x timeout deadline, which is the point.
    assert elapsed >= (CLIENTS - 1) / RATE * 0.9
    assert results == ["200"] * CLIENTS
