"""HTTP persistent connections (RFC 9112 section 9) for one host's probes on one thread.

Why: ``--rate`` caps new connections, and a host's probes make a dozen HTTP requests to the same
one or two ports (the root page, the favicon, the clue paths, ONVIF's SOAP calls, the vendor
CGIs). One connection per request made the audit of a large site rate-bound (issue 16).

A connection is kept only when its end of reply was announced (Content-Length or chunked, never
the peer closing), the peer did not say ``close``, and nothing was left unread; before it is used
again it must be quiet (no unsolicited bytes, no close) and younger than IDLE_LIMIT. So a device
cannot make a reply's surplus bytes pass for the answer to the next request.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import TYPE_CHECKING

from auditor.net.wire import Framing, Reader, Response

if TYPE_CHECKING:
    from auditor.net.exchange import Endpoint

#: An idle connection older than this is closed, not reused. Common servers close an idle
#: keep-alive connection after 5 s (Apache httpd KeepAliveTimeout, lighttpd
#: server.max-keep-alive-idle and Node's server.keepAliveTimeout all default to 5 s), embedded
#: ones sometimes sooner: staying well under that makes the race with the server's own close
#: rare (the one retry covers it), and a host's probes follow one another within milliseconds.
IDLE_LIMIT = 2.0
#: A request carrying credentials is never sent twice (the device may have counted the first as
#: a login attempt before closing), so it takes a kept connection only this soon after its last
#: reply (the 401 that asked for the credentials, milliseconds before), when no server's idle
#: timeout can race it; otherwise a new connection.
CREDENTIAL_IDLE_LIMIT = 0.5


def _connection_tokens(resp: Response) -> set[str]:
    return {
        token.strip().lower()
        for value in resp.header_all("Connection")
        for token in value.split(",")
        if token.strip()
    }


def reusable(resp: Response, framing: Framing, reader: Reader) -> bool:
    """Whether the connection that carried ``resp`` may carry another request (RFC 9112 9.3)."""
    if resp.protocol != "HTTP" or resp.status == 101 or not framing.delimited:
        return False
    if reader.eof or reader.buffered:
        # Bytes past the announced end belong to no request of ours: never to the next one.
        return False
    tokens = _connection_tokens(resp)
    if "close" in tokens:
        return False
    if framing.version >= (1, 1):
        return True
    # HTTP/1.0 is persistent only when the server says so.
    return framing.version == (1, 0) and "keep-alive" in tokens


def _quiet(sock: socket.socket) -> bool:
    """No byte waiting and no close: a readable idle connection has nothing we asked for."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return False
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN | select.POLLPRI)
        return not poller.poll(0)
    except (OSError, ValueError):
        return False


@dataclass
class _Idle:
    sock: socket.socket
    since: float


class ConnectionCache:
    """At most one idle connection per endpoint; used by one thread only (a host's probes)."""

    def __init__(
        self, idle_limit: float = IDLE_LIMIT, clock: Callable[[], float] = monotonic
    ) -> None:
        self.idle_limit = idle_limit
        self._clock = clock
        self._idle: dict[Endpoint, _Idle] = {}
        self.reused = 0
        """Requests sent on a kept connection (the connections --rate did not have to pay for)."""

    def take(self, endpoint: Endpoint, max_idle: float | None = None) -> socket.socket | None:
        """The endpoint's idle connection if it is fresh (idle at most ``max_idle``, default the
        cache's limit) and quiet; anything else is closed."""
        item = self._idle.pop(endpoint, None)
        if item is None:
            return None
        limit = self.idle_limit if max_idle is None else min(max_idle, self.idle_limit)
        if self._clock() - item.since > limit or not _quiet(item.sock):
            _close(item.sock)
            return None
        self.reused += 1
        return item.sock

    def put(self, endpoint: Endpoint, sock: socket.socket) -> None:
        old = self._idle.pop(endpoint, None)
        if old is not None:
            _close(old.sock)
        self._idle[endpoint] = _Idle(sock, self._clock())

    def close(self) -> None:
        for item in self._idle.values():
            _close(item.sock)
        self._idle.clear()

    def __len__(self) -> int:
        return len(self._idle)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
