"""Hikvision SADP (UDP 37020): the ``inquiry`` Probe only, ProbeMatch kept as raw XML.

Wire format: research/protocols.md section 3. SADP has other message types (activate, reset,
update) that change a device; this module can only build ``inquiry``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from auditor.context import NetContext
from auditor.discovery.replies import (
    ReplyError,
    UdpChannel,
    check_referenced,
    child_texts,
    decode,
    local,
    parse_xml,
)
from auditor.discovery.udp import Datagram, UdpPlan
from auditor.models import Channel, Host, Observation, ObservationKind, normalise_mac

PORT = 37020
GROUP_V4 = "239.255.255.250"


def build_inquiry(probe_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f"<Probe><Uuid>{probe_id.upper()}</Uuid><Types>inquiry</Types></Probe>"
    ).encode()


def parse_probe_match(data: bytes) -> dict[str, str]:
    """The fields of a SADP ProbeMatch by element name; ReplyError for anything else."""
    root = parse_xml(data)
    if local(root.tag) != "ProbeMatch":
        # Includes our own Probe echoed back by the group listener.
        raise ReplyError(f"not a SADP ProbeMatch: <{local(root.tag)[:40]}>")
    fields = child_texts(root)
    if fields.get("Types", "inquiry").lower() != "inquiry":
        raise ReplyError("SADP reply to something other than inquiry")
    return fields


def _mac(text: str | None) -> str | None:
    try:
        return normalise_mac(text) if text else None
    except ValueError:
        return None


class SadpChannel(UdpChannel):
    channel = Channel.SADP

    def plan(self, ctx: NetContext) -> UdpPlan:
        # Devices answer either to the sender or to the group, so the group port is read too.
        return UdpPlan(
            PORT, (build_inquiry(str(uuid.uuid4())),), group_v4=GROUP_V4, listen_group=True
        )

    def parse(self, reply: Datagram, ctx: NetContext) -> Iterator[Host]:
        fields = parse_probe_match(reply.data)
        for key, via in (("IPv4Address", "sadp.ipv4address"), ("IPv6Address", "sadp.ipv6address")):
            value = fields.get(key, "")
            if value and value != str(reply.source):
                check_referenced(ctx, value, reply.source, via)
        obs = Observation(
            ObservationKind.SADP_PROBE_MATCH,
            decode(reply.data),
            self.channel.value,
            reply.received_at,
        )
        yield Host(
            address=reply.source,
            mac=_mac(fields.get("MAC")),
            seen_by=frozenset({self.channel}),
            observations=(obs,),
        )
