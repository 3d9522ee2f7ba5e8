"""Parse nmap's XML output (``-oX``) into Hosts, keeping what python-nmap drops.

Kept per open port: service name, product, version, extrainfo, devicetype, tunnel and every
CPE (research/library-trial.md: python-nmap loses devicetype, method and all but one CPE), and
the HTTP Server header and page title that nmap's default scripts (-sC) report.
Kept per host: the MAC and nmap's OUI vendor name when nmap saw the host on the same segment.
"""

from __future__ import annotations

import io
import ipaddress
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO

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


#: nmap -sC scripts whose output is what a probe of ours would observe itself, and the
#: ``<elem>`` key that holds the value (nmap 7.93 scripts/http-server-header.nse: one unkeyed
#: elem per Server header seen, given when -sV named no product or another one;
#: scripts/http-title.nse: ``<elem key="title">``, absent when the page has none).
_SCRIPTS: dict[str, tuple[ObservationKind, str | None]] = {
    "http-server-header": (ObservationKind.HTTP_SERVER, None),
    "http-title": (ObservationKind.HTTP_TITLE, "title"),
}

#: A header or title longer than this is cut (they are matched from the start).
MAX_SCRIPT_VALUE = 1024


def _script_observations(
    port: safexml.Element, number: int, source: str, seen: datetime
) -> list[Observation]:
    out = []
    for script in port.iterfind("script"):
        wanted = _SCRIPTS.get(script.get("id", ""))
        if wanted is None:
            continue
        kind, key = wanted
        for elem in script.iter("elem"):
            value = (elem.text or "").strip()[:MAX_SCRIPT_VALUE]
            if elem.get("key") == key and value:
                out.append(Observation(kind, value, source, seen, number))
    return out


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
        obs.extend(_script_observations(port, service.port, source, seen))
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


class NmapStream:
    """The hosts of an nmap XML document, each as soon as it is parsed (memory: one host).

    Iterating yields ``(host, all_closed)`` for every host nmap reported up; ``all_closed``:
    every scanned port answered "closed". NmapXmlError (with the line) where the input goes
    wrong, after the hosts before that point were handed out.
    """

    def __init__(
        self, source: BinaryIO, channel: Channel = Channel.NMAP, limit: int = MAX_XML_BYTES
    ) -> None:
        # nmap writes a bare <!DOCTYPE nmaprun> into every file; any other DTD is refused.
        self._children = safexml.iterchildren(
            source, limit=limit, doctype="nmaprun", mark="address"
        )
        self._channel = channel
        self.args = ""
        self.version = ""

    def _check_root(self) -> datetime:
        root = self._children.root
        if root is None or root.tag != "nmaprun":
            tag = "nothing" if root is None else f"<{root.tag[:40]}>"
            raise NmapXmlError(f"not nmap XML: the root element is {tag}, not <nmaprun>", 1)
        self.args, self.version = root.get("args", ""), root.get("version", "")
        return _when(root, datetime.now(UTC))

    def __iter__(self) -> Iterator[tuple[Host, bool]]:
        when: datetime | None = None
        try:
            for element, line in self._children:
                if when is None:
                    when = self._check_root()
                if element.tag != "host":
                    continue
                try:
                    host = _host(element, self._channel, when)
                except NmapXmlError as exc:
                    raise NmapXmlError(str(exc), line) from None
                if host is not None:
                    yield host, _all_closed(element)
        except safexml.UnsafeXml as exc:
            raise NmapXmlError(f"refused unsafe XML: {exc}") from None
        except safexml.XmlError as exc:
            raise NmapXmlError(str(exc), exc.line) from None
        if when is None:
            self._check_root()


def parse_nmap_xml(data: bytes, channel: Channel = Channel.NMAP) -> NmapRun:
    """Every host that nmap reported up, with its open ports; NmapXmlError for bad input."""
    if len(data) > MAX_XML_BYTES:
        raise NmapXmlError(f"{len(data)} bytes is more than nmap XML for any supported scope")
    stream = NmapStream(io.BytesIO(data), channel)
    hosts = []
    closed = set()
    for host, all_closed in stream:
        hosts.append(host)
        if all_closed:
            closed.add(str(host.address))
    return NmapRun(tuple(hosts), stream.args, stream.version, frozenset(closed))
