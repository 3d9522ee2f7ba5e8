"""Vendor discovery (SADP, DHIP, Xiongmai, mDNS): request formats, reply parsing, real exchanges."""

from __future__ import annotations

import contextlib
import json
import struct
import time
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.context import NetContext
from auditor.discovery import dhip, mdns, sadp, xmeye
from auditor.discovery.replies import ReplyError
from auditor.discovery.udp import Datagram
from auditor.models import Channel, ObservationKind
from tests.discovery.conftest import Handler, Responder

# Field names from the observed SADP reply quoted in research/protocols.md section 3; values ours.
SADP_REPLY = """<?xml version="1.0" encoding="UTF-8"?><ProbeMatch><Uuid>{uuid}</Uuid>
<Types>inquiry</Types><DeviceType>139</DeviceType><DeviceDescription>DS-2CD2143G2-I</DeviceDescription>
<DeviceSN>DS-2CD2143G2-I20230101AAWRJ00000001</DeviceSN><CommandPort>8000</CommandPort>
<HttpPort>80</HttpPort><MAC>c4-2f-90-a1-b2-c3</MAC><IPv4Address>{ip}</IPv4Address>
<IPv4SubnetMask>255.255.255.0</IPv4SubnetMask><SoftwareVersion>V5.7.3build 220112</SoftwareVersion>
<Activated>true</Activated></ProbeMatch>"""


def dhip_frame(body: bytes, declared: int | None = None) -> bytes:
    n = len(body) if declared is None else declared
    return struct.pack("<I4sIIIIII", 0x20, b"DHIP", 0, 0, n, 0, n, 0) + body


def dhip_reply(ip: str) -> bytes:
    doc = {
        "method": "client.notifyDevInfo",
        "mac": "3c:ef:8c:00:00:01",
        "params": {
            "deviceInfo": {
                "DeviceType": "IPC-HDW2431T-AS-S2",
                "SerialNo": "7K01234PAZ00001",
                "Vendor": "Dahua",
                "Version": "2.800.0000000.25.R",
                "Port": 37777,
                "IPv4Address": {"IPAddress": ip},
            }
        },
    }
    return dhip_frame(json.dumps(doc).encode())


def xm_reply(host_ip_hex: str) -> bytes:
    doc = {
        "NetWork.NetCommon": {
            "HostIP": host_ip_hex,
            "MAC": "00:12:31:aa:bb:cc",
            "SN": "abc123",
            "TCPPort": 34567,
            "SwVer": "V4.02.R11",
        },
        "Ret": 100,
    }
    body = json.dumps(doc).encode() + b"\n\x00"
    return struct.pack("<BBHIIHHI", 0xFF, 1, 0, 0, 0, 0, xmeye.REPLY_ID, len(body)) + body


def test_sadp_sends_only_inquiry_and_finds_device(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    def answer(data: bytes, peer: tuple[str, int]) -> list[bytes]:
        probe_id = data.split(b"<Uuid>")[1].split(b"</Uuid>")[0].decode()
        return [SADP_REPLY.format(uuid=probe_id, ip="203.0.113.9").encode()]

    r = responders("127.77.1.2", sadp.PORT, answer)
    ctx = make_ctx("127.77.1.0/29")
    (host,) = list(sadp.SadpChannel().discover(ctx))
    assert r.received and all(b"<Types>inquiry</Types>" in d for d in r.received)
    assert host.mac == "c4:2f:90:a1:b2:c3" and host.seen_by == {Channel.SADP}
    (obs,) = host.observations
    assert obs.kind is ObservationKind.SADP_PROBE_MATCH and "DS-2CD2143G2-I" in obs.value
    # The IP field points outside the scope: recorded, not contacted.
    assert [(x.address, x.via) for x in ctx.out_of_scope] == [("203.0.113.9", "sadp.ipv4address")]


def test_dhip_search_and_reply(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    r = responders("127.77.1.3", dhip.PORT, lambda d, p: [dhip_reply("127.77.1.3")])
    ctx = make_ctx("127.77.1.3")
    (host,) = list(dhip.DhipChannel().discover(ctx))
    assert r.received[0][4:8] == b"DHIP" and b"DHDiscover.search" in r.received[0]
    assert host.mac == "3c:ef:8c:00:00:01"
    (obs,) = host.observations
    assert obs.kind is ObservationKind.DHIP_REPLY
    assert json.loads(obs.value)["params"]["deviceInfo"]["SerialNo"] == "7K01234PAZ00001"
    assert ctx.out_of_scope == ()


def test_dhip_hostile_length_and_utf8_are_bounded() -> None:
    body = json.dumps(
        {"method": "client.notifyDevInfo", "params": {"deviceInfo": {"SerialNo": "x"}}}
    )
    # A length field of 4 GiB: only the bytes actually present are read.
    text, doc = dhip.parse_reply(dhip_frame(body.encode(), declared=0xFFFFFFFF))
    assert doc["params"]["deviceInfo"]["SerialNo"] == "x"
    bad = body.replace('"x"', '"\\u00ff"').encode().replace(b"\\u00ff", b"\xff\xfe")
    text, doc = dhip.parse_reply(dhip_frame(bad))
    assert "\ufffd" in text
    for hostile in (dhip_frame(b"[" * 50_000), dhip_frame(b"{}"), b"DHIP", b"\x00" * 64):
        try:
            dhip.parse_reply(hostile)
        except ReplyError:
            continue
        raise AssertionError(f"accepted {hostile[:40]!r}")


def test_xmeye_reply_and_hostip(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    # 0x0A4D4D7F is 127.77.77.10 little-endian: outside this scope, so refused.
    r = responders("127.77.1.4", xmeye.PORT, lambda d, p: [xm_reply("0x0A4D4D7F")])
    ctx = make_ctx("127.77.1.4")
    (host,) = list(xmeye.XmeyeChannel().discover(ctx))
    # The search message only (sent again if the first reply came late: a second pass).
    assert r.received and set(r.received) == {xmeye.build_search()}
    assert host.mac == "00:12:31:aa:bb:cc"
    assert host.observations[0].kind is ObservationKind.XMEYE_REPLY
    assert xmeye.host_ip("0x6401A8C0") == "192.168.1.100"
    assert [(x.address, x.via) for x in ctx.out_of_scope] == [("127.77.77.10", "xmeye.hostip")]


def _mdns_answer(query: bytes) -> bytes:
    """An Axis-style answer (TXT macaddress=, research/protocols.md section 3) to a PTR query."""

    def name(text: str) -> bytes:
        return b"".join(bytes([len(p)]) + p.encode() for p in text.split(".")) + b"\0"

    inst = "AXIS M3045-V - ACCC8E000001._axis-video._tcp.local"
    rr = b""
    ptr = name(inst)
    rr += name("_axis-video._tcp.local") + struct.pack("!HHIH", 12, 1, 120, len(ptr)) + ptr
    txt = b"\x17macaddress=ACCC8E000001"
    rr += name(inst) + struct.pack("!HHIH", 16, 0x8001, 120, len(txt)) + txt
    srv = struct.pack("!HHH", 0, 0, 80) + name("axis-accc8e000001.local")
    rr += name(inst) + struct.pack("!HHIH", 33, 0x8001, 120, len(srv)) + srv
    a = bytes([198, 51, 100, 20])
    rr += name("axis-accc8e000001.local") + struct.pack("!HHIH", 1, 0x8001, 120, 4) + a
    return struct.pack("!HHHHHH", 0, 0x8400, 0, 4, 0, 0) + rr


def test_mdns_browse(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    r = responders("127.77.1.5", mdns.PORT, lambda d, p: [_mdns_answer(d)])
    ctx = make_ctx("127.77.1.5")
    (host,) = list(mdns.MdnsChannel().discover(ctx))
    assert b"\x0b_axis-video\x04_tcp\x05local\x00" in r.received[0]
    assert host.mac == "ac:cc:8e:00:00:01"
    value = host.observations[0].value
    assert "TXT AXIS M3045-V - ACCC8E000001._axis-video._tcp.local macaddress=ACCC8E000001" in value
    assert (
        "SRV AXIS M3045-V - ACCC8E000001._axis-video._tcp.local 0 0 80 axis-accc8e000001.local"
        in value
    )
    assert [(x.address, x.via) for x in ctx.out_of_scope] == [("198.51.100.20", "mdns.address")]


def test_mdns_compression_loop_is_refused() -> None:
    loop = struct.pack("!HHHHHH", 0, 0x8400, 0, 1, 0, 0) + b"\xc0\x0c"
    try:
        mdns.parse_response(loop)
    except ReplyError:
        return
    raise AssertionError("a compression loop must be refused")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1500))
def test_parsers_value_or_reply_error(data: bytes) -> None:
    for parse in (sadp.parse_probe_match, dhip.parse_reply, xmeye.parse_reply, mdns.parse_response):
        with contextlib.suppress(ReplyError):
            parse(data)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_framed_garbage_value_or_reply_error(body: bytes) -> None:
    # Valid headers around arbitrary bodies reach the JSON and DNS paths, not only the headers.
    frames = (
        (dhip.parse_reply, dhip_frame(body)),
        (
            xmeye.parse_reply,
            struct.pack("<BBHIIHHI", 0xFF, 1, 0, 0, 0, 0, xmeye.REPLY_ID, len(body)) + body,
        ),
        (mdns.parse_response, struct.pack("!HHHHHH", 0, 0x8400, 1, 3, 0, 0) + body),
    )
    for parse, frame in frames:
        with contextlib.suppress(ReplyError):
            parse(frame)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(_json, _json, st.text(max_size=30))
def test_dhip_structured_json_value_or_reply_error(info: object, mac: object, ip: str) -> None:
    # Shapes close to a real reply, with every field of the wrong type somewhere.
    doc = {"method": "client.notifyDevInfo", "mac": mac, "params": {"deviceInfo": info}}
    if isinstance(info, dict):
        info["IPv4Address"] = {"IPAddress": ip}
    frame = dhip_frame(json.dumps(doc).encode())
    try:
        host = list(dhip.DhipChannel().parse(_datagram(frame), _ctx()))
    except ReplyError:
        return
    assert len(host) == 1


def _datagram(data: bytes) -> Datagram:
    from datetime import UTC, datetime
    from ipaddress import ip_address

    return Datagram(ip_address("127.77.1.9"), 37810, data, datetime.now(UTC))


def _ctx() -> NetContext:
    from auditor.scope import Scope

    return NetContext(scope=Scope.parse(["127.77.1.9"]), multicast=False)


def test_ipv6_directed_probe(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    r = responders("::1", dhip.PORT, lambda d, p: [dhip_reply("::1")])
    (host,) = list(dhip.DhipChannel().discover(make_ctx("::1")))
    assert str(host.address) == "::1" and r.received


def test_sadp_xxe_and_entities_refused() -> None:
    xxe = (
        b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        b"<ProbeMatch><Types>inquiry</Types><DeviceSN>&x;</DeviceSN></ProbeMatch>"
    )
    with pytest.raises(ReplyError):
        sadp.parse_probe_match(xxe)
    with pytest.raises(ReplyError):
        sadp.parse_probe_match(b"<ProbeMatch>" + b"<a>" * 70_000)


def test_rate_limit_paces_directed_probes(
    responders: Callable[[str, int, Handler], Responder], make_ctx: Callable[..., NetContext]
) -> None:
    from auditor.context import RateLimiter

    r = responders("127.77.1.6", dhip.PORT, lambda d, p: [])
    ctx = make_ctx("127.77.1.0/29")
    ctx.rate = RateLimiter(20.0)
    start = time.monotonic()
    list(dhip.DhipChannel().discover(ctx))
    # Six addresses, one datagram each, at most 20 per second; no second pass under --rate.
    assert time.monotonic() - start >= 5 / 20 and len(r.received) == 1
