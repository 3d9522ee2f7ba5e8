"""Bounded TCP/TLS exchanges and HTTP-style (HTTP, RTSP) response parsing for every probe.

Why not requests: its ``timeout`` bounds each socket operation, not the exchange, so a device that
trickles one header byte a second holds a worker for minutes (measured: docs/decisions.md,
"Probe transport"). Here every ``recv`` gets ``min(ctx.timeout, what is left of the deadline)``
and every byte counts against the read cap, so neither a slow nor a huge reply can hold a probe.
"""

from __future__ import annotations

import contextlib
import errno
import re
import socket
import ssl
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cache
from time import monotonic

from auditor.context import NetContext, rate_waited
from auditor.errors import ProbeError
from auditor.models import IPAddress, Reason

#: One header or status line longer than this is not a device speaking HTTP or RTSP.
MAX_LINE = 16 * 1024
MAX_HEADERS = 200
_STATUS_RE = re.compile(rb"^(HTTP|RTSP)/(\d)\.(\d)[ \t]+(\d{3})(?:[ \t]+([^\r\n]*))?\r?\n?$")
#: A length is ASCII digits only (``str.isdigit`` admits "²" and other Unicode digits, which
#: ``int`` then refuses) and short: 15 digits exceed any read cap, and a 5,000-digit number
#: would make ``int`` itself refuse (Python's int-from-string limit).
_DECIMAL_RE = re.compile(r"[0-9]{1,15}")
_HEX_RE = re.compile(rb"[0-9A-Fa-f]{1,15}")
#: A chunk-size line is a hex number and optional extensions; a longer one is not a chunk.
MAX_CHUNK_LINE = 1024


class Deadline:
    """A total time budget; each socket operation gets the smaller of its own limit and the rest.

    Time this thread spends waiting for a --rate token is not charged: the budget is for the
    device's answers, and the token is taken before the exchange it paces starts.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = monotonic() + seconds
        self._waited_at_start = rate_waited()

    def remaining(self) -> float:
        return self.end + (rate_waited() - self._waited_at_start) - monotonic()

    def op_timeout(self, per_op: float) -> float:
        left = self.remaining()
        if left <= 0:
            raise ProbeError(Reason.TIMEOUT, f"no complete reply within {self.seconds:.1f} s")
        return min(per_op, left)


@cache
def permissive_tls_context() -> ssl.SSLContext:
    """A client context that completes a handshake with any device, however old or self-signed.

    We audit, we do not trust: the certificate is evidence to record, not a credential to check.
    Built once: an SSLContext is safe to share between threads for client connections.
    """
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # Legacy camera firmware offers TLS 1.0, SHA-1 and short keys; SECLEVEL=0 admits them.
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        # An OpenSSL built without TLS 1.0 refuses the setting; its default floor then applies.
        with contextlib.suppress(ValueError, ssl.SSLError):
            ctx.minimum_version = ssl.TLSVersion.TLSv1
    ctx.options |= getattr(ssl, "OP_LEGACY_SERVER_CONNECT", 0x4)
    return ctx


def _os_error(exc: OSError, what: str) -> ProbeError:
    if isinstance(exc, socket.timeout | TimeoutError):
        return ProbeError(Reason.TIMEOUT, f"{what}: timed out")
    if isinstance(exc, ConnectionRefusedError):
        return ProbeError(Reason.REFUSED, f"{what}: connection refused")
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return ProbeError(Reason.RESET, f"{what}: connection reset")
    if isinstance(exc, ssl.SSLError):
        return ProbeError(
            Reason.TLS_ERROR, f"{what}: TLS failed ({exc.reason or exc.__class__.__name__})"
        )
    if exc.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EADDRNOTAVAIL):
        return ProbeError(Reason.UNREACHABLE, f"{what}: unreachable")
    return ProbeError(Reason.UNREACHABLE, f"{what}: {exc.strerror or type(exc).__name__}")


def connect(
    ctx: NetContext, address: IPAddress, port: int, deadline: Deadline, *, tls: bool = False
) -> socket.socket:
    """Open one TCP (optionally TLS) connection to an in-scope address, rate-limited."""
    where = f"{address}:{port}/tcp"
    if not ctx.allows(address):
        # Probes only get in-scope hosts; this is the last line of defence, not the policy.
        raise ProbeError(Reason.OUT_OF_SCOPE, f"{address} is outside the audit scope")
    ctx.rate.acquire()
    try:
        sock = socket.create_connection(
            (str(address), port), timeout=deadline.op_timeout(ctx.timeout)
        )
    except OSError as exc:
        raise _os_error(exc, where) from None
    if not tls:
        return sock
    try:
        sock.settimeout(deadline.op_timeout(ctx.timeout))
        return permissive_tls_context().wrap_socket(sock, server_hostname=None)
    except OSError as exc:
        sock.close()
        raise _os_error(exc, f"{where} TLS handshake") from None
    except ProbeError:
        sock.close()
        raise


class Reader:
    """Buffered reads from a byte source, each chunk bounded by the cap and the deadline."""

    def __init__(self, recv: Callable[[int], bytes], cap: int) -> None:
        self._recv = recv
        self._buf = bytearray()
        self._total = 0
        self.cap = cap
        self.eof = False

    @classmethod
    def from_socket(
        cls, sock: socket.socket, deadline: Deadline, per_op: float, cap: int, what: str
    ) -> Reader:
        def recv(n: int) -> bytes:
            sock.settimeout(deadline.op_timeout(per_op))
            try:
                return sock.recv(n)
            except OSError as exc:
                raise _os_error(exc, what) from None

        return cls(recv, cap)

    @classmethod
    def from_chunks(cls, chunks: Iterable[bytes], cap: int) -> Reader:
        """A reader over bytes already received (parsers and their property tests)."""
        it = iter(chunks)
        return cls(lambda _n: next(it, b""), cap)

    def _fill(self) -> bool:
        if self.eof:
            return False
        data = self._recv(min(65536, self.cap - self._total + 1))
        if not data:
            self.eof = True
            return False
        self._total += len(data)
        if self._total > self.cap:
            raise ProbeError(Reason.TOO_LARGE, f"reply exceeds the {self.cap}-byte read cap")
        self._buf += data
        return True

    @property
    def received(self) -> int:
        """Bytes received so far (0: the peer sent nothing, not even part of a status line)."""
        return self._total

    @property
    def buffered(self) -> int:
        """Bytes received but not consumed: past the end of what was read."""
        return len(self._buf)

    def readline(self, limit: int = MAX_LINE) -> bytes:
        """One line including its newline; at end of stream whatever is left (maybe b"")."""
        while True:
            nl = self._buf.find(b"\n")
            if nl >= 0:
                if nl + 1 > limit:
                    break
                line = bytes(self._buf[: nl + 1])
                del self._buf[: nl + 1]
                return line
            if len(self._buf) > limit:
                break
            if not self._fill():
                line = bytes(self._buf)
                self._buf.clear()
                return line
        raise ProbeError(Reason.MALFORMED, f"a line longer than {limit} bytes")

    def read(self, n: int) -> bytes:
        """Exactly ``n`` bytes; a stream that ends early is malformed."""
        if n > self.cap:
            raise ProbeError(Reason.TOO_LARGE, f"announced {n} bytes, over the {self.cap}-byte cap")
        while len(self._buf) < n:
            if not self._fill():
                raise ProbeError(Reason.MALFORMED, f"stream ended {n - len(self._buf)} bytes short")
        data = bytes(self._buf[:n])
        del self._buf[:n]
        return data

    def read_to_eof(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self._buf)
        self._buf.clear()
        return data


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP or RTSP reply: status, headers in received order and case, and the body."""

    protocol: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes = b""
    extra: dict[str, str] = field(default_factory=dict)

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        key = name.lower()
        return [v for k, v in self.headers if k.lower() == key]


@dataclass(frozen=True, slots=True)
class Framing:
    """How a reply was delimited: what deciding whether its connection may carry another
    exchange needs (RFC 9112 sections 6.3 and 9.3), kept out of the Response (the evidence)."""

    version: tuple[int, int]
    delimited: bool
    """The reply's end was announced (one Content-Length, chunked, or a reply without a body),
    not marked by the peer closing."""


def _status(line: bytes) -> tuple[str, tuple[int, int], int, str]:
    m = _STATUS_RE.match(line)
    if not m:
        shown = line[:40].decode("latin-1").encode("unicode_escape").decode("ascii")
        raise ProbeError(Reason.MALFORMED, f"not an HTTP/RTSP status line: {shown!r}")
    version = (int(m.group(2)), int(m.group(3)))
    reason = (m.group(5) or b"").decode("latin-1").strip()
    return m.group(1).decode(), version, int(m.group(4)), reason


def parse_status_line(line: bytes) -> tuple[str, int, str]:
    """``HTTP/1.1 200 OK`` -> ("HTTP", 200, "OK"); anything else raises MALFORMED."""
    protocol, _, status, reason = _status(line)
    return protocol, status, reason


def read_headers(reader: Reader) -> tuple[tuple[str, str], ...]:
    headers: list[tuple[str, str]] = []
    while True:
        line = reader.readline()
        if not line:
            raise ProbeError(Reason.MALFORMED, "stream ended inside the headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return tuple(headers)
        if text[0] in " \t" and headers:
            # obs-fold continuation (RFC 7230 3.2.4): old embedded servers still send it.
            name, value = headers[-1]
            headers[-1] = (name, f"{value} {text.strip()}")
            continue
        name, sep, value = text.partition(":")
        if not sep or not name.strip() or any(c in name for c in " \t"):
            raise ProbeError(Reason.MALFORMED, f"not a header line: {text[:40]!r}")
        headers.append((name.strip(), value.strip()))
        if len(headers) > MAX_HEADERS:
            raise ProbeError(Reason.MALFORMED, f"more than {MAX_HEADERS} headers")


def _read_chunked(reader: Reader) -> bytes:
    body = bytearray()
    while True:
        size_line = reader.readline(MAX_CHUNK_LINE).split(b";", 1)[0].strip()
        if not _HEX_RE.fullmatch(size_line):
            shown = size_line[:20].decode("latin-1").encode("unicode_escape").decode("ascii")
            raise ProbeError(Reason.MALFORMED, f"bad chunk size {shown!r}")
        size = int(size_line, 16)
        if size == 0:
            # Trailers, if any, end with an empty line; a device that just closes is fine too.
            while reader.readline().strip():
                pass
            return bytes(body)
        body += reader.read(size)
        if len(body) > reader.cap:
            raise ProbeError(Reason.TOO_LARGE, f"body exceeds the {reader.cap}-byte read cap")
        reader.readline()


def read_response(reader: Reader, *, method: str = "GET", until_eof: bool = True) -> Response:
    """Read one response. ``until_eof``: a body without length runs to the end (HTTP with
    ``Connection: close``); RTSP passes False because its bodies always carry Content-Length."""
    return read_framed(reader, method=method, until_eof=until_eof)[0]


def read_framed(
    reader: Reader, *, method: str = "GET", until_eof: bool = True
) -> tuple[Response, Framing]:
    """``read_response`` and how the reply was delimited (for connection reuse)."""
    while True:
        protocol, version, status, reason = _status(reader.readline())
        headers = read_headers(reader)
        if not 100 <= status < 200 or status == 101:
            break  # skip 100 Continue and other interim replies
    resp = Response(protocol, status, reason, headers)
    if method == "HEAD" or status in (204, 304) or status < 200:
        return resp, Framing(version, delimited=True)
    encoding = (resp.header("Transfer-Encoding") or "").lower()
    lengths = resp.header_all("Content-Length")
    length = lengths[0] if lengths else None
    # Two framings, or two lengths that differ, are how one reply hides another (RFC 9112
    # 6.3): the reply is read as before, but its connection is never used again.
    ambiguous = len({v.strip() for v in lengths}) > 1 or (bool(encoding) and length is not None)
    if "chunked" in encoding:
        body = _read_chunked(reader)
        delimited = encoding.strip() == "chunked"
    elif length is not None:
        body = reader.read(parse_length(length))
        delimited = not encoding
    elif until_eof:
        body = reader.read_to_eof()
        delimited = False
    else:
        body = b""
        delimited = False
    framing = Framing(version, delimited=delimited and not ambiguous)
    return Response(protocol, status, reason, headers, body), framing


def parse_length(value: str) -> int:
    """A Content-Length value -> bytes; anything but 1-15 ASCII digits is MALFORMED."""
    text = value.strip()
    if not _DECIMAL_RE.fullmatch(text):
        shown = text[:20].encode("unicode_escape").decode("ascii")
        raise ProbeError(Reason.MALFORMED, f"bad Content-Length {shown!r}")
    return int(text)


def parse_response(data: bytes, cap: int = 1 << 20, *, until_eof: bool = True) -> Response:
    """Parse a complete reply held in memory (tests, fuzzing)."""
    return read_response(Reader.from_chunks([data], cap), until_eof=until_eof)
