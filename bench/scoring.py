"""Score each tool's output against the lab's ground truth: is the true manufacturer named?

camaudit names a manufacturer per device in its JSON report. nmap has no such field, so its
``-sV`` strings are mapped to makers by the vendor's own name appearing in them. The mapping is
deliberately generous to nmap: a vendor name counts in any field (product, version, extrainfo,
devicetype, ostype, hostname, CPE) of any port of the host, and a few former company names and
product lines that can only mean one maker count too. What it never does is turn a brand into
its hidden OEM (Amcrest -> Dahua): that knowledge is what camaudit adds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from auditor.discovery.nmap_xml import MAX_XML_BYTES
from auditor.lab import GroundTruth
from auditor.net import safexml

#: Maker -> the words in an nmap string that name it. Plain vendor names, plus only
#: unambiguous former names/product lines (Samsung Techwin is Hanwha; JetDirect is HP's).
NMAP_VENDOR_WORDS: Mapping[str, tuple[str, ...]] = {
    "Hikvision": ("hikvision",),
    "Dahua": ("dahua",),
    "Uniview": ("uniview", "zhejiang uniview"),
    "Tiandy": ("tiandy",),
    "Xiongmai": ("xiongmai",),
    "Axis": ("axis",),
    "Bosch": ("bosch",),
    "Hanwha": ("hanwha", "samsung techwin"),
    "HP": ("hp", "hewlett-packard", "hewlett packard", "jetdirect"),
}
_WORDS = [
    (maker, re.compile(r"\b" + re.escape(word) + r"\b", re.IGNORECASE))
    for maker, words in NMAP_VENDOR_WORDS.items()
    for word in words
]
_NMAP_FIELDS = ("product", "version", "extrainfo", "devicetype", "ostype", "hostname")


@dataclass(frozen=True, slots=True)
class NmapHost:
    address: str
    strings: tuple[str, ...]
    """Every -sV string nmap printed for the host's ports."""
    mac_vendor: str | None
    open_ports: int


def makers_in(texts: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        for maker, pattern in _WORDS:
            if pattern.search(text):
                found.add(maker)
    return found


def parse_nmap(path: Path) -> dict[str, NmapHost]:
    """The hosts of an nmap XML file (the shared safe parser: the file is data from a scan)."""
    root = safexml.parse(path.read_bytes(), limit=MAX_XML_BYTES, doctype="nmaprun")
    hosts: dict[str, NmapHost] = {}
    for host in root.iter("host"):
        addr = mac_vendor = None
        for a in host.iter("address"):
            if a.get("addrtype") in ("ipv4", "ipv6"):
                addr = a.get("addr")
            elif a.get("addrtype") == "mac":
                mac_vendor = a.get("vendor")
        if addr is None:
            continue
        strings: list[str] = []
        opened = 0
        for port in host.iter("port"):
            state = port.find("state")
            if state is None or state.get("state") != "open":
                continue
            opened += 1
            svc = port.find("service")
            if svc is None:
                continue
            strings += [svc.get(f) or "" for f in _NMAP_FIELDS]
            strings += [cpe.text or "" for cpe in svc.iter("cpe")]
        hosts[addr] = NmapHost(addr, tuple(s for s in strings if s), mac_vendor, opened)
    return hosts


def parse_camaudit(path: Path) -> dict[str, str | None]:
    """Address -> the manufacturer camaudit named (None: not named)."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {d["address"]: d.get("manufacturer") for d in doc.get("devices", [])}


@dataclass(frozen=True, slots=True)
class Coverage:
    correct: int
    total: int
    wrong: tuple[str, ...] = ()
    """Profiles (address) the tool missed or named wrongly, for the report."""

    @property
    def fraction(self) -> float:
        return self.correct / self.total if self.total else 1.0

    def __str__(self) -> str:
        return f"{self.correct}/{self.total}"


def _knowable(truth: Sequence[GroundTruth], video_only: bool) -> list[GroundTruth]:
    out = [t for t in truth if t.manufacturer is not None]
    if video_only:
        out = [t for t in out if _is_video(t.device_type)]
    return out


def _is_video(device_type: str) -> bool:
    from auditor.models import DeviceType

    try:
        return DeviceType(device_type).is_video
    except ValueError:
        return False


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.casefold() == b.casefold()


def camaudit_coverage(
    named: Mapping[str, str | None], truth: Sequence[GroundTruth], video_only: bool
) -> Coverage:
    expected = _knowable(truth, video_only)
    wrong = tuple(
        f"{t.profile} ({t.address}): {named.get(t.address)}"
        for t in expected
        if not _same(named.get(t.address), t.manufacturer)
    )
    return Coverage(len(expected) - len(wrong), len(expected), wrong)


def nmap_coverage(
    hosts: Mapping[str, NmapHost],
    truth: Sequence[GroundTruth],
    video_only: bool,
    with_mac_vendor: bool = False,
) -> Coverage:
    """Correct when the true maker is among the makers nmap's strings name, and no other maker
    is (a host that reads "Hikvision" and "Dahua" names nobody)."""
    expected = _knowable(truth, video_only)
    wrong: list[str] = []
    for t in expected:
        host = hosts.get(t.address)
        texts = list(host.strings) if host else []
        if with_mac_vendor and host and host.mac_vendor:
            texts.append(host.mac_vendor)
        makers = makers_in(texts)
        if makers != {t.manufacturer}:
            wrong.append(f"{t.profile} ({t.address}): {sorted(makers) or None}")
    return Coverage(len(expected) - len(wrong), len(expected), tuple(wrong))
