"""WS-Discovery: probe format, ProbeMatch parsing, and a real UDP exchange on loopback."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable

from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.context import NetContext
from auditor.discovery.replies import ReplyError
from auditor.discovery.wsd import PORT, WsDiscoveryChannel, WsdReply, build_probe, parse_reply
from auditor.models import Channel, ObservationKind
from tests.discovery.conftest import Handler, Responder

# Shape of an observed Hikvision ProbeMatch (research/protocols.md section 1), our own values.
MATCH = """<?xml version="1.0" encoding="UTF-8"?>
<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope"
 xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery">
 <env:Header><wsa:RelatesTo>{relates}</wsa:RelatesTo>
 <wsa:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action></env:Header>
 <env:Body><d:ProbeMatches>{matches}</d:ProbeMatches></env:Body></env:Envelope>"""
ONE = """<d:ProbeMatch>
 <wsa:EndpointReference><wsa:Address>urn:uuid:{uuid}</wsa:Address></wsa:EndpointReference>
 <d:Types>dn:NetworkVideoTransmitter tds:Device</d:Types>
 <d:Scopes>onvif://www.onvif.org/type/video_encoder onvif://www.onvif.org/MAC/c4:2f:90:a1:b2:c3
  onvif://www.onvif.org/hardware/DS-2CD2143G2-I onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G2-I</d:Scopes>
 <d:XAddrs>{xaddrs}</d:XAddrs><d:MetadataVersion>10</d:MetadataVersion></d:ProbeMatch>"""


def probe_match(relates: str, xaddrs: str, uuids: list[str]) -> bytes:
    body = "".join(ONE.format(uuid=u, xaddrs=xaddrs) for u in uuids)
    return MATCH.format(relates=relates, matches=body).encode()


def message_id(probe: bytes) -> str:
    m = re.search(rb"<a:MessageID>([^<]+)</a:MessageID>", probe)
    assert m
    return m.group(1).decode()


def test_probe_is_typed_and_parses_as_soap() -> None:
    probe = build_probe(
        "dn", "http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter", "x-1"
    )
    assert b"<d:Types>dn:NetworkVideoTransmitter</d:Types>" in probe
    # Our own probe echoed back is not a reply.
    try:
        parse_reply(probe)
    except ReplyError:
        pass
    else:
        raise AssertionError("a Probe must not parse as a ProbeMatch")


def test_parse_decodes_scopes_and_keeps_fields() -> None:
    reply = parse_reply(probe_match("uuid:1", "http://192.0.2.10/onvif/device_service", ["ABC"]))
    (match,) = reply.matches
    assert match.endpoint == "urn:uuid:abc"
    assert "onvif://www.onvif.org/name/HIKVISION DS-2CD2143G2-I" in match.scopes
    assert match.mac == "c4:2f:90:a1:b2:c3"
    assert match.xaddrs == ("http://192.0.2.10/onvif/device_service",)


def test_fault_reply_is_a_sighting() -> None:
    fault = (
        b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault>'
        b"<s:Code><s:Value>s:Sender</s:Value></s:Code></s:Fault></s:Body></s:Envelope>"
    )
    assert parse_reply(fault).fault


def test_billion_laughs_is_refused() -> None:
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<Envelope>&b;</Envelope>"
    )
    try:
        parse_reply(bomb)
    except ReplyError:
        return
    raise AssertionError("entity expansion must be refused")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048) | st.text(max_size=2048).map(str.encode))
def test_parse_reply_value_or_reply_error(data: bytes) -> None:
    with contextlib.suppress(ReplyError):
        assert isinstance(parse_reply(data), WsdReply)


def test_directed_probe_finds_device_and_refuses_outside_xaddrs(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    dev = str(uuid.uuid4())

    def answer(data: bytes, peer: tuple[str, int]) -> list[bytes]:
        return [
            probe_match(
                message_id(data),
                "http://198.51.100.7/onvif/device_service http://127.77.0.2:8080/onvif/device_service",
                [dev],
            )
        ]

    r = responders("127.77.0.2", PORT, answer)
    ctx = make_ctx("127.77.0.1-127.77.0.6")
    hosts = list(WsDiscoveryChannel().discover(ctx))
    # Both typed probes arrived (twice if a slow reply missed the retry pause).
    assert len(r.received) in (2, 4)
    assert {b"NetworkVideoTransmitter" in d for d in r.received} == {True, False}
    # Two probes, one device: de-duplicated by endpoint.
    (host,) = hosts
    assert str(host.address) == "127.77.0.2"
    assert host.seen_by == {Channel.WS_DISCOVERY}
    assert host.endpoint_ids == {f"urn:uuid:{dev}"}
    assert host.mac == "c4:2f:90:a1:b2:c3"
    kinds = {o.kind for o in host.observations}
    assert kinds == {ObservationKind.ONVIF_PROBE_MATCH, ObservationKind.ONVIF_SCOPES}
    scopes = next(o.value for o in host.observations if o.kind is ObservationKind.ONVIF_SCOPES)
    assert "onvif://www.onvif.org/name/HIKVISION DS-2CD2143G2-I" in scopes.splitlines()
    assert [(r.address, str(r.referrer), r.via) for r in ctx.out_of_scope] == [
        ("198.51.100.7", "127.77.0.2", "onvif.xaddrs")
    ]


def test_probe_match_flood_stays_bounded(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    def flood(data: bytes, peer: tuple[str, int]) -> list[bytes]:
        return [probe_match("x", "", [str(uuid.uuid4()) for _ in range(100)]) for _ in range(50)]

    responders("127.77.0.3", PORT, flood)
    hosts = list(WsDiscoveryChannel().discover(make_ctx("127.77.0.3")))
    assert 1 <= len(hosts) <= 8


def test_probes_only_scope_addresses(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    inside = responders("127.77.0.4", PORT, lambda d, p: [])
    excluded = responders("127.77.0.5", PORT, lambda d, p: [])
    outside = responders("127.77.0.9", PORT, lambda d, p: [])
    list(WsDiscoveryChannel().discover(make_ctx("127.77.0.4-5", excludes=("127.77.0.5",))))
    # Two typed probes, sent again once to addresses that stayed silent.
    assert len(inside.received) == 4
    assert excluded.received == [] and outside.received == []
