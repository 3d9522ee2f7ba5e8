"""Hosts from files a consultant already has: nmap XML made elsewhere, and CSV inventories.

CSV headers vary by source (DHCP lease exports, switch ARP tables, asset sheets), so columns are
recognised by normalised name; the address column is the only one required.
"""

from __future__ import annotations

import csv
import io
import ipaddress
import re
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, TextIO

from auditor.discovery.nmap_xml import NmapStream, NmapXmlError
from auditor.errors import DataFileError
from auditor.models import Channel, Host, IPAddress, Observation, ObservationKind, normalise_mac
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


class _ImportFile:
    """An import file, opened afresh for each pass. A pipe (``--from-nmap <(...)``,
    /dev/stdin) can be read only once: it is read into memory when named."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: bytes | None = None
        try:
            info = path.stat()
            if not stat.S_ISREG(info.st_mode):
                with path.open("rb") as fh:
                    self._data = fh.read(MAX_IMPORT_BYTES + 1)
        except OSError as exc:
            raise DataFileError(path, f"cannot read: {exc.strerror or exc}") from None
        size = info.st_size if self._data is None else len(self._data)
        if size > MAX_IMPORT_BYTES:
            raise DataFileError(path, f"larger than {MAX_IMPORT_BYTES >> 20} MiB")

    def open(self) -> BinaryIO:
        return io.BytesIO(self._data) if self._data is not None else self.path.open("rb")

    def read(self) -> bytes:
        return self._data if self._data is not None else self.path.read_bytes()


def stream_nmap_xml(path: Path | str) -> Iterator[Host]:
    """Hosts (up, with open ports and any -sV detail) from an nmap ``-oX`` file, one at a time
    as the file is read: memory stays that of one host, however large the file."""
    return _nmap_hosts(_ImportFile(Path(path)))


def _nmap_hosts(file: _ImportFile) -> Iterator[Host]:
    try:
        with file.open() as fh:
            for host, _closed in NmapStream(fh, Channel.IMPORT_NMAP, MAX_IMPORT_BYTES):
                yield host
    except NmapXmlError as exc:
        raise DataFileError(file.path, str(exc), exc.line) from None
    except OSError as exc:
        raise DataFileError(file.path, f"cannot read: {exc.strerror or exc}") from None


def import_nmap_xml(path: Path | str) -> tuple[Host, ...]:
    """Every host of an nmap ``-oX`` file (``stream_nmap_xml``, collected)."""
    return tuple(stream_nmap_xml(path))


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
    hosts: dict[str, Host] = {}
    for host in stream_csv_inventory(path):
        key = str(host.address)
        hosts[key] = hosts[key].merge(host) if key in hosts else host
    return tuple(hosts.values())


def stream_csv_inventory(path: Path | str) -> Iterator[Host]:
    """One Host per data row of a CSV inventory, as the file is read (rows of one address are
    not merged here: ``ImportedHosts`` and ``import_csv_inventory`` do that)."""
    return _csv_file_hosts(_ImportFile(Path(path)))


def _csv_file_hosts(file: _ImportFile) -> Iterator[Host]:
    try:
        with io.TextIOWrapper(file.open(), encoding="utf-8-sig", newline="") as fh:
            yield from _csv_hosts(fh, file.path)
    except UnicodeDecodeError:
        raise DataFileError(file.path, "not UTF-8 text", _bad_utf8_line(file)) from None
    except OSError as exc:
        raise DataFileError(file.path, f"cannot read: {exc.strerror or exc}") from None


def _bad_utf8_line(file: _ImportFile) -> int | None:
    """The line of the first byte that is not UTF-8 (the decoder's offset is per chunk)."""
    try:
        data = file.read()
    except OSError:
        return None
    try:
        data.decode("utf-8-sig")
    except UnicodeDecodeError as whole:
        return data[: whole.start].count(b"\n") + 1
    return None


def _csv_hosts(fh: TextIO, path: Path) -> Iterator[Host]:
    sample = fh.read(8192)
    fh.seek(0)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(fh, dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise DataFileError(path, "empty file") from None
    except csv.Error as exc:
        raise DataFileError(path, str(exc), 1) from None
    columns = _columns(header, path)
    when = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    source = Channel.IMPORT_CSV.value
    try:
        for row in reader:
            if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
                continue
            yield _row_host(row, columns, path, reader.line_num, when, source)
    except csv.Error as exc:
        raise DataFileError(path, str(exc), reader.line_num) from None


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


class ImportedHosts:
    """The hosts of a scan's import files (nmap XML, CSV inventory), streamed.

    Made: every file is read once through, so a bad file fails with its line before an audit
    begins, nothing is stored from it and the address count is known. Iterated: the files are
    read again, each host handed on as it is parsed; only the hosts whose address occurs more
    than once (in one file or across the two) are held, merged, and handed on at the end. Memory
    stays that of one host plus the repeated ones, however large the files.
    """

    def __init__(self, nmap: Path | str | None = None, csv_path: Path | str | None = None) -> None:
        self._files: tuple[tuple[str, _ImportFile], ...] = tuple(
            (kind, _ImportFile(Path(p)))
            for kind, p in (("nmap", nmap), ("csv", csv_path))
            if p is not None
        )
        seen: set[IPAddress] = set()
        repeated: set[IPAddress] = set()
        for host in self._read():
            if host.address in seen:
                repeated.add(host.address)
            seen.add(host.address)
        self._count = len(seen)
        self._repeated = frozenset(repeated)

    def _read(self) -> Iterator[Host]:
        for kind, file in self._files:
            yield from _nmap_hosts(file) if kind == "nmap" else _csv_file_hosts(file)

    def __len__(self) -> int:
        """Hosts (distinct addresses) the files hold."""
        return self._count

    def __iter__(self) -> Iterator[Host]:
        held: dict[IPAddress, Host] = {}
        for host in self._read():
            if host.address in self._repeated:
                earlier = held.get(host.address)
                held[host.address] = host if earlier is None else earlier.merge(host)
            else:
                yield host
        yield from sorted(held.values(), key=lambda h: (h.address.version, int(h.address)))
