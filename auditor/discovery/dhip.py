"""Dahua DHIP discovery (UDP 37810): ``DHDiscover.search``, the JSON reply kept as received.

Wire format: research/protocols.md section 3: a 32-byte little-endian header (0x20, "DHIP",
session, id, length, 0, length, 0) and a JSON body.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

from auditor.context import NetContext
from auditor.discovery.replies import (
    MAX_REPLY_BYTES,
    ReplyError,
    UdpChannel,
    check_referenced,
    decode,
)
from auditor.discovery.udp import Datagram, UdpPlan
from auditor.models import Channel, Host, Observation, ObservationKind, normalise_mac

PORT = 37810
GROUP_V4 = "239.255.255.251"
_HEADER = struct.Struct("<I4sIIIIII")
_SEARCH = b'{"method":"DHDiscover.search","params":{"mac":"","uni":0}}\n'


def build_search() -> bytes:
    return _HEADER.pack(0x20, b"DHIP", 0, 0, len(_SEARCH), 0, len(_SEARCH), 0) + _SEARCH


def reply_body(data: bytes) -> bytes:
    """The JSON body of a DHIP datagram; the header's length is trusted only up to the data."""
    if len(data) >= _HEADER.size and data[4:8] == b"DHIP":
        declared = _HEADER.unpack_from(data)[4]
        return data[_HEADER.size : _HEADER.size + min(declared, MAX_REPLY_BYTES)]
    if data.lstrip()[:1] == b"{":
        return data[:MAX_REPLY_BYTES]
    raise ReplyError("not a DHIP datagram")


def parse_reply(data: bytes) -> tuple[str, dict[str, Any]]:
    """The reply text and its parsed JSON object; ReplyError unless it carries deviceInfo."""
    text = decode(reply_body(data)).strip()
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ReplyError(f"DHIP body is not JSON: {str(exc)[:80]}") from None
    if not isinstance(doc, dict) or doc.get("method") == "DHDiscover.search":
        raise ReplyError("not a DHIP discovery reply")
    params = doc.get("params")
    info = params.get("deviceInfo") if isinstance(params, dict) else None
    if not isinstance(info, dict):
        raise ReplyError("DHIP reply without params.deviceInfo")
    return text, doc


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def _mac(doc: dict[str, Any]) -> str | None:
    info = doc["params"]["deviceInfo"]
    for candidate in (doc.get("mac"), info.get("Mac"), info.get("MAC")):
        try:
            return normalise_mac(_str(candidate)) if _str(candidate) else None
        except ValueError:
            continue
    return None


class DhipChannel(UdpChannel):
    channel = Channel.DHIP

    def plan(self, ctx: NetContext) -> UdpPlan:
        return UdpPlan(PORT, (build_search(),), group_v4=GROUP_V4, listen_group=True)

    def parse(self, reply: Datagram, ctx: NetContext) -> Iterator[Host]:
        text, doc = parse_reply(reply.data)
        info = doc["params"]["deviceInfo"]
        for key, via in (("IPv4Address", "dhip.ipv4address"), ("IPv6Address", "dhip.ipv6address")):
            block = info.get(key)
            value = _str(block.get("IPAddress")) if isinstance(block, dict) else ""
            # IPv6 entries carry a prefix length ("fe80::1/64").
            value = value.split("/", 1)[0]
            if value and value != str(reply.source):
                check_referenced(ctx, value, reply.source, via)
        obs = Observation(ObservationKind.DHIP_REPLY, text, self.channel.value, reply.received_at)
        yield Host(
            reply.source, mac=_mac(doc), seen_by=frozenset({self.channel}), observations=(obs,)
        )
