"""A bad length in one reply is one MALFORMED exchange, never a crash that loses the rest.

``Content-Length: ²`` passes ``str.isdigit()`` and fails ``int()``; a 5,000-digit length fails
``int()`` too (Python's digit limit). Issue 13: in a probe it lost every other port's results,
in the SSDP description fetch it ended the whole channel.
"""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest

from auditor.context import NetContext
from auditor.discovery import discover_all
from auditor.errors import ProbeError
from auditor.lab.hostile import hostile_site
from auditor.lab.hostile.payloads import render_payload
from auditor.models import ObservationKind, Outcome, Reason
from auditor.net.wire import parse_length, parse_response
from auditor.ports import Role
from auditor.probes import attempt
from auditor.probes.http import HttpProbe
from auditor.probes.rtsp import RtspProbe
from auditor.scope import Scope
from tests.probes.probe_peers import Handler, Peer, make_ctx, make_host, read_request

BAD = ("length_superscript", "length_5000_digits", "chunk_size_line")
GOOD_PAGE = (
    b"HTTP/1.1 200 OK\r\nServer: good-port\r\nContent-Type: text/html\r\n"
    b"Content-Length: 38\r\nConnection: close\r\n\r\n<html><title>good port</title></html>\n"
)


def _serve(payload: bytes) -> Handler:
    def handle(conn: socket.socket) -> None:
        request = read_request(conn)
        if request:
            conn.sendall(payload)

    return handle


@pytest.mark.parametrize("name", BAD)
def test_bad_length_is_malformed(name: str) -> None:
    with pytest.raises(ProbeError) as info:
        parse_response(render_payload(name, None, b""))
    assert info.value.reason is Reason.MALFORMED


@pytest.mark.parametrize("value", ["\u00b2", "\u0663", "1_0", "+5", "-1", " ", "9" * 16, "0x10"])
def test_only_short_ascii_digits_are_a_length(value: str) -> None:
    with pytest.raises(ProbeError):
        parse_length(value)
    assert parse_length(" 42 ") == 42


@pytest.mark.parametrize("name", BAD)
def test_a_bad_length_on_one_port_keeps_the_other_ports_results(
    peer: Callable[..., Peer], name: str
) -> None:
    bad = peer(_serve(render_payload(name, None, b"")))
    good = peer(_serve(GOOD_PAGE))
    ctx = make_ctx({bad.port: Role.HTTP, good.port: Role.HTTP})
    result = attempt(HttpProbe(), make_host((bad.port, good.port)), ctx)
    assert result.reason is not Reason.BUG, result.detail
    assert result.outcome is Outcome.COMPLETED
    assert any(o.value == "good port" for o in result.observations)


def test_rtsp_superscript_length_is_a_malformed_reply(peer: Callable[..., Peer]) -> None:
    rtsp = peer(_serve(render_payload("rtsp_length_superscript", None, b"")))
    ctx = make_ctx({rtsp.port: Role.RTSP})
    result = attempt(RtspProbe(), make_host((rtsp.port,)), ctx)
    assert (result.outcome, result.reason) == (Outcome.FAILED, Reason.MALFORMED), result.detail


def test_a_bad_description_length_does_not_end_the_ssdp_channel() -> None:
    with hostile_site(["hostile-ssdp-length", "router-openwrt"]) as site:
        scope = Scope.parse(
            (site.address_of("hostile-ssdp-length"), site.address_of("router-openwrt"))
        )
        ctx = NetContext(scope=scope, timeout=1.0, multicast=False)
        result = discover_all(ctx, channels=["ssdp"])
        router = site.address_of("router-openwrt")
    assert not result.errors
    hosts = {str(h.address): h for h in result.hosts}
    kinds = {o.kind for o in hosts[router].observations}
    assert ObservationKind.UPNP_DESCRIPTION in kinds
