"""Hostile discovery responders (UDP): XML bombs in WS-Discovery and SADP replies.

Floods and lying DHIP lengths are the lab's own variants (auditor/lab/variants.py).

They subclass the lab's :class:`~auditor.lab.discovery.Responder`, so they answer unicast to the
prober exactly as the normal responders do, on loopback or in a namespace.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import struct
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from auditor.lab import registry
from auditor.lab.device import Device
from auditor.lab.discovery import Responder
from auditor.lab.hostile import payloads

logger = logging.getLogger(__name__)


def _doctype(cfg: Mapping[str, Any]) -> tuple[str, str]:
    """(doctype, entity reference) for ``attack: xxe | laughs``."""
    if cfg.get("attack") == "laughs":
        return payloads.BILLION_LAUGHS_DOCTYPE, "&lol9;"
    return payloads.XXE_DOCTYPE, "&xxe;"


class BombProbeMatch(Responder):
    """Answers every WS-Discovery Probe with a ProbeMatch carrying a DOCTYPE attack."""

    def answer(self, data: bytes) -> list[bytes]:
        if b"Probe" not in data:
            return []
        doctype, ref = _doctype(self.cfg)
        xaddrs = f"http://{self.device.address}:{self.device.port(80)}/onvif/device_service"
        scope = f"onvif://www.onvif.org/name/{ref}"
        return [payloads.probe_match(self.device.uuid, xaddrs, scope, doctype).encode()]


class BombSadp(Responder):
    """Answers a SADP inquiry with a ProbeMatch carrying a DOCTYPE attack."""

    def answer(self, data: bytes) -> list[bytes]:
        if b"inquiry" not in data:
            return []
        doctype, ref = _doctype(self.cfg)
        fields = {
            "DeviceDescription": ref,
            "IPv4Address": self.device.address,
            "MAC": "c4-2f-90-1a-00-01",
        }
        return [payloads.sadp_probe_match(fields, doctype).encode()]


class SpoofedProbeMatches(Responder):
    """Answers a WS-Discovery Probe with ``count`` ProbeMatches, each from a different spoofed
    source address in the device's own subnet (issue 13: 3,000 in 0.2 s became 3,000 cameras).

    The sources exist nowhere: nothing answers ARP or TCP for them, so a scanner that trusts a
    multicast reply alone reports phantom devices. Raw IPv4 packets (IP_HDRINCL, root, namespace
    lab only) carry the forged source; the XAddrs point at the forged address itself and the
    scopes name a camera maker, so a phantom looks like an ordinary camera.
    """

    #: One flood per discovery round: the round's repeated probes (two types, two repeats,
    #: directed and multicast) arrive within this many seconds.
    ROUND_SECONDS = 5.0
    BATCH = 100

    def __init__(self, device: Device, cfg: Mapping[str, Any], max_delay: float = 0.0) -> None:
        super().__init__(device, cfg, max_delay)
        self._last_flood = 0.0
        self.sent = 0

    def sources(self) -> list[str]:
        net = ipaddress.ip_network(
            f"{self.device.address}/{int(self.cfg.get('prefix', 24))}", False
        )
        own = ipaddress.ip_address(self.device.address)
        # From the top of the subnet down, past the lab's router (broadcast - 1): the lab's
        # devices sit at the bottom, so no phantom shares an address with a real device.
        pool = [a for a in reversed(list(net.hosts())[:-1]) if a != own]
        return [str(a) for a in pool[: int(self.cfg.get("count", 3000))]]

    def answer(self, data: bytes) -> list[bytes]:
        return []  # replies are forged in datagram_received, not sent from the device's socket

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if b"Probe" not in data or b"ProbeMatch" in data:
            return
        now = time.monotonic()
        if now - self._last_flood < self.ROUND_SECONDS:
            return
        self._last_flood = now
        scopes = " ".join(str(s) for s in self.cfg.get("scopes", ()))
        packets = []
        for source in self.sources():
            xaddrs = f"http://{source}/onvif/device_service"
            body = payloads.probe_match(str(uuid.uuid4()), xaddrs, scopes).encode()
            packets.append(_udp_packet(source, str(addr[0]), 3702, int(addr[1]), body))
        asyncio.get_running_loop().call_soon(self._send, packets, str(addr[0]))

    def _send(self, packets: Sequence[bytes], destination: str) -> None:
        # In batches, so the whole flood takes a fraction of a second without holding the
        # site's event loop (every other lab device answers from it too).
        batch, rest = packets[: self.BATCH], packets[self.BATCH :]
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW) as raw:
                for packet in batch:
                    raw.sendto(packet, (destination, 0))
                    self.sent += 1
        except OSError as exc:
            logger.warning("spoofed flood stopped: %s", exc)
            return
        if rest:
            asyncio.get_running_loop().call_later(0.005, self._send, rest, destination)


def _udp_packet(source: str, destination: str, sport: int, dport: int, body: bytes) -> bytes:
    """An IPv4+UDP datagram with a forged source (the kernel fills in the IP checksum and
    length; a zero UDP checksum means "none" in IPv4, RFC 768)."""
    udp = struct.pack("!HHHH", sport, dport, 8 + len(body), 0)
    ip = struct.pack(
        "!BBHHHBBH4s4s",
        0x45, 0, 20 + len(udp) + len(body), 0, 0, 64, socket.IPPROTO_UDP, 0,
        socket.inet_aton(source), socket.inet_aton(destination),
    )  # fmt: skip
    return ip + udp + body


def _udp(cls: type[Responder], kind: str) -> registry.Factory:
    def factory(
        device: Device, cfg: Mapping[str, Any], ctx: registry.BuildContext
    ) -> registry.Built:
        return registry.UdpService(lambda: cls(device, cfg), registry.GROUPS.get(kind, ()))

    return factory


def register_all() -> None:
    registry.register("wsd", "xml_bomb")(_udp(BombProbeMatch, "wsd"))
    registry.register("sadp", "xml_bomb")(_udp(BombSadp, "sadp"))
    registry.register("wsd", "spoofed_flood")(_udp(SpoofedProbeMatches, "wsd"))
