"""SSDP: M-SEARCH, SERVER kept, description fetched only from an in-scope LOCATION."""

from __future__ import annotations

import contextlib
import http.server
import threading
from collections.abc import Callable, Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.context import NetContext
from auditor.discovery import ssdp
from auditor.discovery.replies import ReplyError
from auditor.models import Channel, ObservationKind
from tests.discovery.conftest import Handler, Responder

DESCRIPTION = b"""<?xml version="1.0"?><root xmlns="urn:schemas-upnp-org:device-1-0"><device>
<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType>
<manufacturer>Example Maker</manufacturer>
<modelName>CAM-1</modelName><serialNumber>SN0001</serialNumber></device></root>"""


class _Handler(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        address = self.server.server_address
        assert isinstance(address, tuple)  # an IPv4 server
        _Handler.hits.append(f"{address[0]}{self.path}")
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(DESCRIPTION)))
        self.end_headers()
        self.wfile.write(DESCRIPTION)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_servers() -> Iterator[dict[str, int]]:
    """Description servers: one in scope, one on an address the scan must never contact."""
    servers = {}
    _Handler.hits = []
    for address in ("127.77.2.2", "127.77.2.99"):
        srv = http.server.ThreadingHTTPServer((address, 0), _Handler)
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        servers[address] = srv
    yield {a: s.server_address[1] for a, s in servers.items()}
    for s in servers.values():
        s.shutdown()
        s.server_close()


def response(location: str) -> bytes:
    return (
        "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
        f"LOCATION: {location}\r\nSERVER: Linux/3.10 UPnP/1.0 Example/1.0\r\n"
        "ST: upnp:rootdevice\r\n"
        "USN: uuid:11111111-2222-3333-4444-555555555555::upnp:rootdevice\r\n\r\n"
    ).encode()


def test_location_in_scope_is_fetched_outside_is_refused(
    responders: Callable[[str, int, Handler], Responder],
    make_ctx: Callable[..., NetContext],
    http_servers: dict[str, int],
) -> None:
    inside = f"http://127.77.2.2:{http_servers['127.77.2.2']}/desc.xml"
    outside = f"http://127.77.2.99:{http_servers['127.77.2.99']}/desc.xml"
    r1 = responders("127.77.2.2", ssdp.PORT, lambda d, p: [response(inside)])
    responders("127.77.2.3", ssdp.PORT, lambda d, p: [response(outside)])
    ctx = make_ctx("127.77.2.1-127.77.2.10")
    hosts = list(ssdp.SsdpChannel().discover(ctx))
    assert r1.received[0].startswith(b"M-SEARCH * HTTP/1.1\r\n")
    assert _Handler.hits == ["127.77.2.2/desc.xml"]  # nothing reached 127.77.2.99
    assert [(x.address, str(x.referrer), x.via) for x in ctx.out_of_scope] == [
        ("127.77.2.99", "127.77.2.3", "ssdp.location")
    ]
    by_kind = {(str(h.address), o.kind): o.value for h in hosts for o in h.observations}
    assert by_kind[("127.77.2.2", ObservationKind.UPNP_SERVER)] == "Linux/3.10 UPnP/1.0 Example/1.0"
    assert (
        "<modelName>CAM-1</modelName>" in by_kind[("127.77.2.2", ObservationKind.UPNP_DESCRIPTION)]
    )
    assert ("127.77.2.3", ObservationKind.UPNP_DESCRIPTION) not in by_kind
    assert all(h.seen_by == {Channel.SSDP} for h in hosts)
    assert "uuid:11111111-2222-3333-4444-555555555555" in hosts[0].endpoint_ids


def test_non_response_is_refused() -> None:
    with pytest.raises(ReplyError):
        ssdp.parse_response(ssdp.M_SEARCH)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_parse_value_or_reply_error(data: bytes) -> None:
    with contextlib.suppress(ReplyError):
        assert isinstance(ssdp.parse_response(data), dict)
