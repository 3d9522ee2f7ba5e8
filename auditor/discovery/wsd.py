"""ONVIF WS-Discovery (UDP 3702): two typed Probes, ProbeMatches parsed with their Scopes kept.

Wire format: research/protocols.md section 1 (WS-Discovery 2005/04 as ONVIF uses it; the
WS-DD 1.1 namespace is accepted too, since matching is by local name).
"""

from __future__ import annotations

import logging
import re
import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import unquote

from auditor.context import NetContext
from auditor.discovery.replies import (
    MAX_REPLY_BYTES,
    ReplyError,
    UdpChannel,
    check_referenced,
    child_texts,
    decode,
    find_all,
    local,
    parse_xml,
    refused,
    url_host,
)
from auditor.discovery.udp import Datagram, UdpPlan
from auditor.models import Channel, Host, IPAddress, Observation, ObservationKind, normalise_mac

logger = logging.getLogger(__name__)

PORT = 3702
GROUP_V4 = "239.255.255.250"
GROUP_V6 = "ff02::c"
#: Types are AND-matched in a Probe, so each type gets its own Probe (protocols.md section 1).
PROBE_TYPES = (
    ("dn", "http://www.onvif.org/ver10/network/wsdl", "NetworkVideoTransmitter"),
    ("tds", "http://www.onvif.org/ver10/device/wsdl", "Device"),
)
#: A real device is one endpoint (an NVR a handful); beyond this a source is flooding.
MAX_ENDPOINTS_PER_SOURCE = 8
MAX_MATCHES_PER_REPLY = 16
_SCOPE_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_MAC_SCOPE = re.compile(r"^onvif://www\.onvif\.org/(?:mac|macaddress)/(.+)$", re.IGNORECASE)


def build_probe(prefix: str, namespace: str, type_name: str, message_id: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"'
        ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
        ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"'
        f' xmlns:{prefix}="{namespace}">'
        "<s:Header>"
        '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>'
        f"<a:MessageID>uuid:{message_id}</a:MessageID>"
        "<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
        "</a:Address></a:ReplyTo>"
        '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>'
        "</s:Header>"
        f"<s:Body><d:Probe><d:Types>{prefix}:{type_name}</d:Types></d:Probe></s:Body>"
        "</s:Envelope>"
    ).encode()


@dataclass(frozen=True, slots=True)
class ProbeMatch:
    endpoint: str
    types: tuple[str, ...]
    scopes: tuple[str, ...]
    """Percent-decoded scope URIs."""
    xaddrs: tuple[str, ...]
    metadata_version: str | None = None

    @property
    def mac(self) -> str | None:
        for scope in self.scopes:
            m = _MAC_SCOPE.match(scope)
            if m:
                try:
                    return normalise_mac(m.group(1).strip())
                except ValueError:
                    return None
        return None


def decode_scope(raw: str) -> str:
    # Decoded control characters would break the one-scope-per-line observation format.
    return _SCOPE_CONTROL.sub(" ", unquote(raw, errors="replace"))


@dataclass(frozen=True, slots=True)
class WsdReply:
    matches: tuple[ProbeMatch, ...]
    fault: bool


def parse_reply(data: bytes) -> WsdReply:
    """Parse one datagram: ProbeMatches (any namespace prefix) or a SOAP Fault.

    Raises ReplyError for anything else, including our own Probe echoed back by multicast loop.
    """
    root = parse_xml(data, MAX_REPLY_BYTES)
    if local(root.tag) != "Envelope":
        raise ReplyError("not a SOAP envelope")
    if any(True for _ in find_all(root, "Fault")):
        return WsdReply((), fault=True)
    found = list(find_all(root, "ProbeMatch"))
    if not found:
        raise ReplyError("no ProbeMatch in reply")
    matches = []
    for element in found[:MAX_MATCHES_PER_REPLY]:
        fields = child_texts(element)
        endpoint = ""
        for addr in find_all(element, "Address"):
            endpoint = (addr.text or "").strip()
            break
        if not endpoint or len(endpoint) > 256:
            continue
        matches.append(
            ProbeMatch(
                endpoint=endpoint.lower(),
                types=tuple(fields.get("Types", "").split()[:32]),
                scopes=tuple(decode_scope(s) for s in fields.get("Scopes", "").split()[:128]),
                xaddrs=tuple(fields.get("XAddrs", "").split()[:16]),
                metadata_version=fields.get("MetadataVersion") or None,
            )
        )
    if not matches:
        raise ReplyError("ProbeMatch without an endpoint reference")
    return WsdReply(tuple(matches), fault=False)


def _host(reply: Datagram, match: ProbeMatch | None, raw: str) -> Host:
    source = Channel.WS_DISCOVERY.value
    obs = [Observation(ObservationKind.ONVIF_PROBE_MATCH, raw, source, reply.received_at)]
    if match is not None and match.scopes:
        obs.append(
            Observation(
                ObservationKind.ONVIF_SCOPES, "\n".join(match.scopes), source, reply.received_at
            )
        )
    return Host(
        address=reply.source,
        mac=match.mac if match else None,
        seen_by=frozenset({Channel.WS_DISCOVERY}),
        endpoint_ids=frozenset({match.endpoint}) if match else frozenset(),
        observations=tuple(obs),
    )


class WsDiscoveryChannel(UdpChannel):
    channel = Channel.WS_DISCOVERY

    def plan(self, ctx: NetContext) -> UdpPlan:
        payloads = tuple(build_probe(p, ns, t, str(uuid.uuid4())) for p, ns, t in PROBE_TYPES)
        return UdpPlan(PORT, payloads, group_v4=GROUP_V4, group_v6=GROUP_V6)

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        # De-duplicated across the whole round: each device answers both probes, on each
        # interface, and multicast and directed probes overlap.
        seen: set[tuple[IPAddress, str]] = set()
        per_source: defaultdict[IPAddress, int] = defaultdict(int)
        for reply in self.round(ctx):
            try:
                parsed = parse_reply(reply.data)
            except ReplyError as exc:
                refused(ctx, "ws-discovery", reply.source, exc)
                continue
            raw = decode(reply.data)
            if parsed.fault:
                if (reply.source, "") not in seen:
                    seen.add((reply.source, ""))
                    yield _host(reply, None, raw)
                continue
            for match in parsed.matches:
                key = (reply.source, match.endpoint)
                if key in seen or per_source[reply.source] >= MAX_ENDPOINTS_PER_SOURCE:
                    continue
                seen.add(key)
                per_source[reply.source] += 1
                for xaddr in match.xaddrs:
                    host = url_host(xaddr)
                    check_referenced(ctx, host or xaddr, reply.source, "onvif.xaddrs")
                yield _host(reply, match, raw)
