"""Hostile discovery responders (UDP): XML bombs in WS-Discovery and SADP replies.

Floods and lying DHIP lengths are the lab's own variants (auditor/lab/variants.py).

They subclass the lab's :class:`~auditor.lab.discovery.Responder`, so they answer unicast to the
prober exactly as the normal responders do, on loopback or in a namespace.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from auditor.lab import registry
from auditor.lab.device import Device
from auditor.lab.discovery import Responder
from auditor.lab.hostile import payloads


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


def _udp(cls: type[Responder], kind: str) -> registry.Factory:
    def factory(
        device: Device, cfg: Mapping[str, Any], ctx: registry.BuildContext
    ) -> registry.Built:
        return registry.UdpService(lambda: cls(device, cfg), registry.GROUPS.get(kind, ()))

    return factory


def register_all() -> None:
    registry.register("wsd", "xml_bomb")(_udp(BombProbeMatch, "wsd"))
    registry.register("sadp", "xml_bomb")(_udp(BombSadp, "sadp"))
