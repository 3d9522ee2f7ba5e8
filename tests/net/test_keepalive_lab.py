"""Keep-alive in the lab's web servers (auditor/lab/httpd.py) and camaudit's probes reusing the
lab devices' connections: same evidence, fewer connections."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from dataclasses import replace
from ipaddress import ip_address
from types import MappingProxyType

import pytest

from auditor.context import NetContext
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.lab import LoopbackSite, load_profiles
from auditor.models import Host, Observation, Outcome, Service
from auditor.models import ObservationKind as K
from auditor.net.exchange import Endpoint, host_budget, http_exchange
from auditor.net.wire import Deadline
from auditor.probes import PROBES, ProbeName, attempt
from auditor.scope import Scope
from tests.net.test_keepalive import Counting

PROFILES = load_profiles()
#: A lab camera whose server lets an idle kept connection go after 0.3 s.
SHORT = replace(
    PROFILES["uniview-ipc"],
    id="uniview-short-keepalive",
    services=MappingProxyType(
        {
            **PROFILES["uniview-ipc"].services,
            "http": {**PROFILES["uniview-ipc"].services["http"], "keep_alive_timeout": 0.3},
        }
    ),
)
DEVICES = (
    "axis-p1375",
    "dahua-ipc",
    "hikvision-ipc",
    "hikvision-nvr",
    "uniview-ipc",
    "hanwha-xno",
    "avigilon-h3",
)


@pytest.fixture(scope="module")
def site() -> Iterator[LoopbackSite]:
    with LoopbackSite([*DEVICES, SHORT]) as s:
        yield s


def web(site: LoopbackSite, profile: str) -> tuple[str, int]:
    device = site.device(profile)
    return device.address, device.port(int(device.profile.services["http"].get("port", 80)))


def request(sock: socket.socket, path: str = "/", connection: str = "keep-alive") -> bytes:
    """One GET and its whole reply (the lab's replies carry a Content-Length)."""
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: lab\r\nConnection: {connection}\r\n\r\n".encode("latin-1")
    )
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    return head


def closed_within(sock: socket.socket, seconds: float) -> float | None:
    """Seconds until the server closed the connection, None if it was still open."""
    start = time.monotonic()
    sock.settimeout(seconds)
    try:
        data = sock.recv(1)
    except TimeoutError:
        return None
    assert data == b"", "unsolicited bytes"
    return time.monotonic() - start


def test_an_http11_lab_server_keeps_the_connection_for_the_next_request(site):
    # The standard library's client, told never to reconnect: both requests share one socket.
    address, port = web(site, "axis-p1375")
    conn = http.client.HTTPConnection(address, port, timeout=3)
    conn.connect()
    conn.auto_open = 0
    try:
        for path in ("/", "/favicon.ico", "/axis-cgi/prod_brand_info/getbrand.cgi"):
            conn.request("GET", path)
            resp = conn.getresponse()
            resp.read()
            assert resp.getheader("Connection") is None
            assert not resp.will_close
    finally:
        conn.close()


def test_the_lab_closes_an_idle_kept_connection_after_its_timeout(site):
    with socket.create_connection(web(site, SHORT.id), 3) as sock:
        request(sock)
        after = closed_within(sock, 3)
    assert after is not None and 0.2 < after < 1.5


def test_a_request_saying_close_is_answered_and_closed(site):
    with socket.create_connection(web(site, "axis-p1375"), 3) as sock:
        head = request(sock, connection="close")
        assert b"\r\nConnection: close" in head
        assert closed_within(sock, 2) is not None


@pytest.mark.parametrize(
    ("profile", "shape"),
    [
        # keep_alive: false (Dahua's httpd announces CONNECTION: close, casing kept).
        ("dahua-ipc", b"HTTP/1.1 200 OK\r\nCONNECTION: close\r\nCONTENT-LENGTH: "),
        # An HTTP/1.0 server that does not offer keep-alive closes after each reply.
        ("hikvision-ipc", b"HTTP/1.0 "),
    ],
)
def test_servers_that_always_close_still_do(site, profile, shape):
    with socket.create_connection(web(site, profile), 3) as sock:
        head = request(sock)
        assert head.startswith(shape)
        assert closed_within(sock, 2) is not None


def test_a_server_captured_as_http10_answers_a_keep_alive_request_as_captured(site):
    # DNVRS-Webs: HTTP/1.0 to nmap's HTTP/1.0 probe (nmap's signature), HTTP/1.1 with
    # Connection: keep-alive to an HTTP/1.1 client (hikvision_next#50).
    with socket.create_connection(web(site, "hikvision-nvr"), 3) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    assert reply.startswith(b"HTTP/1.0 200 OK\r\nDate: ")
    assert b"\r\nConnection: close\r\n" in reply
    with socket.create_connection(web(site, "hikvision-nvr"), 3) as sock:
        head = request(sock)
        assert head.startswith(b"HTTP/1.1 200 OK\r\nDate: ")
        assert b"\r\nConnection: keep-alive\r\nKeep-Alive: timeout=60, max=99" in head
        assert request(sock, "/doc/page/login.asp").startswith(b"HTTP/1.1 200 OK")


# --- camaudit's probes on the lab -------------------------------------------------------------

ANONYMOUS = ("http", "tls", "rtsp", "banner")
CREDENTIALED = ("onvif", "isapi", "dahua", "axis")


def lab_ctx(site: LoopbackSite) -> tuple[NetContext, Counting]:
    user, password = site.credentials
    ctx = NetContext(
        scope=Scope.parse(list(site.targets)),
        timeout=1.0,
        ports=site.port_plan,
        credentials=CredentialStore(default=Credential(user, Secret(password))),
    )
    rate = Counting()
    ctx.rate = rate
    return ctx, rate


def audit(site: LoopbackSite, profile: str, keep: bool) -> tuple[list[Observation], int]:
    """The host's probes as the engine runs them, with or without a host budget."""
    ctx, rate = lab_ctx(site)
    device = site.device(profile)
    ports = sorted({p for p in device.ports.values() if p in site.port_plan.roles})
    host = Host(ip_address(device.address), services=tuple(Service(p) for p in ports))
    found: list[Observation] = []

    def run() -> None:
        nonlocal host
        for names in (ANONYMOUS, CREDENTIALED):
            for name in names:
                result = attempt(PROBES[ProbeName(name)](), host, ctx)
                assert result.outcome is not Outcome.FAILED or name != "http", result.detail
                found.extend(result.observations)
            host = replace(host, observations=tuple(found))

    if keep:
        with host_budget(60):
            run()
    else:
        run()
    return found, rate.count


def evidence(observations: list[Observation]) -> list[tuple[str, str, str]]:
    # The device's own Connection (and Keep-Alive) header answers ours (close asked, close
    # said); what it says to keep-alive is its answer to another request, not a change in how
    # camaudit reads a reply. The device's clock (ONVIF GetSystemDateAndTime) moves between the
    # two audits: that it was read, and where, is compared, not the time it said.
    return sorted(
        (o.kind.value, o.source, "" if o.kind is K.ONVIF_SYSTEM_DATE_TIME else o.value)
        for o in observations
        if not (
            o.kind is K.HTTP_HEADER and o.value.lower().startswith(("connection:", "keep-alive:"))
        )
    )


def test_a_tls_session_carries_the_hosts_requests(site):
    ctx, rate = lab_ctx(site)
    device = site.device("axis-p1375")
    endpoint = Endpoint(ip_address(device.address), device.port(443), tls=True)
    with host_budget(30):
        replies = [
            http_exchange(ctx, endpoint, Deadline(5), path=path)
            for path in ("/", "/favicon.ico", "/camaudit-nonexistent-path", "/")
        ]
    assert [r.status for r in replies] == [302, 404, 404, 302]
    assert replies[0].header("Location") == replies[3].header("Location") is not None
    assert rate.count == 1  # one handshake, one --rate token


@pytest.mark.parametrize("profile", DEVICES)
def test_probes_see_the_same_evidence_over_fewer_connections(site, profile):
    before, fresh = audit(site, profile, keep=False)
    after, kept = audit(site, profile, keep=True)
    assert evidence(after) == evidence(before)
    if profile in ("dahua-ipc", "hikvision-ipc"):
        assert kept == fresh  # servers that close: nothing to reuse
    else:
        assert kept < fresh / 2, (kept, fresh)
