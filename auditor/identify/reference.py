"""Reference tables beside the fingerprints: brands (brand -> true maker) and the IEEE OUI table."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import DataFileError
from auditor.models import normalise_mac

# libyaml's C loader when present: the database loads about 4x faster; same safe subset.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

CONFIDENCES = {"high": 0.9, "medium": 0.7, "low": 0.5}
"""How much a brand row's link is worth when it is the only route from a brand to a maker."""


@dataclass(frozen=True, slots=True)
class BrandLine:
    """A model line of a brand made by someone else (e.g. Honeywell HRGX by Hikvision)."""

    model_pattern: re.Pattern[str]
    manufacturer: str
    confidence: str
    source: str


@dataclass(frozen=True, slots=True)
class Ownership:
    """Who owned a brand when (e.g. Lorex: Dahua 2018-02-06..2022-11-24, then Skywatch)."""

    owner: str
    start: date
    until: date | None
    source: str

    def describe(self) -> str:
        end = self.until.isoformat() if self.until else "now"
        return f"{self.owner} {self.start.isoformat()}..{end}"


@dataclass(frozen=True, slots=True)
class Brand:
    name: str
    aliases: tuple[str, ...]
    manufacturer: str
    relationship: str
    confidence: str
    source: str
    as_of: date | None
    uncertain: bool = False
    note: str = ""
    lines: tuple[BrandLine, ...] = ()
    own_brand: bool = False
    """The maker's own or group brand (EZVIZ, Imou, UNV...): presenting it is not an OEM relabel."""
    ownership: tuple[Ownership, ...] = ()
    video_only: bool = False
    """The link to ``manufacturer`` holds for the brand's video-surveillance devices only
    (Panasonic: i-PRO makes the Panasonic-branded security cameras, Panasonic everything else);
    any other device of the brand is made by the brand's owner, named as the brand."""

    @property
    def is_own_brand(self) -> bool:
        return self.own_brand or self.name.casefold() == self.manufacturer.casefold()

    def maker_for_model(self, model: str | None) -> tuple[str, str, str]:
        """(manufacturer, confidence, source) for a device of this brand and, if known, model."""
        if model:
            for line in self.lines:
                if line.model_pattern.search(model):
                    return line.manufacturer, line.confidence, line.source
        return self.manufacturer, self.confidence, self.source


@dataclass(frozen=True, slots=True)
class BrandTable:
    brands: tuple[Brand, ...]
    by_name: Mapping[str, Brand]
    """Case-folded brand names and aliases -> Brand."""

    def lookup(self, name: str) -> Brand | None:
        return self.by_name.get(name.strip().casefold())


def _req(cond: bool, path: str, where: str, msg: str) -> None:
    if not cond:
        raise DataFileError(path, f"{where}: {msg}")


def _text(v: Any) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _date(v: Any) -> date | None:
    """A YAML date, or the same date quoted (a YAML 1.2 reader, like an editor's, sees a string)."""
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            return None
    return None


def _list(raw: Mapping[str, Any], key: str, path: str, where: str) -> list[Any]:
    value = raw.get(key)
    _req(value is None or isinstance(value, list), path, where, f"'{key}' must be a list")
    return value or []


_FILE_KEYS = frozenset({"version", "as_of", "brands"})
_BRAND_KEYS = frozenset(
    {
        "brand", "aliases", "manufacturer", "relationship", "confidence", "source", "as_of",
        "uncertain", "note", "own_brand", "video_only", "lines", "ownership",
    }
)  # fmt: skip
_LINE_KEYS = frozenset({"model_pattern", "manufacturer", "confidence", "source"})
_OWNERSHIP_KEYS = frozenset({"owner", "from", "until", "source"})


def _known_keys(raw: Mapping[str, Any], allowed: frozenset[str], path: str, where: str) -> None:
    unknown = sorted(str(k) for k in set(raw) - allowed)
    _req(not unknown, path, where, f"unknown keys {unknown}")


def parse_brands(text: str, path: str = "brands.yaml") -> BrandTable:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise DataFileError(path, f"not valid YAML: {exc}") from None
    _req(
        isinstance(doc, dict) and isinstance(doc.get("brands"), list),
        path,
        "file",
        "needs a 'brands' list",
    )
    _known_keys(doc, _FILE_KEYS, path, "file")
    version = doc.get("version", 1)
    _req(
        isinstance(version, int) and not isinstance(version, bool) and version >= 1,
        path,
        "file",
        "'version' must be a whole number from 1",
    )
    _req(
        "as_of" not in doc or _date(doc["as_of"]) is not None,
        path,
        "file",
        "'as_of' must be a date (YYYY-MM-DD)",
    )
    brands: list[Brand] = []
    by_name: dict[str, Brand] = {}
    for i, raw in enumerate(doc["brands"]):
        where = f"brand #{i + 1}"
        _req(isinstance(raw, dict), path, where, "must be a mapping")
        name = raw.get("brand")
        _req(_text(name), path, where, "'brand' must be text")
        where = f"brand {name!r}"
        _known_keys(raw, _BRAND_KEYS, path, where)
        for key in ("manufacturer", "relationship", "confidence", "source"):
            _req(_text(raw.get(key)), path, where, f"'{key}' must be text")
        _req(
            raw["confidence"] in CONFIDENCES,
            path,
            where,
            f"confidence must be one of {sorted(CONFIDENCES)}",
        )
        as_of = _date(raw.get("as_of"))
        _req(as_of is not None, path, where, "'as_of' must be a date (YYYY-MM-DD)")
        aliases = _list(raw, "aliases", path, where)
        _req(all(_text(a) for a in aliases), path, where, "'aliases' must be a list of text")
        for key in ("uncertain", "own_brand", "video_only"):
            _req(
                isinstance(raw.get(key, False), bool), path, where, f"'{key}' must be true or false"
            )
        note = raw.get("note")
        _req(note is None or isinstance(note, str), path, where, "'note' must be text")
        lines = tuple(_parse_line(line, path, where) for line in _list(raw, "lines", path, where))
        brand = Brand(
            name=str(name),
            aliases=tuple(str(a) for a in aliases),
            manufacturer=str(raw["manufacturer"]),
            relationship=str(raw["relationship"]),
            confidence=str(raw["confidence"]),
            source=str(raw["source"]),
            as_of=as_of,
            uncertain=raw.get("uncertain", False),
            note=note or "",
            lines=lines,
            own_brand=raw.get("own_brand", False),
            ownership=tuple(
                _parse_ownership(o, path, where) for o in _list(raw, "ownership", path, where)
            ),
            video_only=raw.get("video_only", False),
        )
        brands.append(brand)
        for key in (brand.name, *brand.aliases):
            folded = key.casefold()
            other = by_name.get(folded)
            _req(
                other is None or other is brand,
                path,
                where,
                f"name {key!r} is already used by {other.name if other else ''}",
            )
            by_name[folded] = brand
    return BrandTable(brands=tuple(brands), by_name=by_name)


def _parse_ownership(raw: Any, path: str, where: str) -> Ownership:
    _req(isinstance(raw, dict), path, where, "an ownership period must be a mapping")
    _known_keys(raw, _OWNERSHIP_KEYS, path, f"{where} ownership")
    _req(_text(raw.get("owner")), path, where, "ownership 'owner' must be text")
    start = _date(raw.get("from"))
    _req(start is not None, path, where, "ownership 'from' must be a date")
    until = _date(raw.get("until"))
    _req(
        raw.get("until") is None or until is not None,
        path,
        where,
        "ownership 'until' must be a date",
    )
    _req(_text(raw.get("source")), path, where, "ownership 'source' must be text")
    assert start is not None  # for mypy: _req raised otherwise
    return Ownership(raw["owner"], start, until, raw["source"])


def _parse_line(raw: Any, path: str, where: str) -> BrandLine:
    _req(isinstance(raw, dict), path, where, "a line must be a mapping")
    _known_keys(raw, _LINE_KEYS, path, f"{where} line")
    _req(
        isinstance(raw.get("model_pattern"), str), path, where, "line 'model_pattern' must be text"
    )
    for key in ("manufacturer", "confidence", "source"):
        _req(_text(raw.get(key)), path, where, f"line '{key}' must be text")
    _req(
        raw["confidence"] in CONFIDENCES,
        path,
        where,
        f"line confidence must be one of {sorted(CONFIDENCES)}",
    )
    try:
        rx = re.compile(raw["model_pattern"], re.IGNORECASE)
    except re.error as exc:
        raise DataFileError(path, f"{where}: bad model_pattern: {exc}") from None
    return BrandLine(rx, raw["manufacturer"], raw["confidence"], raw["source"])


@dataclass(frozen=True, slots=True)
class OuiEntry:
    prefix: str
    """Upper-case hex digits, 6 (MA-L), 7 (MA-M) or 9 (MA-S, IAB) long."""
    registrant: str
    """The organisation exactly as the IEEE registry lists it."""
    source: str


_PREFIX = re.compile(r"[0-9A-F]{6}|[0-9A-F]{7}|[0-9A-F]{9}")


class OuiTable:
    """The IEEE assignments by prefix; the 57,000-line file is parsed on the first lookup."""

    def __init__(self, text: str, path: str = "oui/oui.tsv") -> None:
        self._text: str | None = text
        self._path = path
        self._entries: dict[str, str] = {}
        self.sources: dict[str, str] = {}
        self.as_of = ""
        self.provenance = ""
        # The header is read now (it is short and says what the table is); the rows on demand.
        pos = 0
        while text.startswith("#", pos):
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            self._header(text[pos:end])
            pos = end + 1
        if not self.as_of:
            raise DataFileError(path, "the header must give '# as_of: YYYY-MM-DD'")

    def _header(self, line: str) -> None:
        m = re.match(r"#\s+(\S+)\s+=\s+(.*)$", line)
        if m:
            self.sources[m.group(1)] = m.group(2).strip()
        m = re.match(r"#\s*as_of:\s*(\S+)", line)
        if m:
            self.as_of = m.group(1)
        m = re.match(r"#\s*provenance:\s*(.*)$", line)
        if m:
            self.provenance = m.group(1).strip()

    @property
    def entries(self) -> Mapping[str, str]:
        """prefix -> "registrant<TAB>source key" (use ``lookup`` or ``rows`` for the parts)."""
        if self._text is not None:
            self._parse(self._text)
            self._text = None
        return self._entries

    def _parse(self, text: str) -> None:
        # One split per row and no per-row regex: 57,000 rows in a few hundredths of a second.
        # Rows are checked where they are used (lookup) and all at once by `check()`.
        body = [line for line in text.split("\n") if line and line[0] != "#"]
        try:
            self._entries = dict(line.split("\t", 1) for line in body)
        except ValueError:
            bad = next(line for line in body if "\t" not in line)
            raise DataFileError(self._path, f"row {bad[:40]!r} has no registrant column") from None

    def _row(self, prefix: str, raw: str) -> tuple[str, str]:
        registrant, _, source = raw.rpartition("\t")
        if not registrant or source not in self.sources or not _PREFIX.fullmatch(prefix):
            raise DataFileError(
                self._path, f"row {prefix!r}: expected prefix, registrant, declared source"
            )
        return registrant, source

    def check(self) -> None:
        """Validate every row (the verifier and the tests call this; lookups check their row)."""
        for prefix, raw in self.entries.items():
            self._row(prefix, raw)

    def lookup(self, mac: str) -> OuiEntry | None:
        """The most specific registration covering ``mac`` (MA-S/IAB, then MA-M, then MA-L)."""
        digits = normalise_mac(mac).replace(":", "").upper()
        entries = self.entries
        for length in (9, 7, 6):
            prefix = digits[:length]
            raw = entries.get(prefix)
            if raw is not None:
                registrant, source = self._row(prefix, raw)
                return OuiEntry(prefix, registrant, source)
        return None

    def rows(self) -> Iterator[tuple[str, str, str]]:
        """(prefix, registrant, source key) of every row, checked."""
        for prefix, raw in self.entries.items():
            registrant, source = self._row(prefix, raw)
            yield prefix, registrant, source

    def registrants(self) -> Iterator[str]:
        """Every registrant, in prefix order, with repeats (feeds the vendor registry)."""
        for raw in self.entries.values():
            yield raw.rpartition("\t")[0]


def parse_oui(text: str, path: str = "oui/oui.tsv") -> OuiTable:
    """The table; its rows are checked when first used (``entries`` raises DataFileError)."""
    return OuiTable(text, path)


def load_brands(root: Traversable | Path) -> BrandTable:
    return parse_brands((root / "brands.yaml").read_text(encoding="utf-8"), "brands.yaml")


def load_oui(root: Traversable | Path) -> OuiTable:
    return parse_oui((root / "oui" / "oui.tsv").read_text(encoding="utf-8"), "oui/oui.tsv")
