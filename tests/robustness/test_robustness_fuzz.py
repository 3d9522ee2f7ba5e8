"""Property tests for the device-data parsers the other suites do not reach (issue 9).

Each parser of device data returns a value or raises its typed error (ProbeError, ReplyError,
NmapXmlError, ExtractError), never anything else. Byte-level fuzzing rarely gets past the first
check, so these are structure-aware: mutated real certificates, well-formed XML and JSON with
hostile values, valid frames around arbitrary bodies, and replies split at arbitrary points.
Already covered elsewhere (not repeated): raw bytes into the HTTP/RTSP/status-line/SOAP/DVRIP
parsers (tests/probes), WS-Discovery, SSDP, SADP, DHIP, Xiongmai, mDNS, nmap XML and CSV bytes
(tests/discovery), the list importers (tests/exposure), every identify extractor on text
(tests/identify).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import json
from xml.sax.saxutils import escape, quoteattr

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from auditor.discovery import sadp, wsd
from auditor.discovery.nmap_xml import NmapXmlError, parse_nmap_xml
from auditor.discovery.replies import ReplyError
from auditor.errors import ProbeError
from auditor.identify.extract import ExtractError, extract, iter_structured_kinds
from auditor.net.soap import device_utc, parse_soap, scope_uris, xaddrs
from auditor.net.wire import Reader, read_response
from auditor.probes.banner import ssh_identification, strip_telnet
from auditor.probes.http import meta_refresh
from auditor.probes.rtsp import parse_rtsp_response, sdp_markers
from auditor.probes.tls import certificate_facts
from auditor.probes.vendor import key_value_lines

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

#: Text a hostile device might put anywhere: markup, entities, controls, astral and bidi chars.
hostile_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"]) | st.sampled_from("<>&\"'\x00\x1b\u202e="),
    max_size=60,
)
xml_text = hostile_text.map(lambda t: "".join(c for c in t if c >= " " or c in "\t\n"))


def _certificate() -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "IPC"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lab"),
        ]
    )
    now = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("ipc.lab"), x509.IPAddress(ipaddress.ip_address("192.0.2.10"))]
            ),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(Encoding.DER)


CERT = _certificate()


@FUZZ
@given(st.lists(st.tuples(st.integers(0, len(CERT) - 1), st.integers(0, 255)), max_size=6))
@example([(11, 1)])  # version field 1 (X.509 v2): InvalidVersion, not a ValueError (was a BUG)
def test_mutated_certificate_gives_facts_or_malformed(edits: list[tuple[int, int]]) -> None:
    der = bytearray(CERT)
    for at, value in edits:
        der[at] = value
    try:
        facts = certificate_facts(bytes(der))
    except ProbeError as exc:
        assert exc.reason.value == "malformed"
        return
    assert set(facts) == {"subject", "issuer", "san", "validity"}


@FUZZ
@given(st.binary(max_size=300), st.integers(0, 2))
def test_truncated_certificate_gives_malformed(tail: bytes, cut: int) -> None:
    der = CERT[: len(CERT) // (cut + 2)] + tail
    try:
        certificate_facts(der)
    except ProbeError as exc:
        assert exc.reason.value == "malformed", exc


_REPLY = (
    b"HTTP/1.1 200 OK\r\nServer: App-webs/\r\nX-A: 1\r\n folded\r\nContent-Length: 16\r\n\r\n"
    + b"<title>x</title>"
)
_CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n3;x=1\r\nefg\r\n0\r\n\r\n"
)


@FUZZ
@given(
    st.sampled_from([_REPLY, _CHUNKED, b"RTSP/1.0 401 Unauthorized\r\nCSeq: 2\r\n\r\n"]),
    st.lists(st.integers(1, 40), max_size=12),
)
def test_a_reply_parses_the_same_however_it_is_split(data: bytes, cuts: list[int]) -> None:
    """TCP delivers a reply in arbitrary pieces; the parse must not depend on them."""
    chunks, rest = [], data
    for n in cuts:
        chunks.append(rest[:n])
        rest = rest[n:]
    chunks.append(rest)
    whole = read_response(Reader.from_chunks([data], 4096))
    split = read_response(Reader.from_chunks([c for c in chunks if c], 4096))
    assert (split.status, split.headers, split.body) == (whole.status, whole.headers, whole.body)


@FUZZ
@given(st.binary(max_size=200), st.integers(0, 1 << 33), st.sampled_from([b"RTSP", b"HTTP"]))
def test_rtsp_reply_with_hostile_length_and_body(body: bytes, length: int, proto: bytes) -> None:
    data = proto + b"/1.0 200 OK\r\nCSeq: 1\r\nContent-Length: %d\r\n\r\n" % length + body
    try:
        resp = parse_rtsp_response(data, cap=4096)
    except ProbeError as exc:
        assert exc.reason.value in ("malformed", "too_large")
        return
    assert len(resp.body) == length <= 4096
    markers = sdp_markers(resp.body)
    assert markers is None or markers.startswith("v=")


@FUZZ
@given(st.binary(max_size=400))
def test_banner_helpers_never_fail(data: bytes) -> None:
    text = strip_telnet(data)
    assert len(text) <= len(data)
    ident = ssh_identification(data.splitlines(keepends=True))
    assert ident is None or ident.startswith("SSH-")
    assert all("=" in line for line in key_value_lines(data.decode("latin-1")))
    target = meta_refresh(data.decode("utf-8", "replace"))
    assert target is None or isinstance(target, str)


def _soap(body: str) -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tt="http://www.onvif.org/ver10/schema" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Body>'
        f"{body}</s:Body></s:Envelope>"
    ).encode("utf-8", "surrogatepass")


@FUZZ
@given(
    st.lists(st.one_of(st.integers(-(10**12), 10**12).map(str), xml_text), min_size=6, max_size=6)
)
def test_device_clock_with_hostile_fields(values: list[str]) -> None:
    names = ("Year", "Month", "Day", "Hour", "Minute", "Second")
    fields = "".join(f"<tt:{n}>{escape(v)}</tt:{n}>" for n, v in zip(names, values, strict=True))
    reply = parse_soap(
        _soap(
            "<tds:GetSystemDateAndTimeResponse><tt:UTCDateTime>"
            f"{fields}</tt:UTCDateTime></tds:GetSystemDateAndTimeResponse>"
        )
    )
    when = device_utc(reply)
    assert when is None or when.tzinfo is not None


@FUZZ
@given(st.lists(xml_text, max_size=8))
def test_scopes_and_xaddrs_with_hostile_values(items: list[str]) -> None:
    scopes = "".join(f"<tt:ScopeItem>{escape(i)}</tt:ScopeItem>" for i in items)
    reply = parse_soap(
        _soap(f"<tds:GetScopesResponse><tds:Scopes>{scopes}</tds:Scopes></tds:GetScopesResponse>")
    )
    assert len(scope_uris(reply)) <= len(items)
    try:
        urls = xaddrs(
            _soap(f"<d:XAddrs xmlns:d='urn:x'>{escape(' '.join(items))}</d:XAddrs>").decode()
        )
    except ProbeError:
        return
    assert all(" " not in u for u in urls)


@FUZZ
@given(
    st.dictionaries(
        st.from_regex(r"[A-Za-z][A-Za-z0-9]{0,12}", fullmatch=True), xml_text, max_size=10
    ),
    st.sampled_from(["ProbeMatch", "Probe", "Other"]),
)
def test_sadp_well_formed_xml_with_hostile_fields(fields: dict[str, str], root: str) -> None:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in fields.items())
    data = f'<?xml version="1.0" encoding="UTF-8"?><{root}>{inner}</{root}>'.encode()
    try:
        parsed = sadp.parse_probe_match(data)
    except ReplyError:
        return
    assert isinstance(parsed, dict)


@FUZZ
@given(xml_text, xml_text, xml_text, st.integers(0, 40))
def test_probe_match_with_hostile_fields(
    endpoint: str, scopes: str, addrs: str, copies: int
) -> None:
    match = (
        f"<d:ProbeMatch><a:EndpointReference><a:Address>{escape(endpoint)}</a:Address>"
        f"</a:EndpointReference><d:Types>dn:NetworkVideoTransmitter</d:Types>"
        f"<d:Scopes>{escape(scopes)}</d:Scopes><d:XAddrs>{escape(addrs)}</d:XAddrs></d:ProbeMatch>"
    )
    data = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Body><d:ProbeMatches>'
        f"{match * copies}</d:ProbeMatches></s:Body></s:Envelope>"
    ).encode("utf-8", "surrogatepass")
    try:
        reply = wsd.parse_reply(data)
    except ReplyError:
        return
    assert len(reply.matches) <= max(copies, 1)
    for m in reply.matches:
        assert len(m.endpoint) <= 256 and len(m.xaddrs) <= 16 and len(m.scopes) <= 128


_attr = hostile_text.map(lambda t: "".join(c for c in t if c >= " "))


@FUZZ
@given(_attr, st.one_of(st.integers(-5, 70000).map(str), _attr), _attr, _attr, _attr, _attr)
def test_nmap_xml_with_hostile_attributes(
    addr: str, port: str, name: str, product: str, cpe: str, vendor: str
) -> None:
    data = (
        '<?xml version="1.0"?><nmaprun scanner="nmap" start="1700000000"><host>'
        '<status state="up"/>'
        f'<address addr={quoteattr(addr)} addrtype="ipv4"/>'
        f'<address addr="00:11:22:33:44:55" addrtype="mac" vendor={quoteattr(vendor)}/>'
        f'<ports><port protocol="tcp" portid={quoteattr(port)}><state state="open"/>'
        f"<service name={quoteattr(name)} product={quoteattr(product)}><cpe>{escape(cpe)}</cpe>"
        "</service></port></ports></host></nmaprun>"
    ).encode("utf-8", "surrogatepass")
    try:
        run = parse_nmap_xml(data)
    except (NmapXmlError, ValueError):
        return
    assert len(run.hosts) <= 1


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=25,
)


@FUZZ
@given(_json, st.sampled_from(list(iter_structured_kinds())))
def test_extractors_on_structured_json(value: object, kind: object) -> None:
    text = json.dumps(value)
    try:
        fields = extract(kind, text)  # type: ignore[arg-type]
    except ExtractError:
        return
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in fields.items())


@pytest.mark.parametrize("depth", [50, 5000])
def test_extractors_on_deep_nesting(depth: int) -> None:
    for kind in iter_structured_kinds():
        for text in ("[" * depth + "]" * depth, "<a>" * depth + "</a>" * depth):
            with contextlib.suppress(ExtractError):
                extract(kind, text)


def test_identification_of_read_cap_sized_hostile_values_is_fast() -> None:
    """Fingerprint patterns run on device text up to the read cap: no catastrophic backtracking."""
    import time
    from datetime import UTC, datetime

    from auditor.identify import Identifier
    from auditor.models import Observation, ObservationKind

    identifier = Identifier.default()
    shapes = (" \t" * 500_000, "<a " * 330_000, "Server: App-webs/ " * 55_000, "1." * 500_000)
    for kind in ObservationKind:
        for value in shapes:
            obs = Observation(kind=kind, value=value, source="x", observed_at=datetime.now(UTC))
            start = time.monotonic()
            identifier.identify((obs,))
            assert time.monotonic() - start < 3.0, (kind, value[:12])
