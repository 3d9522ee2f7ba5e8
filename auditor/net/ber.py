"""The small slice of ASN.1 BER that SNMPv2c GET needs (RFC 3416, X.690), written and parsed here.

Only definite lengths, at most 4 length octets, bounded nesting and bounded sizes: a reply is
untrusted input from the network, so anything outside that slice is refused with ``BerError``
instead of being interpreted. The encoder only ever builds GetRequest PDUs.
"""

from __future__ import annotations

from dataclasses import dataclass

INTEGER, OCTET_STRING, NULL, OID, SEQUENCE = 0x02, 0x04, 0x05, 0x06, 0x30
IP_ADDRESS, COUNTER32, GAUGE32, TIMETICKS, OPAQUE, COUNTER64 = 0x40, 0x41, 0x42, 0x43, 0x44, 0x46
NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW = 0x80, 0x81, 0x82
GET_REQUEST, GET_RESPONSE = 0xA0, 0xA2
SNMP_V2C = 1

MAX_MESSAGE = 65507
"""The largest UDP payload; a message claiming more is malformed by construction."""
MAX_VARBINDS = 64
MAX_OID_ARCS = 128
MAX_INT_OCTETS = 9
"""Counter64 values need 9 octets (a leading zero); nothing in SNMP needs more."""

EXCEPTIONS = {
    NO_SUCH_OBJECT: "noSuchObject",
    NO_SUCH_INSTANCE: "noSuchInstance",
    END_OF_MIB_VIEW: "endOfMibView",
}


class BerError(ValueError):
    """The bytes are not the BER this module accepts; the message says where."""


# --- encoding ------------------------------------------------------------------------------
def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def tlv(tag: int, value: bytes) -> bytes:
    return bytes([tag]) + _length(len(value)) + value


def encode_int(value: int) -> bytes:
    size = max(1, (value.bit_length() + 8) // 8)  # room for the sign bit
    return tlv(INTEGER, value.to_bytes(size, "big", signed=True))


def encode_oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.strip(".").split(".")]
    if len(arcs) < 2 or arcs[0] > 2 or (arcs[0] < 2 and arcs[1] > 39) or min(arcs) < 0:
        raise BerError(f"not an object identifier: {dotted!r}")
    out = bytearray()
    for arc in [arcs[0] * 40 + arcs[1], *arcs[2:]]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(OID, bytes(out))


def get_request(community: bytes, request_id: int, oids: tuple[str, ...]) -> bytes:
    """An SNMPv2c GetRequest for ``oids`` (each bound to NULL)."""
    binds = b"".join(tlv(SEQUENCE, encode_oid(o) + tlv(NULL, b"")) for o in oids)
    pdu = tlv(
        GET_REQUEST, encode_int(request_id) + encode_int(0) + encode_int(0) + tlv(SEQUENCE, binds)
    )
    return tlv(SEQUENCE, encode_int(SNMP_V2C) + tlv(OCTET_STRING, community) + pdu)


# --- decoding ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Value:
    """One varbind value: its BER tag and the decoded Python value (bytes, int, str or None)."""

    tag: int
    value: bytes | int | str | None

    @property
    def exception(self) -> str | None:
        """``noSuchObject`` and friends: the agent has no value for this name."""
        return EXCEPTIONS.get(self.tag)


@dataclass(frozen=True, slots=True)
class Response:
    version: int
    community: bytes
    request_id: int
    error_status: int
    error_index: int
    varbinds: tuple[tuple[str, Value], ...]


class _Reader:
    def __init__(self, data: bytes, start: int = 0, end: int | None = None) -> None:
        self.data = data
        self.pos = start
        self.end = len(data) if end is None else end

    def done(self) -> bool:
        return self.pos >= self.end

    def read(self) -> tuple[int, int, int]:
        """The next TLV as (tag, value start, value end), checked against the enclosing end."""
        if self.end - self.pos < 2:
            raise BerError(f"truncated TLV at offset {self.pos}")
        tag = self.data[self.pos]
        if tag & 0x1F == 0x1F:
            raise BerError(f"multi-octet tag at offset {self.pos}")
        first = self.data[self.pos + 1]
        pos = self.pos + 2
        if first < 0x80:
            length = first
        else:
            count = first & 0x7F
            if count == 0:
                raise BerError(f"indefinite length at offset {self.pos}")
            if count > 4 or pos + count > self.end:
                raise BerError(f"bad length field at offset {self.pos}")
            length = int.from_bytes(self.data[pos : pos + count], "big")
            pos += count
        if length > self.end - pos:
            raise BerError(f"length {length} overruns its container at offset {self.pos}")
        self.pos = pos + length
        return tag, pos, pos + length

    def expect(self, tag: int, what: str) -> tuple[int, int]:
        got, start, end = self.read()
        if got != tag:
            raise BerError(f"expected {what} (tag 0x{tag:02x}), got tag 0x{got:02x}")
        return start, end


def _int(data: bytes, start: int, end: int) -> int:
    if not 0 < end - start <= MAX_INT_OCTETS:
        raise BerError(f"integer of {end - start} octets")
    return int.from_bytes(data[start:end], "big", signed=True)


def _unsigned(data: bytes, start: int, end: int) -> int:
    if not 0 < end - start <= MAX_INT_OCTETS:
        raise BerError(f"integer of {end - start} octets")
    return int.from_bytes(data[start:end], "big", signed=False)


def decode_oid(data: bytes, start: int, end: int) -> str:
    if end <= start:
        raise BerError("empty object identifier")
    arcs: list[int] = []
    value = 0
    octets = 0
    for b in data[start:end]:
        value = (value << 7) | (b & 0x7F)
        octets += 1
        if octets > 5:  # arcs are 32-bit in SNMP (RFC 2578 §3.5)
            raise BerError("object identifier arc too large")
        if not b & 0x80:
            arcs.append(value)
            value, octets = 0, 0
            if len(arcs) > MAX_OID_ARCS:
                raise BerError("object identifier too long")
    if octets:
        raise BerError("truncated object identifier")
    first = arcs[0]
    head = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    return ".".join(str(a) for a in head + arcs[1:])


def _value(data: bytes, tag: int, start: int, end: int) -> Value:
    if tag in (OCTET_STRING, OPAQUE):
        return Value(tag, data[start:end])
    if tag == INTEGER:
        return Value(tag, _int(data, start, end))
    if tag in (COUNTER32, GAUGE32, TIMETICKS, COUNTER64):
        return Value(tag, _unsigned(data, start, end))
    if tag == OID:
        return Value(tag, decode_oid(data, start, end))
    if tag == IP_ADDRESS:
        if end - start != 4:
            raise BerError("IpAddress is not 4 octets")
        return Value(tag, ".".join(str(b) for b in data[start:end]))
    if tag in (NULL, NO_SUCH_OBJECT, NO_SUCH_INSTANCE, END_OF_MIB_VIEW):
        if end != start:
            raise BerError(f"tag 0x{tag:02x} must be empty")
        return Value(tag, None)
    raise BerError(f"unexpected value tag 0x{tag:02x}")


def parse_message(data: bytes, pdu_tag: int = GET_RESPONSE) -> Response:
    """Parse an SNMPv2c message carrying a ``pdu_tag`` PDU (a Response by default)."""
    if len(data) > MAX_MESSAGE:
        raise BerError("message larger than a datagram")
    outer = _Reader(data)
    start, end = outer.expect(SEQUENCE, "message SEQUENCE")
    if not outer.done():
        raise BerError("trailing bytes after the message")
    msg = _Reader(data, start, end)
    version = _int(data, *msg.expect(INTEGER, "version"))
    cstart, cend = msg.expect(OCTET_STRING, "community")
    community = data[cstart:cend]
    pstart, pend = msg.expect(pdu_tag, "PDU")
    if not msg.done():
        raise BerError("trailing bytes after the PDU")
    pdu = _Reader(data, pstart, pend)
    request_id = _int(data, *pdu.expect(INTEGER, "request-id"))
    error_status = _int(data, *pdu.expect(INTEGER, "error-status"))
    error_index = _int(data, *pdu.expect(INTEGER, "error-index"))
    lstart, lend = pdu.expect(SEQUENCE, "variable-bindings")
    if not pdu.done():
        raise BerError("trailing bytes after the variable bindings")
    binds = _Reader(data, lstart, lend)
    varbinds: list[tuple[str, Value]] = []
    while not binds.done():
        if len(varbinds) >= MAX_VARBINDS:
            raise BerError("too many variable bindings")
        bstart, bend = binds.expect(SEQUENCE, "VarBind")
        bind = _Reader(data, bstart, bend)
        name = decode_oid(data, *bind.expect(OID, "name"))
        tag, vstart, vend = bind.read()
        if not bind.done():
            raise BerError("trailing bytes in a VarBind")
        varbinds.append((name, _value(data, tag, vstart, vend)))
    return Response(version, community, request_id, error_status, error_index, tuple(varbinds))
