"""Real loopback peers for the probe tests: TCP listeners that answer, stall, trickle, send
garbage or too much, and helpers to build a host and a context pointing at them."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from ipaddress import ip_address
from types import MappingProxyType

from auditor.context import NetContext
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.models import Host, Observation, ObservationKind, ProbeAttempt, Service
from auditor.ports import PortPlan, Role
from auditor.scope import Scope

TIMEOUT = 0.5

#: What a peer does with each connection it accepts.
Handler = Callable[[socket.socket], None]


class Peer:
    """A threaded TCP listener on a loopback address; ``handler(conn)`` serves each connection."""

    def __init__(self, handler: Handler, address: str = "127.0.0.1") -> None:
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, 0))
        self.sock.listen(16)
        self.address = address
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.requests: list[bytes] = []
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._loop, daemon=True)
        self._accept.start()

    def _loop(self) -> None:
        self.sock.settimeout(0.05)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            self.handler(conn)

    def close(self) -> None:
        self._stop.set()
        self._accept.join(timeout=1)
        self.sock.close()


def values(result: ProbeAttempt, kind: ObservationKind) -> list[str]:
    """The values a probe observed of one kind, in the order it observed them."""
    return [o.value for o in result.observations if o.kind is kind]


def read_request(conn: socket.socket, limit: int = 65536) -> bytes:
    """Read an HTTP/RTSP request head (and a Content-Length body) from a client."""
    conn.settimeout(2)
    data = b""
    while b"\r\n\r\n" not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            need = int(line.split(b":", 1)[1])
            while len(rest) < need:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                rest += chunk
    return head + b"\r\n\r\n" + rest


def silent(conn: socket.socket) -> None:
    """Accept and never answer (the timeout case)."""
    time.sleep(3)


def garbage(conn: socket.socket) -> None:
    conn.settimeout(1)
    with contextlib.suppress(OSError):
        conn.recv(4096)
    conn.sendall(bytes(range(256)) * 4)


def slowloris(conn: socket.socket) -> None:
    """One byte every 0.1 s, forever: each read succeeds, the exchange never completes."""
    conn.settimeout(1)
    with contextlib.suppress(OSError):
        conn.recv(4096)
    for byte in b"HTTP/1.1 200 OK\r\nServer: " + b"x" * 10_000:
        conn.sendall(bytes([byte]))
        time.sleep(0.1)


def closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port: int = s.getsockname()[1]
    s.close()
    return port


def make_ctx(
    roles: dict[int, Role],
    *,
    targets: tuple[str, ...] = ("127.0.0.1",),
    timeout: float = TIMEOUT,
    credential: tuple[str, str] | None = None,
    max_read_bytes: int = 1 << 20,
) -> NetContext:
    store = (
        CredentialStore(default=Credential(credential[0], Secret(credential[1])))
        if credential
        else CredentialStore.empty()
    )
    return NetContext(
        scope=Scope.parse(list(targets)),
        timeout=timeout,
        ports=PortPlan(MappingProxyType(dict(roles))),
        credentials=store,
        max_read_bytes=max_read_bytes,
    )


def make_host(
    ports: tuple[int, ...],
    address: str = "127.0.0.1",
    observations: tuple[Observation, ...] = (),
    mac: str | None = None,
    mac_vendor: str | None = None,
) -> Host:
    return Host(
        ip_address(address),
        mac=mac,
        mac_vendor=mac_vendor,
        services=tuple(Service(p) for p in ports),
        observations=observations,
    )


def http_response(
    status: int = 200,
    body: bytes = b"",
    headers: tuple[tuple[str, str], ...] = (),
    reason: str = "OK",
    protocol: str = "HTTP/1.1",
) -> bytes:
    head = [f"{protocol} {status} {reason}", *(f"{k}: {v}" for k, v in headers)]
    if not any(k.lower() in ("content-length", "transfer-encoding") for k, _ in headers):
        head.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


def router(
    routes: dict[str, bytes], log: list[bytes] | None = None
) -> Callable[[socket.socket], None]:
    """An HTTP handler answering canned responses by request path (404 otherwise)."""

    def handle(conn: socket.socket) -> None:
        request = read_request(conn)
        if log is not None:
            log.append(request)
        parts = request.split(b" ", 2)
        path = parts[1].decode("latin-1") if len(parts) > 2 else "/"
        conn.sendall(routes.get(path, http_response(404, b"Not Found", reason="Not Found")))

    return handle
