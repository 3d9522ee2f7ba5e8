"""Xiongmai NETSurveillance/XMEye discovery (UDP 34569, broadcast): the NetWork.NetCommon reply.

Wire format: research/protocols.md section 3: a 20-byte header (0xff, version, reserved,
session, sequence, flags, message id, length); request id 1530, reply id 1531, JSON body.
"""

from __future__ import annotations

import ipaddress
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

PORT = 34569
_HEADER = struct.Struct("<BBHIIHHI")
SEARCH_ID = 1530
REPLY_ID = 1531


def build_search() -> bytes:
    return _HEADER.pack(0xFF, 0, 0, 0, 0, 0, SEARCH_ID, 0)


def host_ip(text: str) -> str | None:
    """HostIP is the address as a little-endian hex integer, e.g. 0x6401A8C0 = 192.168.1.100."""
    try:
        value = int(text, 16)
        return str(ipaddress.IPv4Address(struct.pack("<I", value)))
    except (ValueError, struct.error):
        return None


def parse_reply(data: bytes) -> tuple[str, dict[str, Any]]:
    if len(data) < _HEADER.size or data[0] != 0xFF:
        raise ReplyError("not a Xiongmai datagram")
    fields = _HEADER.unpack_from(data)
    if fields[6] != REPLY_ID:
        raise ReplyError(f"Xiongmai message {fields[6]} is not a search reply")
    body = data[_HEADER.size : _HEADER.size + min(fields[7], MAX_REPLY_BYTES)]
    text = decode(body).strip()
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ReplyError(f"Xiongmai body is not JSON: {str(exc)[:80]}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("NetWork.NetCommon"), dict):
        raise ReplyError("Xiongmai reply without NetWork.NetCommon")
    return text, doc


class XmeyeChannel(UdpChannel):
    channel = Channel.XMEYE

    def plan(self, ctx: NetContext) -> UdpPlan:
        return UdpPlan(PORT, (build_search(),), broadcast=True)

    def parse(self, reply: Datagram, ctx: NetContext) -> Iterator[Host]:
        text, doc = parse_reply(reply.data)
        common = doc["NetWork.NetCommon"]
        claimed = common.get("HostIP")
        address = host_ip(claimed) if isinstance(claimed, str) else None
        if address and address != str(reply.source):
            check_referenced(ctx, address, reply.source, "xmeye.hostip")
        mac_text = common.get("MAC")
        try:
            mac = normalise_mac(mac_text) if isinstance(mac_text, str) and mac_text else None
        except ValueError:
            mac = None
        obs = Observation(ObservationKind.XMEYE_REPLY, text, self.channel.value, reply.received_at)
        yield Host(reply.source, mac=mac, seen_by=frozenset({self.channel}), observations=(obs,))
