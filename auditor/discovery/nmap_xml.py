"""Parse nmap's XML output (``-oX``) into Hosts, keeping what python-nmap drops.

Kept per open port: service name, product, version, extrainfo, devicetype, tunnel and every
CPE (research/library-trial.md: python-nmap loses devicetype, method and all but one CPE).
Kept per host: the MAC and nmap's OUI vendor name when nmap saw the host on the same segment.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.models import Channel, Host, Observation, ObservationKind, Service, normalise_mac
from auditor.net import safexml
from auditor.scope import normalise_address

#: nmap XML for a /16 with -sV stays well below this.
MAX_XML_BYTES = 256 << 20


class NmapXmlError(ValueError):
    """The file is not nmap XML, or not safe to parse; ``line`` is where, when known."""

    def __init__(self, message: str, line: int | None = None) -> None:
        self.line = line
        super().__init__(message)


@dataclass(frozen=True, slots=True)
class NmapRun:
    hosts: tuple[Host, ...]
    args: str
    version: str
    all_closed: frozenset[str] = frozenset()
    """Addresses where every scanned port answered "closed" (no open or filtered port)."""


def _all_closed(element: safexml.Element) -> bool:
    states = [p.get("state") for p in element.iterfind("ports/extraports")]
    states += [s.get("state") for s in element.iterfind("ports/port/state")]
    return bool(states) and all(s == "closed" for s in states)


def _when(element: safexml.Element, fallback: datetime) -> datetime:
    for attr in ("endtime", "starttime", "start"):
        value = element.get(attr, "")
        if value.isdigit():
            try:
                return datetime.fromtimestamp(int(value), UTC)
            except (OverflowError, OSError, ValueError):
                continue
    return fallback


def service_text(service: Service) -> str:
    """The VERSION column as nmap prints it: ``product version (extrainfo)``."""
    text = " ".join(p for p in (service.product, service.version) if p)
    if service.extrainfo:
        text = f"{text} ({service.extrainfo})" if text else f"({service.extrainfo})"
    return text


def _service(port: safexml.Element) -> Service | None:
    state = port.find("state")
    if state is None or state.get("state") != "open":
        return None
    protocol = port.get("protocol", "tcp")
    try:
        number = int(port.get("portid", ""))
        svc = port.find("service")
        if svc is None:
            return Service(number, protocol)
        return Service(
            port=number,
            protocol=protocol,
            name=svc.get("name") or None,
            product=svc.get("product") or None,
            version=svc.get("version") or None,
            extrainfo=svc.get("extrainfo") or None,
            device_type=svc.get("devicetype") or None,
            tunnel=svc.get("tunnel") or None,
            cpes=tuple(
                (c.text or "").strip() for c in svc.findall("cpe") if (c.text or "").strip()
            ),
        )
    except ValueError as exc:
        raise NmapXmlError(f"bad port entry: {exc}") from None


def _host(element: safexml.Element, channel: Channel, when: datetime) -> Host | None:
    status = element.find("status")
    if status is not None and status.get("state") != "up":
        return None
    address = mac = vendor = None
    for addr in element.findall("address"):
        kind = addr.get("addrtype")
        if kind in ("ipv4", "ipv6") and address is None:
            address = addr.get("addr")
        elif kind == "mac":
            mac, vendor = addr.get("addr"), addr.get("vendor") or None
    if not address:
        return None
    seen = _when(element, when)
    source = channel.value
    services = []
    obs = []
    for port in element.iterfind("ports/port"):
        service = _service(port)
        if service is None:
            continue
        services.append(service)
        if service.product or service.extrainfo:
            obs.append(
                Observation(
                    ObservationKind.NMAP_SERVICE, service_text(service), source, seen, service.port
                )
            )
    try:
        mac = normalise_mac(mac) if mac else None
    except ValueError:
        raise NmapXmlError(f"bad MAC address {mac!r}") from None
    if mac:
        obs.append(Observation(ObservationKind.MAC, mac, source, seen))
    if mac and vendor:
        obs.append(Observation(ObservationKind.MAC_VENDOR, vendor, source, seen))
    names = (n.get("name", "") for n in element.iterfind("hostnames/hostname"))
    obs.extend(Observation(ObservationKind.HOSTNAME, n, source, seen) for n in names if n)
    try:
        return Host(
            address=normalise_address(ipaddress.ip_address(address)),
            mac=mac,
            mac_vendor=vendor if mac else None,
            mac_on_wire=mac is not None,  # nmap reports the MAC it saw in ARP/ND replies
            services=tuple(services),
            seen_by=frozenset({channel}),
            observations=tuple(obs),
        )
    except ValueError as exc:
        raise NmapXmlError(f"bad host entry: {exc}") from None


def _line_of(data: bytes, host: safexml.Element) -> int | None:
    """The line of a host's first address in the file: ElementTree keeps no positions."""
    addr = host.find("address")
    if addr is None:
        return None
    needle = f'addr="{addr.get("addr", "")}"'.encode()
    at = data.find(needle)
    return data.count(b"\n", 0, at) + 1 if at >= 0 else None


def parse_nmap_xml(data: bytes, channel: Channel = Channel.NMAP) -> NmapRun:
    """Every host that nmap reported up, with its open ports; NmapXmlError for bad input."""
    if len(data) > MAX_XML_BYTES:
        raise NmapXmlError(f"{len(data)} bytes is more than nmap XML for any supported scope")
    try:
        # nmap writes a bare <!DOCTYPE nmaprun> into every file; any other DTD is refused.
        root = safexml.parse(data, limit=MAX_XML_BYTES, doctype="nmaprun")
    except safexml.UnsafeXml as exc:
        raise NmapXmlError(f"refused unsafe XML: {exc}") from None
    except safexml.XmlError as exc:
        raise NmapXmlError(str(exc), exc.line) from None
    if root.tag != "nmaprun":
        raise NmapXmlError(f"not nmap XML: the root element is <{root.tag[:40]}>, not <nmaprun>", 1)
    when = _when(root, datetime.now(UTC))
    hosts = []
    closed = set()
    for element in root.iterfind("host"):
        try:
            host = _host(element, channel, when)
        except NmapXmlError as exc:
            raise NmapXmlError(str(exc), _line_of(data, element)) from None
        if host is not None:
            hosts.append(host)
            if _all_closed(element):
                closed.add(str(host.address))
    return NmapRun(tuple(hosts), root.get("args", ""), root.get("version", ""), frozenset(closed))
