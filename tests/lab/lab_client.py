"""Hand-written clients the lab tests use: SOAP envelopes, WS-UsernameToken, raw UDP/TCP."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import struct
import uuid
from datetime import UTC, datetime, timedelta


def soap(op: str, header: str = "") -> bytes:
    return (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl">'
        f"<s:Header>{header}</s:Header><s:Body><tds:{op}/></s:Body></s:Envelope>"
    ).encode()


def username_token(user: str, password: str, created: datetime | None = None) -> str:
    """A WS-UsernameToken computed by hand: Base64(SHA1(nonce + Created + password))."""
    nonce = os.urandom(16)
    when = (created or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = base64.b64encode(hashlib.sha1(nonce + when.encode() + password.encode()).digest())
    return (
        '<wsse:Security xmlns:wsse="http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-wssecurity-secext-1.0.xsd" xmlns:wsu="http://docs.oasis-open.org/wss/'
        '2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"><wsse:UsernameToken>'
        f"<wsse:Username>{user}</wsse:Username>"
        '<wsse:Password Type="http://docs.oasis-open.org/wss/2004/01/'
        'oasis-200401-wss-username-token-profile-1.0#PasswordDigest">'
        f"{digest.decode()}</wsse:Password>"
        f"<wsse:Nonce>{base64.b64encode(nonce).decode()}</wsse:Nonce>"
        f"<wsu:Created>{when}</wsu:Created></wsse:UsernameToken></wsse:Security>"
    )


def skewed(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def probe(types: str = "dn:NetworkVideoTransmitter", message_id: str | None = None) -> bytes:
    """A WS-Discovery 2005/04 Probe as ONVIF clients send it (research protocols.md §1)."""
    mid = message_id or f"uuid:{uuid.uuid4()}"
    types_el = f"<d:Types>{types}</d:Types>" if types else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><s:Envelope '
        'xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" '
        'xmlns:tds="http://www.onvif.org/ver10/device/wsdl"><s:Header>'
        '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe'
        f"</a:Action><a:MessageID>{mid}</a:MessageID>"
        '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
        f"</s:Header><s:Body><d:Probe>{types_el}</d:Probe></s:Body></s:Envelope>"
    ).encode()


SADP_INQUIRY = (
    b'<?xml version="1.0" encoding="utf-8"?><Probe><Uuid>8282F1DB-2FA6-4709-B261-3C6B6A48CA17'
    b"</Uuid><Types>inquiry</Types></Probe>"
)


def dhip_search() -> bytes:
    body = b'{"method":"DHDiscover.search","params":{"mac":"","uni":1}}\n'
    return struct.pack("<I4sIIIIII", 0x20, b"DHIP", 0, 0, len(body), 0, len(body), 0) + body


XM_SEARCH = struct.pack("<BBHIIHHI", 0xFF, 0, 0, 0, 0, 0, 1530, 0)

M_SEARCH = (
    b'M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
    b"MX: 2\r\nST: upnp:rootdevice\r\n\r\n"
)


def udp_ask(address: str, port: int, payload: bytes, timeout: float = 2.0) -> bytes | None:
    """Send one datagram, return the first reply or None after ``timeout``."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        sock.sendto(payload, (address, port))
        try:
            return sock.recvfrom(65535)[0]
        except (TimeoutError, ConnectionRefusedError):
            return None


def tcp_exchange(address: str, port: int, payload: bytes = b"", timeout: float = 3.0) -> bytes:
    """Connect, send ``payload``, read until the peer closes or goes quiet after answering."""
    data = b""
    with socket.create_connection((address, port), timeout=timeout) as sock:
        if payload:
            sock.sendall(payload)
        try:
            while chunk := sock.recv(65536):
                data += chunk
                # The first bytes may be slow on a loaded machine (they get the whole timeout);
                # after them, half a second of quiet ends a reply that has no length of its own.
                sock.settimeout(0.5)
        except TimeoutError:
            pass
    return data


def recv_exactly(sock: socket.socket, size: int) -> bytes:
    """Read exactly ``size`` bytes (the socket's own timeout bounds each read)."""
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise AssertionError(f"peer closed after {len(data)} of {size} bytes: {data!r}")
        data += chunk
    return data


def recv_rtsp_reply(sock: socket.socket) -> bytes:
    """One whole RTSP reply: the head up to the blank line, then Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise AssertionError(f"peer closed mid-head: {data!r}")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = re.search(rb"(?im)^content-length:\s*(\d+)\s*$", head)
    need = int(length.group(1)) if length else 0
    return head + b"\r\n\r\n" + body + recv_exactly(sock, max(0, need - len(body)))


def recv_dvrip_reply(sock: socket.socket) -> bytes:
    """One whole DVRIP message: the 20-byte header, then the body length it gives."""
    head = recv_exactly(sock, 20)
    return head + recv_exactly(sock, struct.unpack_from("<I", head, 16)[0])
