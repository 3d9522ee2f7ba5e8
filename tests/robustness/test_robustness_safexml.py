"""One XML rule set for every parser (issue 13): a DTD is refused everywhere, with or without
entities. Before, a DTD without entities was refused by the SOAP parser and accepted by
discovery and identification."""

from __future__ import annotations

import pytest

from auditor.discovery.nmap_xml import NmapXmlError, parse_nmap_xml
from auditor.discovery.replies import HostileReply
from auditor.discovery.sadp import parse_probe_match
from auditor.discovery.wsd import parse_reply
from auditor.errors import ProbeError
from auditor.identify.extract import ExtractError, extract
from auditor.models import ObservationKind, Reason
from auditor.net import safexml
from auditor.net.soap import parse_soap

#: No entity is declared or used: only the document type declaration itself.
BARE_DTD = "<!DOCTYPE r>"
INTERNAL_DTD = "<!DOCTYPE r [<!ELEMENT r ANY>]>"
EXTERNAL_DTD = '<!DOCTYPE r SYSTEM "http://192.0.2.1/x.dtd">'
DTDS = (BARE_DTD, INTERNAL_DTD, EXTERNAL_DTD)

PROBE_MATCH = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
    ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"><s:Body><d:ProbeMatches>'
    "<d:ProbeMatch><a:EndpointReference><a:Address>urn:uuid:1</a:Address></a:EndpointReference>"
    "<d:Types>dn:NetworkVideoTransmitter</d:Types></d:ProbeMatch></d:ProbeMatches></s:Body>"
    "</s:Envelope>"
)
SADP = "<ProbeMatch><Types>inquiry</Types><DeviceDescription>X</DeviceDescription></ProbeMatch>"
SOAP = (
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
    "<r>ok</r></s:Body></s:Envelope>"
)
UPNP = "<root><device><manufacturer>M</manufacturer></device></root>"


def _with(dtd: str, body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>{dtd}{body}'


@pytest.mark.parametrize("dtd", DTDS)
def test_ws_discovery_refuses_any_dtd_as_hostile(dtd: str) -> None:
    parse_reply(PROBE_MATCH.encode())  # the same reply without a DTD is accepted
    with pytest.raises(HostileReply):
        parse_reply(_with(dtd, PROBE_MATCH).encode())


@pytest.mark.parametrize("dtd", DTDS)
def test_sadp_refuses_any_dtd_as_hostile(dtd: str) -> None:
    parse_probe_match(SADP.encode())
    with pytest.raises(HostileReply):
        parse_probe_match(_with(dtd, SADP).encode())


@pytest.mark.parametrize("dtd", DTDS)
def test_soap_refuses_any_dtd_as_malformed(dtd: str) -> None:
    parse_soap(SOAP.encode())
    with pytest.raises(ProbeError) as info:
        parse_soap(_with(dtd, SOAP).encode())
    assert info.value.reason is Reason.MALFORMED


@pytest.mark.parametrize(
    "kind", [ObservationKind.UPNP_DESCRIPTION, ObservationKind.ISAPI_DEVICE_INFO]
)
@pytest.mark.parametrize("dtd", DTDS)
def test_identification_refuses_any_dtd(kind: ObservationKind, dtd: str) -> None:
    assert extract(kind, UPNP)
    with pytest.raises(ExtractError):
        extract(kind, _with(dtd, UPNP))


def test_nmap_import_admits_only_nmaps_own_bare_doctype() -> None:
    ok = '<?xml version="1.0"?><!DOCTYPE nmaprun><nmaprun args="nmap" version="7.93"></nmaprun>'
    assert parse_nmap_xml(ok.encode()).hosts == ()
    for dtd in (BARE_DTD, INTERNAL_DTD, "<!DOCTYPE nmaprun [<!ELEMENT nmaprun ANY>]>"):
        with pytest.raises(NmapXmlError, match="unsafe"):
            parse_nmap_xml(_with(dtd, "<nmaprun/>").encode())


def test_one_size_cap_and_one_error_type() -> None:
    with pytest.raises(safexml.UnsafeXml):
        safexml.parse(b"<a>" + b"x" * 100 + b"</a>", limit=50)
    with pytest.raises(safexml.XmlError) as info:
        safexml.parse(b"<a><b></a>")
    assert not info.value.hostile and info.value.line == 1
