"""Property and example tests for the probes' parsers: a value or a typed error, never a crash."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import ParamSpec, TypeVar

import pytest
from hypothesis import given
from hypothesis import strategies as st

from auditor.credentials import Credential, Secret
from auditor.errors import ProbeError
from auditor.models import Reason
from auditor.net.auth import authorization, parse_challenges, username_token
from auditor.net.soap import device_utc, parse_soap, parse_xml, scope_uris, xaddrs
from auditor.net.wire import parse_response, parse_status_line
from auditor.probes.dvrip import frame, parse_frame, sofia_hash
from auditor.probes.http import parse_title
from auditor.probes.onvif import format_skew
from auditor.probes.vendor import key_value_lines

TYPED = (Reason.MALFORMED, Reason.TOO_LARGE)
CRED = Credential("admin", Secret("pa ss:wörd"))


P = ParamSpec("P")
T = TypeVar("T")


def typed_or_value(fn: Callable[P, T], *args: P.args, **kw: P.kwargs) -> T | None:
    try:
        return fn(*args, **kw)
    except ProbeError as exc:
        assert exc.reason in TYPED, exc.reason
        return None


# --- HTTP/RTSP wire ------------------------------------------------------------------------
@given(st.binary(max_size=400))
def test_http_response_parser_value_or_typed_error(data):
    resp = typed_or_value(parse_response, data, 2048)
    if resp is not None:
        assert resp.protocol in ("HTTP", "RTSP")
        assert len(resp.body) <= 2048


@given(st.binary(max_size=120))
def test_status_line_parser(data):
    parsed = typed_or_value(parse_status_line, data)
    if parsed is not None:
        assert 0 <= parsed[1] <= 999


def test_status_line_examples():
    assert parse_status_line(b"HTTP/1.0 302 Found\r\n") == ("HTTP", 302, "Found")
    assert parse_status_line(b"RTSP/1.0 200\r\n") == ("RTSP", 200, "")
    with pytest.raises(ProbeError):
        parse_status_line(b"SSH-2.0-dropbear\r\n")


def test_content_length_over_cap_is_too_large_without_reading_it():
    with pytest.raises(ProbeError) as err:
        parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 999999999\r\n\r\nabc", cap=1000)
    assert err.value.reason is Reason.TOO_LARGE


# --- titles and challenges -----------------------------------------------------------------
@given(st.text(max_size=300))
def test_title_parser_never_fails(text):
    title = parse_title(text)
    assert title is None or (0 < len(title) <= 512 and "\n" not in title)


def test_title_examples():
    assert parse_title("<TITLE>NETSurveillance WEB</TITLE>") == "NETSurveillance WEB"
    assert parse_title("<title>\n</title>") is None


@given(st.text(max_size=200))
def test_challenge_parser_value_or_typed_error(header):
    challenges = typed_or_value(parse_challenges, header)
    if challenges is not None:
        for ch in challenges:
            assert ch.scheme and ch.summary.startswith(ch.scheme)


def test_challenge_examples():
    [digest, basic] = parse_challenges(
        'Digest realm="Login to 4K01FD2PAJ6E3FF", nonce="x", qop="auth", Basic realm="r"'
    )
    assert digest.summary == 'Digest realm="Login to 4K01FD2PAJ6E3FF"'
    assert basic.summary == 'Basic realm="r"'


def test_digest_answer_is_rfc7616_and_never_contains_the_password():
    [ch] = parse_challenges('Digest realm="cam", nonce="abc", qop="auth", opaque="o"')
    value = authorization([ch], CRED, "GET", "/ISAPI/System/deviceInfo")
    assert value is not None and value.startswith("Digest ")
    assert "pa ss" not in value
    fields = dict(
        part.strip().split("=", 1) for part in value[len("Digest ") :].split(", ") if "=" in part
    )
    cnonce, nc = fields["cnonce"].strip('"'), fields["nc"]

    def h(s: str) -> str:
        return hashlib.md5(s.encode()).hexdigest()

    ha1 = h("admin:cam:pa ss:wörd")
    ha2 = h("GET:/ISAPI/System/deviceInfo")
    assert fields["response"].strip('"') == h(f"{ha1}:abc:{nc}:{cnonce}:auth:{ha2}")


def test_basic_only_when_nothing_else_is_offered():
    value = authorization(parse_challenges('Basic realm="x"'), CRED, "GET", "/")
    assert value == "Basic " + base64.b64encode(b"admin:pa ss:w\xc3\xb6rd").decode()
    assert authorization(parse_challenges("Negotiate"), CRED, "GET", "/") is None


def test_username_token_is_dated_by_the_skew():
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)
    token = username_token(CRED, timedelta(hours=2), now)
    assert "<wsu:Created>2026-01-01T14:00:00Z</wsu:Created>" in token
    nonce = base64.b64decode(token.split('#Base64Binary">', 1)[1].split("<", 1)[0])
    digest = token.split('#PasswordDigest">', 1)[1].split("<", 1)[0]
    expected = hashlib.sha1(nonce + b"2026-01-01T14:00:00Z" + "pa ss:wörd".encode()).digest()
    assert base64.b64decode(digest) == expected
    assert "pa ss" not in token


# --- SOAP ----------------------------------------------------------------------------------
FAULT = (
    b'<?xml version="1.0"?><SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope"'
    b' xmlns:ter="http://www.onvif.org/ver10/error"><SOAP-ENV:Body><SOAP-ENV:Fault><SOAP-ENV:Code>'
    b"<SOAP-ENV:Value>SOAP-ENV:Sender</SOAP-ENV:Value><SOAP-ENV:Subcode><SOAP-ENV:Value>"
    b"ter:NotAuthorized</SOAP-ENV:Value></SOAP-ENV:Subcode></SOAP-ENV:Code><SOAP-ENV:Reason>"
    b'<SOAP-ENV:Text xml:lang="en">Sender not Authorized</SOAP-ENV:Text></SOAP-ENV:Reason>'
    b"</SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"
)


def test_fault_subcodes_are_preserved():
    reply = parse_soap(FAULT)
    assert reply.fault is not None
    assert reply.fault.subcodes == ("ter:NotAuthorized",)
    assert reply.fault.not_authorized
    unsupported = parse_soap(
        FAULT.replace(b"ter:NotAuthorized", b"ter:ActionNotSupported").replace(
            b"Sender not Authorized", b"Optional Action Not Implemented"
        )
    )
    assert unsupported.fault is not None and not unsupported.fault.not_authorized
    assert unsupported.fault.subcodes == ("ter:ActionNotSupported",)


def test_device_time_and_scopes():
    sdt = (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="x"><e:Body><r>'
        b"<tt:UTCDateTime><tt:Time><tt:Hour>14</tt:Hour><tt:Minute>5</tt:Minute><tt:Second>9"
        b"</tt:Second></tt:Time><tt:Date><tt:Year>2026</tt:Year><tt:Month>11</tt:Month><tt:Day>21"
        b"</tt:Day></tt:Date></tt:UTCDateTime></r></e:Body></e:Envelope>"
    )
    assert device_utc(parse_soap(sdt)) == datetime(2026, 11, 21, 14, 5, 9, tzinfo=UTC)
    assert device_utc(parse_soap(sdt.replace(b">11<", b">13<"))) is None
    scopes = (
        b'<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"><e:Body><r><s><ScopeItem>'
        b"onvif://www.onvif.org/name/HIKVISION%20DS-2CD2143G2-I</ScopeItem></s><s><ScopeItem>"
        b"onvif://www.onvif.org/type/video_encoder</ScopeItem></s></r></e:Body></e:Envelope>"
    )
    assert scope_uris(parse_soap(scopes)) == [
        "onvif://www.onvif.org/name/HIKVISION DS-2CD2143G2-I",
        "onvif://www.onvif.org/type/video_encoder",
    ]
    assert format_skew(timedelta(seconds=7199.6)) == "+7200s"
    assert format_skew(timedelta(seconds=-35)) == "-35s"


def test_hostile_xml_is_malformed_not_expanded():
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>'
        b"<Envelope><Body><x>&b;</x></Body></Envelope>"
    )
    with pytest.raises(ProbeError) as err:
        parse_soap(bomb)
    assert err.value.reason is Reason.MALFORMED
    with pytest.raises(ProbeError):
        parse_xml(b'<!DOCTYPE x SYSTEM "file:///etc/passwd"><x/>')


@given(st.binary(max_size=300))
def test_soap_parser_value_or_typed_error(data):
    reply = typed_or_value(parse_soap, data)
    if reply is not None:
        assert reply.fault is None or isinstance(reply.fault.subcodes, tuple)


@given(st.text(max_size=200))
def test_soap_parser_on_envelope_shaped_text(inner):
    from xml.sax.saxutils import escape

    data = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
        f"<s:Fault><s:Code><s:Value>{escape(inner)}</s:Value></s:Code></s:Fault>"
        "</s:Body></s:Envelope>"
    ).encode("utf-8", "surrogatepass")
    reply = typed_or_value(parse_soap, data)
    if reply is not None:
        assert reply.fault is not None


def test_xaddrs_from_a_probe_match():
    pm = (
        '<e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body><d:ProbeMatches>'
        "<d:ProbeMatch><d:XAddrs>http://192.0.2.10/onvif/device_service "
        "http://[fe80::1]/onvif/device_service</d:XAddrs></d:ProbeMatch></d:ProbeMatches>"
        "</e:Body></e:Envelope>"
    )
    assert xaddrs(pm) == [
        "http://192.0.2.10/onvif/device_service",
        "http://[fe80::1]/onvif/device_service",
    ]


# --- vendor CGI and DVRIP ------------------------------------------------------------------
def test_key_value_lines_drop_html_and_noise():
    text = "deviceType=IPC-HDW1230S\r\nupdateSerial=IPC-HDW1230S-S5\r\n<html>x=1</html>\nError\n"
    assert key_value_lines(text) == ["deviceType=IPC-HDW1230S", "updateSerial=IPC-HDW1230S-S5"]


def test_dvrip_frame_round_trip_and_sofia_hash():
    # The well-known hash of the empty password on these devices (python-dvr README, XMEye docs).
    assert sofia_hash("") == "tlJwpbo6"
    parsed = parse_frame(frame(1020, {"Name": "SystemInfo"}, session=0x0B))
    assert (parsed.session, parsed.message) == (0x0B, 1020)
    assert parsed.json() == {"Name": "SystemInfo"}


@given(st.binary(max_size=200))
def test_dvrip_parser_value_or_typed_error(data):
    parsed = typed_or_value(parse_frame, data, 4096)
    if parsed is not None:
        try:
            parsed.json()
        except ProbeError as exc:
            assert exc.reason is Reason.MALFORMED
