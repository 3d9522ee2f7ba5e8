"""mDNS service browse (UDP 5353): PTR queries for camera service types, answers kept as text.

Service types from research/protocols.md section 3: Axis ``_axis-video._tcp`` (TXT
``macaddress=``), Arecont ``_arec._tcp``, generic ``_rtsp._tcp``. A query from an ephemeral port
is a "legacy unicast" query (RFC 6762 section 6.7): responders answer to that port, unicast.
"""

from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator
from dataclasses import dataclass

from auditor.context import NetContext
from auditor.discovery.replies import ReplyError, UdpChannel, check_referenced
from auditor.discovery.udp import Datagram, UdpPlan
from auditor.models import Channel, Host, Observation, ObservationKind, normalise_mac

PORT = 5353
GROUP_V4 = "224.0.0.251"
GROUP_V6 = "ff02::fb"
SERVICES = ("_axis-video._tcp.local", "_arec._tcp.local", "_rtsp._tcp.local")
_PTR, _TXT, _SRV, _A, _AAAA = 12, 16, 33, 1, 28
MAX_RECORDS = 64
_MAX_JUMPS = 16


def build_query(services: tuple[str, ...] = SERVICES) -> bytes:
    out = bytearray(struct.pack("!HHHHHH", 0, 0, len(services), 0, 0, 0))
    for name in services:
        for label in name.split("."):
            out += bytes([len(label)]) + label.encode()
        out += b"\0" + struct.pack("!HH", _PTR, 1)
    return bytes(out)


def _name(data: bytes, offset: int) -> tuple[str, int]:
    """A possibly compressed DNS name at ``offset``; returns it and the offset after it."""
    labels: list[str] = []
    end: int | None = None
    jumps = 0
    while True:
        if offset >= len(data):
            raise ReplyError("DNS name runs past the end")
        length = data[offset]
        if length & 0xC0 == 0xC0:
            if offset + 1 >= len(data) or jumps >= _MAX_JUMPS:
                raise ReplyError("bad DNS compression pointer")
            if end is None:
                end = offset + 2
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            jumps += 1
            continue
        if length & 0xC0:
            raise ReplyError("unknown DNS label type")
        if length == 0:
            return ".".join(labels), (end if end is not None else offset + 1)
        label = data[offset + 1 : offset + 1 + length]
        if len(label) != length:
            raise ReplyError("DNS label runs past the end")
        labels.append(label.decode("utf-8", "replace"))
        if sum(len(x) + 1 for x in labels) > 255:
            raise ReplyError("DNS name too long")
        offset += 1 + length


@dataclass(frozen=True, slots=True)
class Record:
    name: str
    rtype: int
    text: str


def _rdata(data: bytes, rtype: int, start: int, rdata: bytes) -> str:
    if rtype == _PTR:
        return _name(data, start)[0]
    if rtype == _SRV and len(rdata) >= 6:
        prio, weight, port = struct.unpack_from("!HHH", rdata)
        return f"{prio} {weight} {port} {_name(data, start + 6)[0]}"
    if rtype == _TXT:
        items, i = [], 0
        while i < len(rdata):
            n = rdata[i]
            items.append(rdata[i + 1 : i + 1 + n].decode("utf-8", "replace"))
            i += 1 + n
        return " ".join(items)
    if rtype == _A and len(rdata) == 4:
        return str(ipaddress.IPv4Address(rdata))
    if rtype == _AAAA and len(rdata) == 16:
        return str(ipaddress.IPv6Address(rdata))
    raise ReplyError(f"unexpected record type {rtype}")


def parse_response(data: bytes) -> list[Record]:
    """The PTR/SRV/TXT/A/AAAA records of an mDNS response; ReplyError if it is not one."""
    if len(data) < 12:
        raise ReplyError("short DNS message")
    _, flags, qd, an, ns, ar = struct.unpack_from("!HHHHHH", data)
    if not flags & 0x8000:
        raise ReplyError("a DNS query, not a response")
    offset = 12
    for _ in range(min(qd, MAX_RECORDS)):
        offset = _name(data, offset)[1] + 4
    records: list[Record] = []
    for _ in range(min(an + ns + ar, MAX_RECORDS)):
        name, offset = _name(data, offset)
        if offset + 10 > len(data):
            raise ReplyError("DNS record header runs past the end")
        rtype, _cls, _ttl, length = struct.unpack_from("!HHIH", data, offset)
        offset += 10
        rdata = data[offset : offset + length]
        if len(rdata) != length:
            raise ReplyError("DNS record data runs past the end")
        if rtype in (_PTR, _SRV, _TXT, _A, _AAAA):
            kind = {_PTR: "PTR", _SRV: "SRV", _TXT: "TXT", _A: "A", _AAAA: "AAAA"}[rtype]
            records.append(
                Record(name, rtype, f"{kind} {name} {_rdata(data, rtype, offset, rdata)}")
            )
        offset += length
    if not records:
        raise ReplyError("DNS response without service records")
    return records


def _mac(records: list[Record]) -> str | None:
    for rec in records:
        if rec.rtype != _TXT:
            continue
        for item in rec.text.split():
            key, _, value = item.partition("=")
            if key.lower() == "macaddress":
                try:
                    return normalise_mac(value)
                except ValueError:
                    return None
    return None


class MdnsChannel(UdpChannel):
    channel = Channel.MDNS

    def plan(self, ctx: NetContext) -> UdpPlan:
        return UdpPlan(PORT, (build_query(),), group_v4=GROUP_V4, group_v6=GROUP_V6)

    def parse(self, reply: Datagram, ctx: NetContext) -> Iterator[Host]:
        records = parse_response(reply.data)
        for rec in records:
            if rec.rtype in (_A, _AAAA):
                value = rec.text.rsplit(" ", 1)[-1]
                if value != str(reply.source):
                    check_referenced(ctx, value, reply.source, "mdns.address")
        text = "\n".join(r.text for r in records)
        obs = Observation(ObservationKind.MDNS_SERVICE, text, self.channel.value, reply.received_at)
        yield Host(
            reply.source, mac=_mac(records), seen_by=frozenset({self.channel}), observations=(obs,)
        )
