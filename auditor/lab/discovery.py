"""UDP discovery responders: WS-Discovery, Hikvision SADP, Dahua DHIP, Xiongmai 34569, SSDP.

Each answers unicast to the probe's source address and port, which is what a directed probe
expects and what multicast probes get from real devices too (research protocols.md §1, §3).
Wire formats: research/protocols.md; the values come from the device's profile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
import struct
import uuid
from collections.abc import Mapping
from typing import Any, cast
from xml.sax.saxutils import escape

from auditor.lab.device import Device
from auditor.net import safexml

logger = logging.getLogger(__name__)

Addr = tuple[Any, ...]

WSD_NS = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
WSA_NS = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
KNOWN_TYPE_NS = {
    "dn": "http://www.onvif.org/ver10/network/wsdl",
    "tds": "http://www.onvif.org/ver10/device/wsdl",
    "wsdp": "http://schemas.xmlsoap.org/ws/2006/02/devprof",
    "wprt": "http://schemas.microsoft.com/windows/2006/08/wdp/print",
}
MAX_DATAGRAM = 65507


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


class Responder(asyncio.DatagramProtocol):
    """Base: parse a datagram, maybe answer it. Subclasses implement ``answer``."""

    def __init__(self, device: Device, cfg: Mapping[str, Any], max_delay: float = 0.0) -> None:
        self.device = device
        self.cfg = cfg
        self.max_delay = max_delay
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # asyncio's selector transport does not subclass DatagramTransport; it has its API.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Addr) -> None:
        try:
            replies = self.answer(data)
        except Exception as exc:  # a malformed probe must never stop the device
            logger.debug("%s: ignoring bad datagram from %s: %s", self.device.address, addr, exc)
            return
        for reply in replies:
            self.send(reply, addr)

    def send(self, reply: bytes, addr: Addr) -> None:
        if self.transport is None:
            return
        if self.max_delay > 0:
            loop = asyncio.get_running_loop()
            loop.call_later(random.uniform(0, self.max_delay), self._sendto, reply, addr)
        else:
            self._sendto(reply, addr)

    def _sendto(self, reply: bytes, addr: Addr) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(reply, addr)

    def answer(self, data: bytes) -> list[bytes]:
        raise NotImplementedError

    def error_received(self, exc: Exception) -> None:
        logger.debug("%s: UDP error %s", self.device.address, exc)


class WsDiscovery(Responder):
    """ONVIF WS-Discovery 2005/04 target service: ProbeMatches for matching Probes."""

    def types(self) -> list[tuple[str, str]]:
        spaces = {**KNOWN_TYPE_NS, **dict(self.cfg.get("type_namespaces", {}))}
        out = []
        for qname in str(self.cfg.get("types", "dn:NetworkVideoTransmitter tds:Device")).split():
            prefix, _, local = qname.rpartition(":")
            out.append((spaces.get(prefix, ""), local))
        return out

    def answer(self, data: bytes) -> list[bytes]:
        root, namespaces = safexml.parse_with_prefixes(data)
        probe = next((e for e in root.iter() if _local(e.tag) == "Probe"), None)
        if probe is None or probe.tag != f"{{{WSD_NS}}}Probe":
            return []
        message_id = next((e.text or "" for e in root.iter() if _local(e.tag) == "MessageID"), "")
        wanted_types = next((e.text or "" for e in probe if _local(e.tag) == "Types"), "")
        wanted_scopes = next((e.text or "" for e in probe if _local(e.tag) == "Scopes"), "")
        mine = self.types()
        for qname in wanted_types.split():
            prefix, _, local = qname.rpartition(":")
            uri = namespaces.get(prefix)
            if not any(local == ml and uri in (None, mu) for mu, ml in mine):
                return []
        scopes = self.scopes()
        for want in wanted_scopes.split():
            if not any(s == want or s.startswith(want.rstrip("/") + "/") for s in scopes):
                return []
        return [self.probe_match(message_id.strip(), scopes)]

    def scopes(self) -> list[str]:
        return [self.device.render(str(s)) for s in self.cfg.get("scopes", ())]

    def xaddrs(self) -> str:
        default = ["http://${http_authority}/onvif/device_service"]
        return " ".join(self.device.render(str(x)) for x in self.cfg.get("xaddrs", default))

    def probe_match(self, relates_to: str, scopes: list[str]) -> bytes:
        types = str(self.cfg.get("types", "dn:NetworkVideoTransmitter tds:Device"))
        ns_decl = " ".join(f'xmlns:{p}="{u}"' for p, u in KNOWN_TYPE_NS.items())
        xml = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<env:Envelope xmlns:env="http://www.w3.org/2003/05/soap-envelope" '
            f'xmlns:wsa="{WSA_NS}" xmlns:d="{WSD_NS}" {ns_decl}><env:Header>'
            f"<wsa:MessageID>urn:uuid:{uuid.uuid4()}</wsa:MessageID>"
            f"<wsa:RelatesTo>{escape(relates_to)}</wsa:RelatesTo>"
            '<wsa:To env:mustUnderstand="true">'
            "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</wsa:To>"
            '<wsa:Action env:mustUnderstand="true">'
            "http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</wsa:Action>"
            '<d:AppSequence env:mustUnderstand="true" MessageNumber="1" InstanceId="1"/>'
            "</env:Header><env:Body><d:ProbeMatches><d:ProbeMatch><wsa:EndpointReference>"
            f"<wsa:Address>urn:uuid:{self.device.uuid}</wsa:Address></wsa:EndpointReference>"
            f"<d:Types>{escape(types)}</d:Types><d:Scopes>{escape(' '.join(scopes))}</d:Scopes>"
            f"<d:XAddrs>{escape(self.xaddrs())}</d:XAddrs>"
            "<d:MetadataVersion>1</d:MetadataVersion></d:ProbeMatch></d:ProbeMatches>"
            "</env:Body></env:Envelope>"
        )
        return xml.encode("utf-8")


class Sadp(Responder):
    """Hikvision SADP: answers only ``inquiry`` (the one read-only message type)."""

    def answer(self, data: bytes) -> list[bytes]:
        root = safexml.parse(data)
        if root.tag != "Probe":
            return []
        probe_uuid = (root.findtext("Uuid") or "").strip()
        if (root.findtext("Types") or "").strip().lower() != "inquiry":
            return []
        parts = [f"<Uuid>{escape(probe_uuid)}</Uuid>", "<Types>inquiry</Types>"]
        for key, value in self.cfg.get("fields", {}).items():
            parts.append(f"<{key}>{escape(self.device.render(str(value)))}</{key}>")
        xml = '<?xml version="1.0" encoding="UTF-8"?><ProbeMatch>' + "".join(parts)
        xml += "</ProbeMatch>"
        return [xml.encode("utf-8")]


DHIP_MAGIC = b"DHIP"


def dhip_packet(payload: bytes) -> bytes:
    """32-byte DHIP header (little-endian: 0x20, "DHIP", 0, 0, len, 0, len, 0) + payload."""
    n = len(payload)
    return struct.pack("<I4sIIIIII", 0x20, DHIP_MAGIC, 0, 0, n, 0, n, 0) + payload


def _render_tree(device: Device, value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _render_tree(device, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_render_tree(device, v) for v in value]
    if isinstance(value, str):
        return device.render(value)
    return value


class Dhip(Responder):
    """Dahua DHIP discovery: ``DHDiscover.search`` -> ``client.notifyDevInfo``."""

    def answer(self, data: bytes) -> list[bytes]:
        if len(data) < 32 or data[4:8] != DHIP_MAGIC:
            return []
        body = json.loads(data[32:].decode("utf-8").strip("\x00\n "))
        if body.get("method") != "DHDiscover.search":
            return []
        info = _render_tree(self.device, self.cfg.get("device_info", {}))
        reply = {
            "mac": self.device.mac,
            "method": "client.notifyDevInfo",
            "params": {"deviceInfo": info},
        }
        return [dhip_packet(json.dumps(reply).encode() + b"\n")]


XM_HEADER = struct.Struct("<BBHIIHHI")
XM_SEARCH, XM_SEARCH_REPLY = 1530, 1531


def xm_host_ip(address: str) -> str:
    """Xiongmai encodes IPv4 as little-endian hex: 192.168.76.75 -> '0x4B4CA8C0'."""
    octets = [int(o) for o in address.split(".")]
    return "0x" + "".join(f"{o:02X}" for o in reversed(octets))


class XiongmaiSearch(Responder):
    """Xiongmai/XMEye UDP 34569 search: header msg 1530 -> 1531 + NetWork.NetCommon JSON."""

    def answer(self, data: bytes) -> list[bytes]:
        if len(data) < XM_HEADER.size:
            return []
        head = XM_HEADER.unpack_from(data)
        if head[0] != 0xFF or head[6] != XM_SEARCH:
            return []
        common = _render_tree(self.device, self.cfg.get("net_common", {}))
        common.setdefault("HostIP", xm_host_ip(self.device.address))
        common.setdefault("MAC", self.device.mac)
        body = (
            json.dumps(
                {"NetWork.NetCommon": common, "Ret": 100, "SessionID": "0x00000000"}
            ).encode()
            + b"\n"
        )
        return [XM_HEADER.pack(0xFF, 1, 0, 0, 0, 0, XM_SEARCH_REPLY, len(body)) + body]


class Ssdp(Responder):
    """UPnP SSDP: M-SEARCH -> a unicast 200 OK with SERVER, LOCATION, ST, USN."""

    def answer(self, data: bytes) -> list[bytes]:
        text = data.decode("iso-8859-1")
        if not text.startswith("M-SEARCH * HTTP/1.1"):
            return []
        headers = {}
        for line in text.split("\r\n")[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().upper()] = value.strip()
        st = headers.get("ST", "")
        device_type = str(self.cfg.get("device_type", "urn:schemas-upnp-org:device:Basic:1"))
        service_types = [str(s) for s in self.cfg.get("service_types", ())]
        udn = f"uuid:{self.device.uuid}"
        # UPnP Device Architecture 1.1 §1.3.3: ssdp:all gets one reply per target the device
        # advertises (root device, its UDN, its device type, each service type); any other ST
        # gets the one reply that matches it.
        targets = [
            ("upnp:rootdevice", f"{udn}::upnp:rootdevice"),
            (udn, udn),
            (device_type, f"{udn}::{device_type}"),
            *((s, f"{udn}::{s}") for s in service_types),
        ]
        if st == "ssdp:all":
            chosen = targets
        else:
            chosen = [(t, usn) for t, usn in targets if t == st]
        if not chosen:
            return []
        location = self.device.render(str(self.cfg.get("location", "http://${http_authority}/")))
        server = self.device.render(str(self.cfg.get("server", "")))
        return [
            (
                "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=1800\r\nEXT:\r\n"
                f"LOCATION: {location}\r\nSERVER: {server}\r\nST: {answer_st}\r\n"
                f"USN: {usn}\r\n\r\n"
            ).encode()
            for answer_st, usn in chosen
        ]


def _dns_name(name: str) -> bytes:
    out = b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split("."))
    return out + b"\0"


def _read_name(data: bytes, offset: int) -> tuple[str, int]:
    """A DNS name (compression pointers followed, at most 16) and the offset after it."""
    labels: list[str] = []
    end = None
    for _ in range(64):
        length = data[offset]
        if length & 0xC0 == 0xC0:
            end = offset + 2 if end is None else end
            offset = ((length & 0x3F) << 8) | data[offset + 1]
            continue
        if length == 0:
            return ".".join(labels), end if end is not None else offset + 1
        labels.append(data[offset + 1 : offset + 1 + length].decode("utf-8", "replace"))
        offset += 1 + length
    raise ValueError("DNS name too long")


def _rr(name: str, rtype: int, rdata: bytes, ttl: int = 10) -> bytes:
    return _dns_name(name) + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata


class Mdns(Responder):
    """mDNS (RFC 6762) for one DNS-SD service: PTR queries for it get PTR + SRV + TXT + A.

    Answers go back to the querier's address and port (the legacy-unicast form of section 6.7,
    which is what a one-shot browse from an ephemeral port gets), with the question repeated.
    """

    PTR, TXT, SRV, A = 12, 16, 33, 1

    def answer(self, data: bytes) -> list[bytes]:
        if len(data) < 12:
            return []
        qid, flags, qdcount = struct.unpack_from("!HHH", data)
        if flags & 0x8000:  # a response, not a query
            return []
        service = self.device.render(str(self.cfg.get("service", "_rtsp._tcp.local"))).lower()
        offset, asked = 12, False
        for _ in range(min(qdcount, 32)):
            name, offset = _read_name(data, offset)
            qtype = struct.unpack_from("!H", data, offset)[0]
            offset += 4
            asked = asked or (name.lower().rstrip(".") == service and qtype in (self.PTR, 255))
        if not asked:
            return []
        instance = self.device.render(str(self.cfg.get("instance", "${model}"))) + "." + service
        host = self.device.render(str(self.cfg.get("host", "${serial}.local")))
        port = int(self.device.render(str(self.cfg.get("srv_port", "${port_80}"))))
        txt = b"".join(
            bytes([len(item)]) + item
            for item in (self.device.render(str(t)).encode()[:255] for t in self.cfg.get("txt", ()))
        )
        question = _dns_name(service) + struct.pack("!HH", self.PTR, 1)
        records = [
            _rr(service, self.PTR, _dns_name(instance)),
            _rr(instance, self.SRV, struct.pack("!HHH", 0, 0, port) + _dns_name(host)),
            _rr(instance, self.TXT, txt or b"\0"),
            _rr(host, self.A, socket.inet_aton(self.device.address)),
        ]
        head = struct.pack("!HHHHHH", qid, 0x8400, 1, 1, 0, len(records) - 1)
        return [head + question + b"".join(records)]


class Swallow(Responder):
    """A silent host's UDP port: bound, so no ICMP unreachable goes back, and never answers."""

    def answer(self, data: bytes) -> list[bytes]:
        return []
