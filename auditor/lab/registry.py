"""Which server runs each profile service: one registry, pluggable per protocol.

A profile's service may name a ``variant`` (``http: {port: 80, variant: slowloris}``); hostile
devices (issue 9) register their variants here with :func:`register` without touching the
engine or the normal servers.
"""

from __future__ import annotations

import asyncio
import importlib
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from auditor.lab import discovery
from auditor.lab.banners import BannerServer, DvripServer
from auditor.lab.device import Device
from auditor.lab.httpd import WebServer
from auditor.lab.onvif import OnvifService
from auditor.lab.rtsp import RtspServer
from auditor.lab.snmp import SnmpAgent
from auditor.lab.tlscert import make_context
from auditor.ports import Role

StreamHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@dataclass
class BuildContext:
    """Site-wide inputs a server factory may need."""

    workdir: Path
    wsd_delay: float = 0.0
    """Upper bound of the random ProbeMatch delay (real devices: up to 0.5 s)."""
    onvif: dict[int, OnvifService] = field(default_factory=dict)


@dataclass
class TcpService:
    handler: StreamHandler
    ssl: ssl.SSLContext | None = None


@dataclass
class UdpService:
    protocol: Callable[[], asyncio.DatagramProtocol]
    groups: tuple[str, ...] = ()
    """Multicast groups joined in namespace mode."""


Built = TcpService | UdpService
Factory = Callable[[Device, Mapping[str, Any], BuildContext], Built]


@dataclass(frozen=True)
class ServiceKind:
    transport: Literal["tcp", "udp"]
    default_port: int
    role: Role | None = None


KINDS: dict[str, ServiceKind] = {
    "http": ServiceKind("tcp", 80, Role.HTTP),
    "https": ServiceKind("tcp", 443, Role.HTTPS),
    "onvif_http": ServiceKind("tcp", 8899, Role.ONVIF),
    "rtsp": ServiceKind("tcp", 554, Role.RTSP),
    "hik_sdk": ServiceKind("tcp", 8000, Role.HIK_SDK),
    "dahua_sdk": ServiceKind("tcp", 37777, Role.DAHUA_SDK),
    "dvrip": ServiceKind("tcp", 34567, Role.DVRIP),
    "telnet": ServiceKind("tcp", 23, Role.TELNET),
    "ssh": ServiceKind("tcp", 22, Role.SSH),
    "ftp": ServiceKind("tcp", 21, Role.FTP),
    "wsd": ServiceKind("udp", 3702),
    "sadp": ServiceKind("udp", 37020),
    "dhip": ServiceKind("udp", 37810),
    "xm_discovery": ServiceKind("udp", 34569),
    "ssdp": ServiceKind("udp", 1900),
    "mdns": ServiceKind("udp", 5353),
    "snmp": ServiceKind("udp", 161),
}

#: Multicast groups per UDP discovery service (research protocols.md §1, §3).
GROUPS: dict[str, tuple[str, ...]] = {
    "wsd": ("239.255.255.250",),
    "sadp": ("239.255.255.250",),
    "dhip": ("239.255.255.251",),
    "ssdp": ("239.255.255.250",),
    "xm_discovery": (),
    "mdns": ("224.0.0.251",),
    "snmp": (),
}

_FACTORIES: dict[tuple[str, str], Factory] = {}


def register(kind: str, variant: str = "default") -> Callable[[Factory], Factory]:
    """Decorator: make ``factory`` the server for ``kind`` when a profile asks for ``variant``."""
    if kind not in KINDS:
        raise ValueError(f"unknown service kind {kind!r}")

    def deco(factory: Factory) -> Factory:
        _FACTORIES[(kind, variant)] = factory
        return factory

    return deco


def build(kind: str, device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    variant = str(cfg.get("variant", "default"))
    if variant != "default" and (kind, variant) not in _FACTORIES:
        # Hostile variants register themselves on import; loaded only when a profile asks
        # (the lab's own in variants.py, issue 9's extra ones in the hostile package).
        for module in ("auditor.lab.variants", "auditor.lab.hostile"):
            if (kind, variant) in _FACTORIES:
                break
            try:
                importlib.import_module(module)
            except ImportError:
                continue
    factory = _FACTORIES.get((kind, variant))
    if factory is None:
        raise KeyError(f"no server registered for {kind}/{variant}")
    return factory(device, cfg, ctx)


def _web(device: Device, cfg: Mapping[str, Any], ctx: BuildContext, std_port: int) -> WebServer:
    onvif_cfg = device.profile.onvif
    onvif = None
    if onvif_cfg is not None and int(onvif_cfg.get("port", 80)) == std_port:
        onvif = OnvifService(device, onvif_cfg)
    # https without its own pages serves the http personality (same firmware web server).
    if "pages" not in cfg and kind_cfg(device, "http"):
        cfg = {**kind_cfg(device, "http"), **cfg}
    return WebServer(device, cfg, onvif)


def kind_cfg(device: Device, kind: str) -> Mapping[str, Any]:
    cfg: Mapping[str, Any] = device.profile.services.get(kind, {})
    return cfg


@register("http")
def _http(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    return TcpService(_web(device, cfg, ctx, int(cfg.get("port", 80))).handle)


@register("onvif_http")
def _onvif_http(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    return TcpService(_web(device, cfg, ctx, int(cfg.get("port", 8899))).handle)


@register("https")
def _https(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    web = _web(device, cfg, ctx, int(cfg.get("port", 443)))
    return TcpService(web.handle, make_context(device, cfg.get("cert", {}), ctx.workdir))


@register("rtsp")
def _rtsp(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    return TcpService(RtspServer(device, cfg).handle)


def _banner(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    return TcpService(BannerServer(device, cfg).handle)


for _kind in ("hik_sdk", "dahua_sdk", "telnet", "ssh", "ftp"):
    register(_kind)(_banner)


@register("dvrip")
def _dvrip(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
    return TcpService(DvripServer(device, cfg).handle)


def _udp(cls: type[discovery.Responder], kind: str) -> Factory:
    def factory(device: Device, cfg: Mapping[str, Any], ctx: BuildContext) -> Built:
        delay = ctx.wsd_delay if kind == "wsd" else 0.0
        return UdpService(lambda: cls(device, cfg, delay), GROUPS[kind])

    return factory


register("wsd")(_udp(discovery.WsDiscovery, "wsd"))
register("sadp")(_udp(discovery.Sadp, "sadp"))
register("dhip")(_udp(discovery.Dhip, "dhip"))
register("xm_discovery")(_udp(discovery.XiongmaiSearch, "xm_discovery"))
register("ssdp")(_udp(discovery.Ssdp, "ssdp"))
register("mdns")(_udp(discovery.Mdns, "mdns"))
register("snmp")(_udp(SnmpAgent, "snmp"))
