"""Hostile payloads, built in code so their size and shape are exact and reviewable.

Each is a known attack on scanners and parsers: XML external entities (CWE-611), entity
expansion ("billion laughs", CWE-776), HTML/JS injection into reports (CWE-79), spreadsheet
formulas (CWE-1236), terminal escapes (CWE-150). None would do harm if expanded here: the
external entity names a file on the auditor's own machine, which a safe parser never opens.
"""

from __future__ import annotations

import struct

#: A file the auditor machine certainly has: if its content ever shows up in a report, the
#: parser resolved an external entity.
XXE_TARGET = "/etc/hostname"

XXE_DOCTYPE = f'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{XXE_TARGET}">]>'

#: Ten levels of ten: 10^9 "lol"s when expanded (about 3 GB), 1 KB as sent.
BILLION_LAUGHS_DOCTYPE = (
    '<!DOCTYPE r [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10))
    + "]>"
)

#: Markup that runs script if a report inserts it unescaped.
HTML_PAYLOAD = '<script>document.title="PWNED"</script><img src=x onerror="alert(1)">'
#: A formula a spreadsheet would evaluate if a CSV cell started with it.
CSV_PAYLOAD = '=HYPERLINK("http://192.0.2.1/x","click")'
#: ANSI clear-screen and a colour change, a bell, and a bidi override.
TERMINAL_PAYLOAD = "\x1b[2J\x1b[31mRED\x07\u202egnp.exe"


def soap_envelope(body: str, doctype: str = "") -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        + doctype
        + '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<env:Body>{body}</env:Body></env:Envelope>"
    )


def onvif_device_information(model: str, doctype: str = "") -> str:
    return soap_envelope(
        "<tds:GetDeviceInformationResponse>"
        f"<tds:Manufacturer>{model}</tds:Manufacturer><tds:Model>{model}</tds:Model>"
        "<tds:FirmwareVersion>1</tds:FirmwareVersion><tds:SerialNumber>LAB1</tds:SerialNumber>"
        "<tds:HardwareId>1</tds:HardwareId></tds:GetDeviceInformationResponse>",
        doctype,
    )


def probe_match(
    endpoint_uuid: str, xaddrs: str, scopes: str, doctype: str = "", extra: str = ""
) -> str:
    """A WS-Discovery ProbeMatches envelope (research protocols.md §1)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        + doctype
        + '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl">'
        "<env:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference>"
        f"<wsa:Address>urn:uuid:{endpoint_uuid}</wsa:Address></wsa:EndpointReference>"
        f"<d:Types>dn:NetworkVideoTransmitter</d:Types><d:Scopes>{scopes}{extra}</d:Scopes>"
        f"<d:XAddrs>{xaddrs}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
        "</d:ProbeMatch></d:ProbeMatches></env:Body></env:Envelope>"
    )


def sadp_probe_match(fields: dict[str, str], doctype: str = "") -> str:
    inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items())
    head = f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
    return f"{head}<ProbeMatch><Types>inquiry</Types>{inner}</ProbeMatch>"


def upnp_description(text: str, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0"?>{doctype}<root xmlns="urn:schemas-upnp-org:device-1-0">'
        "<specVersion><major>1</major><minor>0</minor></specVersion><device>"
        f"<deviceType>urn:schemas-upnp-org:device:Basic:1</deviceType><friendlyName>{text}"
        f"</friendlyName><manufacturer>{text}</manufacturer><modelName>{text}</modelName>"
        "<UDN>uuid:00000000-0000-4000-8000-00000000dead</UDN></device></root>"
    )


def dhip_huge_length(body: bytes, declared: int = 0xFFFFFFF0) -> bytes:
    """A DHIP header (research protocols.md §3) whose length fields claim ~4 GB."""
    return struct.pack("<I4sIIIIII", 0x20, b"DHIP", 0, 0, declared, 0, declared, 0) + body


def http_response(body: bytes, content_type: str, status: str = "200 OK", extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\nServer: hostile-lab\r\n{extra}Content-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


#: Bytes that are neither text nor any protocol: every value 0..255, 16 times.
BINARY = bytes(range(256)) * 16

#: Invalid UTF-8 (a lone continuation byte, an overlong NUL, a truncated sequence), NUL and
#: terminal escapes, in the Server header and the title.
BAD_TEXT_TITLE = b"Cam\x80era \xc0\x80 \xe2\x82 \x00" + TERMINAL_PAYLOAD.encode("utf-8")


def render_payload(name: str, device: object, request: bytes) -> bytes:
    """The bytes a hostile server sends for payload ``name`` (a closed set, see below)."""
    cseq = b"0"
    for line in request.split(b"\r\n"):
        if line.lower().startswith(b"cseq:"):
            cseq = line.split(b":", 1)[1].strip()[:16]
    soap = "application/soap+xml; charset=utf-8"
    match name:
        case "binary":
            return BINARY
        case "xxe_soap":
            return http_response(onvif_device_information("&xxe;", XXE_DOCTYPE).encode(), soap)
        case "laughs_soap":
            return http_response(
                onvif_device_information("&lol9;", BILLION_LAUGHS_DOCTYPE).encode(), soap
            )
        case "xxe_upnp":
            return http_response(upnp_description("&xxe;", XXE_DOCTYPE).encode(), "text/xml")
        case "laughs_upnp":
            return http_response(
                upnp_description("&lol9;", BILLION_LAUGHS_DOCTYPE).encode(), "text/xml"
            )
        case "bad_text_page":
            body = b"<html><head><title>" + BAD_TEXT_TITLE + b"</title></head></html>"
            head = (
                b"HTTP/1.1 200 OK\r\nServer: "
                + BAD_TEXT_TITLE.replace(b"\x00", b"")
                + b"\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: "
                + str(len(body)).encode()
                + b"\r\nConnection: close\r\n\r\n"
            )
            return head + body
        case "rtsp_malformed":
            return b"RTSP/1.0 2x0 OK\r\nCSeq " + cseq + b"\r\nPublic OPTIONS\r\n\r\n"
        case "rtsp_binary":
            return (
                b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nServer: \x00\xff\xfe\r\n\r\n" + BINARY
            )
        case "length_superscript":
            # "²".isdigit() is True and int("²") fails: a parser that trusts isdigit() crashes.
            return http_response(b"", "text/xml").replace(
                b"Content-Length: 0",
                b"Content-Length: \xb2",  # latin-1 "²", as headers are read
            )
        case "length_5000_digits":
            # Python refuses int() of more than 4,300 decimal digits (ValueError).
            return http_response(b"", "text/xml").replace(
                b"Content-Length: 0", b"Content-Length: " + b"9" * 5000
            )
        case "chunk_size_line":
            # A chunk-size that is no hex number: 5,000 decimal digits and a superscript.
            return (
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                + b"9" * 5000
                + b"\xb2"
                + b"\r\nabc\r\n0\r\n\r\n"
            )
        case "rtsp_length_superscript":
            return (
                b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nContent-Type: application/sdp\r\n"
                b"Content-Length: \xb2\r\n\r\nv=0\r\n"
            )
        case "rtsp_huge_length":
            return (
                b"RTSP/1.0 200 OK\r\nCSeq: " + cseq + b"\r\nContent-Type: application/sdp\r\n"
                b"Content-Length: 4000000000\r\n\r\nv=0\r\n"
            )
    raise KeyError(f"unknown hostile payload {name!r}")
