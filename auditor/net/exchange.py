"""One bounded HTTP request/response, with an optional auth retry.

Inside ``kept_connections`` (a host's audit; ``host_budget`` opens one if none is open) a
connection the device keeps open is used again for the next request to the same endpoint on this
thread (auditor/net/keepalive.py); elsewhere each exchange has its own connection and says
``Connection: close``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

from auditor.context import NetContext
from auditor.credentials import Credential
from auditor.errors import ProbeError
from auditor.models import IPAddress, Reason
from auditor.net.auth import CredentialsWithheld, answer, challenges_of
from auditor.net.keepalive import CREDENTIAL_IDLE_LIMIT, ConnectionCache, reusable
from auditor.net.wire import Deadline, Reader, Response, connect, read_framed

logger = logging.getLogger(__name__)

#: One exchange (connect + request + whole reply) may take this many ``ctx.timeout``s.
EXCHANGE_FACTOR = 2.0
#: One probe against one host may take this many ``ctx.timeout``s in all, whatever the device does.
PROBE_FACTOR = 10.0

USER_AGENT = "camaudit (read-only audit)"
_PATH_SAFE = "/?&=%:@!$'()*+,;~-._[]"


_host = threading.local()


@contextmanager
def host_budget(seconds: float) -> Iterator[Deadline]:
    """Run a host's probes (on this thread) under one hard budget.

    Every probe's deadline is cut to what is left of it, so the probe running when the budget
    is spent stops there instead of running its own PROBE_FACTOR budget on top (issue 13: 43 s
    against a 40 s budget, worst case 50 x timeout).

    Connections the host's device keeps open are reused within it (``kept_connections``; an
    enclosing one, such as the whole host's audit, is shared).
    """
    deadline = Deadline(seconds)
    previous = getattr(_host, "deadline", None)
    _host.deadline = deadline
    try:
        with kept_connections():
            yield deadline
    finally:
        _host.deadline = previous


@contextmanager
def kept_connections() -> Iterator[ConnectionCache]:
    """Keep the connections of everything run inside (on this thread) for reuse, and close them
    at the end: one host's audit, across its ``host_budget`` blocks and the wait between them."""
    outer: ConnectionCache | None = getattr(_host, "connections", None)
    if outer is not None:
        yield outer
        return
    connections = ConnectionCache()
    _host.connections = connections
    try:
        yield connections
    finally:
        _host.connections = None
        connections.close()


def host_connections() -> ConnectionCache | None:
    """This thread's host connection cache (None outside ``kept_connections``)."""
    cache: ConnectionCache | None = getattr(_host, "connections", None)
    return cache


def probe_deadline(ctx: NetContext) -> Deadline:
    own = ctx.timeout * PROBE_FACTOR
    host: Deadline | None = getattr(_host, "deadline", None)
    if host is None:
        return Deadline(own)
    left = host.remaining()
    if left <= 0:
        raise ProbeError(Reason.TIMEOUT, f"the host's {host.seconds:.0f} s time budget was spent")
    return Deadline(min(own, left))


def exchange_deadline(ctx: NetContext, overall: Deadline) -> Deadline:
    # Raises TIMEOUT once the probe's own budget is spent, so loops over ports and paths stop.
    overall.op_timeout(ctx.timeout)
    return Deadline(min(overall.remaining(), ctx.timeout * EXCHANGE_FACTOR))


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where to send: an in-scope address, a port, and whether it speaks TLS."""

    address: IPAddress
    port: int
    tls: bool = False

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def authority(self) -> str:
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        default = 443 if self.tls else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def source(self) -> str:
        return f"{self.scheme}:{self.port}"


class _Stale(Exception):
    """A kept connection failed before any byte of the reply: the server closed it first."""


def http_exchange(
    ctx: NetContext,
    endpoint: Endpoint,
    overall: Deadline,
    *,
    method: str = "GET",
    path: str = "/",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    credentials: bool = False,
) -> Response:
    """``credentials``: the body carries the user's credentials (a WS-Security token); an
    Authorization header is seen here. Such a request is never sent twice (see keepalive)."""
    deadline = exchange_deadline(ctx, overall)
    cache = host_connections()
    credentials = credentials or any(k.lower() == "authorization" for k, _ in headers)
    # A path can come from a device (a redirect): percent-encode anything that could break or
    # extend the request line (spaces, non-ASCII); urlsplit already dropped CR/LF/TAB.
    path = quote(path, safe=_PATH_SAFE)
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {endpoint.authority}",
        f"User-Agent: {USER_AGENT}",
        "Accept: */*",
        # keep-alive is HTTP/1.1's default; said aloud for servers that treat 1.1 like 1.0.
        "Connection: keep-alive" if cache is not None else "Connection: close",
    ]
    lines += [f"{k}: {v}" for k, v in headers]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body
    if cache is not None:
        kept = cache.take(endpoint, CREDENTIAL_IDLE_LIMIT if credentials else None)
        if kept is not None:
            try:
                return _send(
                    ctx, endpoint, deadline, kept, request, method, cache, retry=not credentials
                )
            except _Stale:
                # The server's keep-alive timeout raced us. Sent again once, on a new connection:
                # our requests are GETs and POSTs of read-only SOAP queries (Get*), whose
                # semantics are idempotent, which RFC 9112 9.3.1 requires of an automatic retry
                # (idempotent methods: RFC 9110 9.2.2). A request with credentials never gets
                # here: it is not sent twice (keepalive.CREDENTIAL_IDLE_LIMIT).
                logger.debug(
                    "%s:%s: kept connection closed by the peer, reconnecting",
                    endpoint.address,
                    endpoint.port,
                )
    sock = connect(ctx, endpoint.address, endpoint.port, deadline, tls=endpoint.tls)
    return _send(ctx, endpoint, deadline, sock, request, method, cache, retry=False)


def _send(
    ctx: NetContext,
    endpoint: Endpoint,
    deadline: Deadline,
    sock: socket.socket,
    request: bytes,
    method: str,
    cache: ConnectionCache | None,
    *,
    retry: bool,
) -> Response:
    """One request and its whole reply on ``sock``; the socket is kept in ``cache`` or closed.
    ``retry``: ``sock`` is a kept connection and the request may go again if the server closed
    it first (raises _Stale); otherwise every failure is reported as on a new connection."""
    what = f"{endpoint.address}:{endpoint.port}/tcp"
    keep = False
    try:
        sock.settimeout(deadline.op_timeout(ctx.timeout))
        try:
            sock.sendall(request)
        except OSError as exc:
            if retry:
                raise _Stale from None
            raise ProbeError(Reason.RESET, f"{what}: send failed ({type(exc).__name__})") from None
        reader = Reader.from_socket(sock, deadline, ctx.timeout, ctx.max_read_bytes, what)
        try:
            resp, framing = read_framed(reader, method=method)
        except ProbeError as exc:
            # Only a close or reset before the first byte is the keep-alive race; a timeout
            # or a partial reply is the device's answer, as on a fresh connection.
            if retry and reader.received == 0 and exc.reason in _STALE_REASONS:
                raise _Stale from None
            raise
        keep = cache is not None and reusable(resp, framing, reader)
        return resp
    finally:
        if keep and cache is not None:
            cache.put(endpoint, sock)
        else:
            sock.close()


#: How a kept connection the server already closed fails: EOF (no status line), RST, TLS EOF.
_STALE_REASONS = frozenset({Reason.MALFORMED, Reason.RESET, Reason.TLS_ERROR})


def http_with_auth(
    ctx: NetContext,
    endpoint: Endpoint,
    overall: Deadline,
    credential: Credential | None,
    *,
    method: str = "GET",
    path: str = "/",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    first: Response | None = None,
) -> Response:
    """Send once without credentials; answer a 401 challenge once with the user's credentials.

    Credentials go only where the device asks for them, never pre-emptively, and once: a wrong
    password is one failed login on the device (recorded in ``ctx.logins``; a later request to
    the same device does not send that credential set again). HTTP Basic over plain HTTP is
    sent only where the credentials file allows it for the target. ``first``: the anonymous
    reply already in hand (then it is not asked again). Raises CredentialsWithheld when the
    device asked and camaudit declined.
    """
    resp = first
    if resp is None:
        resp = http_exchange(
            ctx, endpoint, overall, method=method, path=path, headers=headers, body=body
        )
    if resp.status != 401 or credential is None:
        return resp
    where = f"{endpoint.source}{path.split('?', 1)[0]}"
    withheld = ctx.logins.withheld_detail(endpoint.address, credential)
    if withheld is not None:
        raise CredentialsWithheld(f"{where}: {withheld}")
    found = answer(challenges_of(resp.header_all("WWW-Authenticate")), credential, method, path)
    if found is None:
        logger.debug("%s%s: no supported auth scheme offered", endpoint.source, path)
        return resp
    if found.scheme == "basic" and not endpoint.tls and not credential.basic_over_http:
        raise CredentialsWithheld(
            f"{where} offers only HTTP Basic over plain HTTP, which would send the password "
            "readable to the network; not sent (allow it per target in the credentials file: "
            "allow_basic_over_http)"
        )
    for secret in found.derived_secrets:
        ctx.secrets.add_digest_secret(secret)
    reply = http_exchange(
        ctx,
        endpoint,
        overall,
        method=method,
        path=path,
        headers=(*headers, ("Authorization", found.header)),
        body=body,
    )
    if reply.status in (401, 403):
        ctx.logins.record_refusal(endpoint.address, credential, f"{where} (HTTP {reply.status})")
    return reply
