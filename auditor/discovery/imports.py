"""Hosts from files a consultant already has: nmap XML made elsewhere, and CSV inventories.

CSV headers vary by source (DHCP lease exports, switch ARP tables, asset sheets), so columns are
recognised by normalised name; the address column is the only one required.
"""

from __future__ import annotations

import csv
import ipaddress
import re
from datetime import UTC, datetime
from pathlib import Path

from auditor.discovery.nmap_xml import NmapXmlError, parse_nmap_xml
from auditor.errors import DataFileError
from auditor.models import Channel, Host, Observation, ObservationKind, normalise_mac
from auditor.scope import normalise_address

MAX_IMPORT_BYTES = 256 << 20

# Header spellings seen in DHCP server exports (ISC, Windows "Client IP Address" / "Unique ID"),
# switch/router ARP tables ("Internet Address", "Hardware Addr", "Physical Address") and
# inventory sheets; compared after lower-casing and removing everything but letters and digits.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "ip": (
        "ip",
        "ipaddress",
        "ipaddr",
        "ipv4",
        "ipv4address",
        "ipv6",
        "ipv6address",
        "address",
        "clientipaddress",
        "clientip",
        "leasedip",
        "leaseip",
        "internetaddress",
        "hostip",
        "deviceip",
        "yiaddr",
    ),
    "mac": (
        "mac",
        "macaddress",
        "macaddr",
        "hardwareaddress",
        "hardwareaddr",
        "hwaddress",
        "hwaddr",
        "physicaladdress",
        "uniqueid",
        "clientid",
        "chaddr",
        "ethernetaddress",
    ),
    "hostname": (
        "hostname",
        "host",
        "name",
        "clienthostname",
        "devicename",
        "clientname",
        "dnsname",
    ),
    "vendor": ("vendor", "macvendor", "manufacturer", "oui", "ouivendor", "make"),
}


def import_nmap_xml(path: Path | str) -> tuple[Host, ...]:
    """Hosts (up, with open ports and any -sV detail) from an nmap ``-oX`` file."""
    path = Path(path)
    data = _read(path)
    try:
        run = parse_nmap_xml(data, Channel.IMPORT_NMAP)
    except NmapXmlError as exc:
        raise DataFileError(path, str(exc), exc.line) from None
    return run.hosts


def _read(path: Path) -> bytes:
    try:
        if path.stat().st_size > MAX_IMPORT_BYTES:
            raise DataFileError(path, f"larger than {MAX_IMPORT_BYTES >> 20} MiB")
        return path.read_bytes()
    except OSError as exc:
        raise DataFileError(path, f"cannot read: {exc.strerror or exc}") from None


def _key(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.lower())


def _columns(header: list[str], path: Path) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = _key(name)
        for column, spellings in _COLUMNS.items():
            if key in spellings and column not in found:
                found[column] = index
    if "ip" not in found:
        raise DataFileError(
            path, f"no IP address column among {', '.join(h.strip() for h in header)[:200]!r}", 1
        )
    return found


def _cell(row: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return row[index].strip() if index is not None and index < len(row) else ""


def import_csv_inventory(path: Path | str) -> tuple[Host, ...]:
    """Hosts from a CSV inventory: ip (required), mac, hostname, vendor; one Host per address."""
    path = Path(path)
    try:
        text = _read(path).decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _read(path)[: exc.start].count(b"\n") + 1
        raise DataFileError(path, "not UTF-8 text", line) from None
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:8192], delimiters=",;\t|"
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(text.splitlines(), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise DataFileError(path, "empty file") from None
    except csv.Error as exc:
        raise DataFileError(path, str(exc), 1) from None
    columns = _columns(header, path)
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    source = Channel.IMPORT_CSV.value
    hosts: dict[str, Host] = {}
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            host = _row_host(row, columns, path, line, when, source)
            key = str(host.address)
            hosts[key] = hosts[key].merge(host) if key in hosts else host
    except csv.Error as exc:
        raise DataFileError(path, str(exc), reader.line_num) from None
    return tuple(hosts.values())


def _row_host(
    row: list[str], columns: dict[str, int], path: Path, line: int, when: datetime, source: str
) -> Host:
    ip_text = _cell(row, columns, "ip")
    try:
        # Some exports append a prefix length or a zone; the address is what matters.
        address = normalise_address(ipaddress.ip_address(ip_text.split("/", 1)[0].strip("[]")))
    except ValueError:
        raise DataFileError(path, f"not an IP address: {ip_text[:60]!r}", line) from None
    mac_text = _cell(row, columns, "mac")
    try:
        mac = normalise_mac(mac_text) if mac_text else None
    except ValueError:
        raise DataFileError(path, f"not a MAC address: {mac_text[:60]!r}", line) from None
    vendor = _cell(row, columns, "vendor") or None
    hostname = _cell(row, columns, "hostname")
    obs = []
    if mac:
        obs.append(Observation(ObservationKind.MAC, mac, source, when))
    if vendor:
        obs.append(Observation(ObservationKind.MAC_VENDOR, vendor, source, when))
    if hostname:
        obs.append(Observation(ObservationKind.HOSTNAME, hostname, source, when))
    return Host(
        address=address,
        mac=mac,
        mac_vendor=vendor if mac else None,
        mac_on_wire=mac is not None,  # an inventory's MAC comes from switches and DHCP leases
        seen_by=frozenset({Channel.IMPORT_CSV}),
        observations=tuple(obs),
    )
