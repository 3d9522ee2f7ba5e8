"""The open vendor world: one canonical name for every maker a device or a registry names.

Sources, in order of authority:

1. ``identifiers/vendors.txt`` -- our reviewed canonical names (surveillance makers and the
   other makers our fingerprints name);
2. ``identifiers/aliases.yaml`` -- reviewed aliases and renames (Samsung Techwin -> Hanwha
   Techwin -> Hanwha Vision are one maker), the role of a maker's MAC prefixes, and the
   placeholders that are not makers ("IPCAM", "Generic", "ONVIF"...);
3. every IEEE registrant (``oui/oui.tsv``) -- tens of thousands of companies we never reviewed.

Names are compared by a key: case, punctuation, legal forms ("Co., Ltd", "GmbH", "Inc."),
descriptive tails ("Technology", "Digital", "Security Systems") and Chinese city or province
prefixes ("Hangzhou", "Shenzhen", "Zhejiang") do not count, so "Zhejiang Dahua Technology Co.,
Ltd." and "DAHUA" are one maker. A declared maker that no source knows is still reported, as
declared: the registry never drops a name, it only says whether it knows it.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from importlib.abc import Traversable
from pathlib import Path

import yaml

from auditor.errors import DataFileError

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Chinese cities and provinces that registrants put before the company name.
PLACE_PREFIXES = frozenset(
    """
    anhui beijing changsha chengdu chongqing dongguan foshan fujian fuzhou guangdong guangzhou
    hangzhou hefei hubei hunan jiangsu jiangxi jinan nanjing ningbo qingdao shandong shanghai
    shenyang shenzhen sichuan suzhou tianjin wuhan wuxi xiamen xian zhejiang zhongshan zhuhai
    hongkong hong kong
    """.split()  # noqa: SIM905 -- a word list reads best as text
)
#: Legal forms: never part of a maker's name.
LEGAL_FORMS = frozenset(
    """
    ltd limited co company corp corporation inc incorporated llc llp lp gmbh mbh ag ab as asa sa
    sas sarl srl spa bv nv oy oyj kg kgaa plc pty pvt private kk sro sp zoo se aps a s ltda sl
    slu bhd sdn pte tbk jsc ooo zrt kft doo eirl
    """.split()  # noqa: SIM905 -- a word list reads best as text
)
#: Descriptive tails that registrants add and devices leave out ("Hikvision Digital Technology").
DESCRIPTIVE_TAILS = frozenset(
    """
    technology technologies tech digital electronics electronic electric communications
    communication systems system security international intl industrial industries industry
    group holdings holding products solutions software science sciences development the and
    manufacturing manufacturer mfg trading import export information intelligent intelligence
    smart network networks
    """.split()  # noqa: SIM905 -- a word list reads best as text
)
_TOKEN = re.compile(r"[a-z0-9]+")


_JOINERS = re.compile(r"(?<=[a-z0-9])[-'](?=[a-z0-9])")


def name_key(name: str) -> str:
    """The comparison key of a company name (see the module docstring); "" for no name."""
    text = name
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = text.casefold()
    if "&" in text:
        text = text.replace("&", " and ")
    if "-" in text or "'" in text:
        # "Co.,Ltd" and "Co.Ltd" are two legal-form words; "TP-LINK" and "D-Link" are one word.
        text = _JOINERS.sub("", text)
    tokens = _TOKEN.findall(text)
    while len(tokens) > 1 and tokens[0] in PLACE_PREFIXES:
        tokens.pop(0)
    while len(tokens) > 1 and (tokens[-1] in LEGAL_FORMS or tokens[-1] in DESCRIPTIVE_TAILS):
        tokens.pop()
    return "".join(tokens)


def display_name(name: str) -> str:
    """A registrant's name without its legal form and place prefix, case kept (for reports)."""
    words = re.sub(r"\s+", " ", name.replace(",", " ")).strip().split(" ")
    while (
        len(words) > 1
        and _TOKEN.findall(words[0].casefold())
        and all(t in PLACE_PREFIXES for t in _TOKEN.findall(words[0].casefold()))
    ):
        words.pop(0)
    while len(words) > 1 and all(t in LEGAL_FORMS for t in _TOKEN.findall(words[-1].casefold())):
        words.pop()
    return " ".join(words).strip(" .,-") or name.strip()


class MacRole(StrEnum):
    """What a maker's MAC prefix says about the device that carries it."""

    MAKER = "maker"
    """A camera specialist: its NICs are in its own products (Hikvision, Dahua, Axis...)."""
    GENERAL = "general"
    """A reviewed maker of many product kinds: the MAC names the maker, not the device type."""
    ODM = "odm"
    """A module, chip or contract maker whose NICs end up in other brands' devices."""
    UNREVIEWED = "unreviewed"
    """An IEEE registrant we have not reviewed."""


class Standing(StrEnum):
    REVIEWED = "reviewed"
    """In vendors.txt or aliases.yaml."""
    REGISTRANT = "registrant"
    """An IEEE registrant, not reviewed."""


@dataclass(frozen=True, slots=True)
class VendorHit:
    canonical: str
    standing: Standing
    mac_role: MacRole
    matched: str
    """The registry name that matched (an alias, a registrant), for the evidence note."""


@dataclass(frozen=True, slots=True)
class AliasEntry:
    vendor: str
    aliases: tuple[str, ...]
    mac_role: MacRole
    source: str


@dataclass(frozen=True, slots=True)
class AliasData:
    entries: tuple[AliasEntry, ...]
    placeholders: tuple[re.Pattern[str], ...]
    placeholder_source: str
    firmware: tuple[re.Pattern[str], ...] = ()
    """Firmware/software names devices put in the maker field (OpenWrt): a brand, not a maker."""


def parse_aliases(text: str, path: str = "identifiers/aliases.yaml") -> AliasData:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise DataFileError(path, f"not valid YAML: {exc}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("vendors"), list):
        raise DataFileError(path, "file: needs a 'vendors' list")
    unknown = sorted(str(k) for k in set(doc) - _FILE_KEYS)
    if unknown:
        raise DataFileError(path, f"file: unknown keys {unknown}")
    version = doc.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise DataFileError(path, "file: 'version' must be a whole number from 1")
    for key in ("placeholder_source", "firmware_source"):
        if not isinstance(doc.get(key, ""), str):
            raise DataFileError(path, f"file: '{key}' must be text")
    entries: list[AliasEntry] = []
    for i, raw in enumerate(doc["vendors"]):
        where = f"vendor #{i + 1}"
        if not isinstance(raw, dict) or not _is_text(raw.get("vendor")):
            raise DataFileError(path, f"{where}: needs 'vendor' (text)")
        where = f"vendor {raw['vendor']!r}"
        unknown = sorted(str(k) for k in set(raw) - _VENDOR_KEYS)
        if unknown:
            raise DataFileError(path, f"{where}: unknown keys {unknown}")
        aliases = raw.get("aliases") or []
        if not isinstance(raw.get("aliases", []), list | None) or not all(
            isinstance(a, str) for a in aliases
        ):
            raise DataFileError(path, f"{where}: 'aliases' must be a list of text")
        role_text = raw.get("mac", MacRole.GENERAL.value)
        if not isinstance(role_text, str) or role_text not in _DECLARED_ROLES:
            raise DataFileError(path, f"{where}: 'mac' must be maker, general or odm")
        role = MacRole(role_text)
        if not _is_text(raw.get("source")):
            raise DataFileError(path, f"{where}: 'source' must be text")
        entries.append(AliasEntry(raw["vendor"], tuple(aliases), role, raw["source"]))
    return AliasData(
        tuple(entries),
        _patterns(doc.get("placeholders"), path, "placeholder"),
        str(doc.get("placeholder_source", "")),
        _patterns(doc.get("firmware"), path, "firmware"),
    )


_FILE_KEYS = frozenset(
    {"version", "vendors", "placeholder_source", "placeholders", "firmware_source", "firmware"}
)
_VENDOR_KEYS = frozenset({"vendor", "aliases", "mac", "source"})
#: The roles a reviewer declares; "unreviewed" is what the registry says of a registrant.
_DECLARED_ROLES = frozenset({MacRole.MAKER.value, MacRole.GENERAL.value, MacRole.ODM.value})


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _patterns(raw: object, path: str, what: str) -> tuple[re.Pattern[str], ...]:
    if raw is not None and not isinstance(raw, list):
        raise DataFileError(path, f"file: the {what} patterns must be a list")
    out: list[re.Pattern[str]] = []
    for pat in raw or []:
        if not isinstance(pat, str):
            raise DataFileError(path, f"{what} {pat!r}: a pattern must be text")
        try:
            out.append(re.compile(pat, re.IGNORECASE))
        except re.error as exc:
            raise DataFileError(path, f"{what} {pat!r}: bad pattern: {exc}") from None
    return tuple(out)


def load_aliases(root: Traversable | Path) -> AliasData:
    path = root / "identifiers" / "aliases.yaml"
    return parse_aliases(path.read_text(encoding="utf-8"))


#: A single word holding a digit is a model number, not a maker ("C6CN", "DS-2CD2143G2-I").
_MODEL_LIKE = re.compile(r"^(?=[\w./-]*\d)[\w./-]{2,40}$")


class VendorRegistry:
    """Resolve any maker name to its canonical name; know placeholders that are not makers."""

    def __init__(
        self,
        reviewed: Iterable[str],
        aliases: AliasData,
        registrants: Iterable[str] = (),
    ) -> None:
        self._reviewed: dict[str, VendorHit] = {}
        self._by_first_word: dict[str, VendorHit] = {}
        self._pending: Iterator[str] | None = iter(registrants)
        # Probe workers identify hosts at once: one of them reads the registrants, whole.
        self._pending_lock = threading.Lock()
        self._names: list[str] = []
        self._lower: list[str] = []
        self.aliases = aliases
        roles = {e.vendor.casefold(): e.mac_role for e in aliases.entries}
        for name in reviewed:
            role = roles.get(name.casefold(), MacRole.GENERAL)
            self._add(name, name, role)
        for entry in aliases.entries:
            self._add(entry.vendor, entry.vendor, entry.mac_role)
            for alias in entry.aliases:
                self._add(alias, entry.vendor, entry.mac_role)

    def _add(self, name: str, canonical: str, role: MacRole) -> None:
        key = name_key(name)
        if not key:
            return
        hit = VendorHit(canonical, Standing.REVIEWED, role, name)
        self._reviewed.setdefault(key, hit)
        first = _TOKEN.findall(name.casefold().replace("-", ""))
        if len(first) == 1 and len(key) >= 3:
            self._by_first_word.setdefault(key, hit)

    def _load_registrants(self) -> None:
        # Read on first use: a short CLI run that never meets an unknown maker skips the work.
        if self._pending is None:
            return
        with self._pending_lock:
            if self._pending is not None:
                names = list(dict.fromkeys(self._pending))
                self._names, self._lower = names, [n.lower() for n in names]
                self._pending = None

    def _registrant(self, name: str, key: str) -> str | None:
        """The IEEE registrant whose key is ``key``; only names sharing a word are keyed."""
        self._load_registrants()
        words = [w for w in _TOKEN.findall(name.lower()) if w not in PLACE_PREFIXES]
        if not words:
            return None
        probe = words[0]
        for low, original in zip(self._lower, self._names, strict=True):
            if probe in low and name_key(original) == key:
                return original
        return None

    def reviewed_names(self) -> Mapping[str, VendorHit]:
        return self._reviewed

    @lru_cache(maxsize=8192)  # noqa: B019 -- the registry lives as long as the process
    def resolve(self, name: str, loose: bool = True) -> VendorHit | None:
        """The canonical maker for ``name``, or None when no source knows it.

        ``loose`` also accepts a reviewed one-word maker followed by other words ("Honeywell
        Building Solutions"); registrant names (MACs) are matched strictly, because there
        "Shanghai Dahua Scale Factory" is a scale maker, not Dahua.
        """
        key = name_key(name)
        if not key:
            return None
        hit = self._reviewed.get(key)
        if hit is not None:
            return hit
        registrant = self._registrant(name, key)
        if registrant is not None:
            shown = display_name(registrant)
            return VendorHit(shown, Standing.REGISTRANT, MacRole.UNREVIEWED, registrant)
        # "Honeywell Building Solutions", "Sony Semiconductor": a reviewed one-word maker first.
        words = _TOKEN.findall(
            re.sub(
                r"(?<=[a-z0-9])-(?=[a-z0-9])", "", unicodedata.normalize("NFKC", name).casefold()
            )
        )
        while words and words[0] in PLACE_PREFIXES:
            words.pop(0)
        if loose and len(words) > 1:
            return self._by_first_word.get(words[0])
        return None

    @lru_cache(maxsize=16384)  # noqa: B019 -- the registry lives as long as the process
    def resolve_registrant(self, registrant: str) -> VendorHit:
        """An IEEE registrant's maker: a reviewed one by key, else the registrant itself.

        Matched strictly (no first-word guess): "Shanghai Dahua Scale Factory" is not Dahua.
        """
        hit = self._reviewed.get(name_key(registrant))
        if hit is not None:
            return hit
        shown = display_name(registrant)
        return VendorHit(shown, Standing.REGISTRANT, MacRole.UNREVIEWED, registrant)

    def is_firmware(self, name: str) -> bool:
        """A firmware or software project declared as the maker (OpenWrt): a brand only."""
        text = name.strip()
        return any(p.fullmatch(text) for p in self.aliases.firmware)

    def is_placeholder(self, name: str) -> bool:
        """A declared 'maker' that is no maker: a product word, a protocol, a model number."""
        text = name.strip()
        if not text or len(text) > 80:
            return True
        if any(p.fullmatch(text) for p in self.aliases.placeholders):
            return True
        # A single word with a digit looks like a model number, unless a maker is called so (2N).
        return bool(_MODEL_LIKE.fullmatch(text)) and self.resolve(text) is None
