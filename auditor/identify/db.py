"""The fingerprint database: load and schema-check the reviewed YAML files in ``fingerprints/``.

One file per observation kind (``matches:``). Each fingerprint has an id, a description, a
regular expression (named or numbered captures), the attributes it asserts (constants or ``$n`` /
``$name`` capture references), optionally the extracted ``field`` it applies to, a weight, a
public source and real examples. Any schema problem raises ``DataFileError`` naming the file and
the entry, so a contributor sees exactly what to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import DataFileError
from auditor.models import DeviceType, ObservationKind

# libyaml's C loader when present: the database loads about 4x faster; same safe subset.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: Attributes a fingerprint may assert; anything else is a typo caught at load time.
KNOWN_ATTRS = frozenset(
    {
        "hw.vendor",
        "hw.brand",
        "hw.declared",
        "hw.model",
        "hw.firmware",
        "hw.serial",
        "hw.device",
        "hw.mac",
        "hw.platform",
        "hw.component.soc",
        "hw.component.soc.model",
        "service.product",
        "service.version",
        "service.vendor",
    }
)
_REF = re.compile(r"\$(\d+|[A-Za-z_][A-Za-z0-9_]*)")
_FLAGS = {"ignorecase": re.IGNORECASE, "dotall": re.DOTALL, "multiline": re.MULTILINE}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    """The raw observation (for structured kinds the whole document)."""
    expect: Mapping[str, str]
    source: str
    field_value: str | None = None
    """For field fingerprints: a bare field value, used when the example is not a full document."""


@dataclass(frozen=True, slots=True)
class Fingerprint:
    id: str
    description: str
    pattern: str
    regex: re.Pattern[str]
    asserts: Mapping[str, str]
    weight: float
    source: str
    field: str | None = None
    """The extracted field this fingerprint matches, or None for the raw observation text."""
    examples: tuple[Example, ...] = ()
    index: int = 0
    shared: bool = False
    """A string several makers' firmware share (an SDK, ODM or chip vendor's): it supports a
    maker named by other evidence but never names one alone."""

    def interpolate(self, m: re.Match[str]) -> dict[str, str]:
        """The asserted attributes with capture references filled in; empty captures dropped."""
        out: dict[str, str] = {}
        for name, template in self.asserts.items():
            value = _REF.sub(lambda r: _group(m, r.group(1)), template).strip()
            if value:
                out[name] = value
        return out


def _group(m: re.Match[str], ref: str) -> str:
    value = m.group(int(ref)) if ref.isdigit() else m.group(ref)
    return value or ""


@dataclass(frozen=True, slots=True)
class FingerprintFile:
    path: str
    kind: ObservationKind
    preference: float
    fingerprints: tuple[Fingerprint, ...]
    description: str = ""


@dataclass(slots=True)
class Database:
    files: dict[ObservationKind, FingerprintFile] = field(default_factory=dict)

    @property
    def fingerprints(self) -> Iterable[Fingerprint]:
        for f in self.files.values():
            yield from f.fingerprints


def _require(cond: bool, path: str, where: str, message: str) -> None:
    if not cond:
        raise DataFileError(path, f"{where}: {message}")


def _str(v: Any, path: str, where: str, name: str, *, optional: bool = False) -> str:
    if v is None and optional:
        return ""
    _require(
        isinstance(v, str) and bool(v.strip()), path, where, f"'{name}' must be a non-empty string"
    )
    return str(v)


def _number(v: Any) -> bool:
    # YAML's true/false are ints to Python; a weight of "true" is a typo, not 1.0.
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _optional(
    raw: Mapping[str, Any], key: str, kind: type, path: str, where: str, what: str
) -> Any:
    """``raw[key]``, absent or null as an empty ``kind``; any other type is refused."""
    value = raw.get(key)
    if value is None:
        return kind()
    _require(isinstance(value, kind), path, where, f"'{key}' must be {what}")
    return value


def _capture_refs(asserts: Mapping[str, str]) -> set[str]:
    return {r for v in asserts.values() for r in _REF.findall(v)}


def _parse_example(raw: Any, path: str, where: str, default_source: str) -> Example:
    _require(isinstance(raw, dict), path, where, "an example must be a mapping with 'text'")
    keys = set(raw) - {"text", "expect", "source", "value"}
    _require(not keys, path, where, f"unknown example keys {sorted(keys)}")
    text = raw.get("text")
    value = raw.get("value")
    _require(
        text is not None or value is not None,
        path,
        where,
        "an example needs 'text' (the raw observation) or 'value' (a field value)",
    )
    for key, given in (("text", text), ("value", value)):
        _require(given is None or isinstance(given, str), path, where, f"'{key}' must be text")
    expect = _optional(raw, "expect", dict, path, where, "a mapping")
    for name, wanted in expect.items():
        _require(isinstance(wanted, str), path, where, f"expected {name!r} must be text")
    source = raw.get("source")
    source = default_source if source is None else source
    return Example(
        text=str(text) if text is not None else "",
        expect={str(k): str(v) for k, v in expect.items()},
        source=_str(source, path, where, "source"),
        field_value=str(value) if value is not None else None,
    )


def _parse_fingerprint(raw: Any, path: str, index: int, preference: float) -> Fingerprint:
    where = f"fingerprint #{index + 1}"
    _require(isinstance(raw, dict), path, where, "must be a mapping")
    fid = _str(raw.get("id"), path, where, "id")
    where = f"fingerprint {fid!r}"
    allowed = {
        "id", "description", "pattern", "flags", "field", "assert", "weight", "source", "shared",
    }  # fmt: skip
    unknown = set(raw) - allowed - {"examples"}
    _require(not unknown, path, where, f"unknown keys {sorted(unknown)}")
    description = _str(raw.get("description"), path, where, "description")
    pattern = _str(raw.get("pattern"), path, where, "pattern")
    flags = 0
    for flag in _optional(raw, "flags", list, path, where, "a list"):
        known = isinstance(flag, str) and flag in _FLAGS
        _require(known, path, where, f"unknown flag {flag!r} (use {sorted(_FLAGS)})")
        flags |= _FLAGS[flag]
    try:
        regex = re.compile(pattern, flags)
    except re.error as exc:
        raise DataFileError(path, f"{where}: bad pattern: {exc}") from None
    asserts_raw = _optional(raw, "assert", dict, path, where, "a mapping")
    for name, value in asserts_raw.items():
        _require(name in KNOWN_ATTRS, path, where, f"unknown attribute {name!r}")
        _require(isinstance(value, str), path, where, f"attribute {name!r} must be text")
        _require(bool(value.strip()), path, where, f"attribute {name!r} is empty")
    asserts = {str(k): str(v) for k, v in asserts_raw.items()}
    device = asserts.get("hw.device")
    if device is not None:
        valid = {d.value for d in DeviceType} - {DeviceType.UNKNOWN.value}
        try:
            canonical = DeviceType(device).value
        except ValueError:
            canonical = None
        _require(
            canonical in valid, path, where, f"hw.device {device!r} is not one of {sorted(valid)}"
        )
        # One vocabulary: a deprecated word (README: "camera") is stored as its canonical value,
        # so evidence, reports and the JSON never show two words for one type.
        asserts["hw.device"] = str(canonical)
    # Every capture group is used by an attribute and every reference names a real group.
    refs = _capture_refs(asserts)
    numbered = {str(i) for i in range(0, regex.groups + 1)}
    named = set(regex.groupindex)
    for ref in refs:
        _require(ref in numbered or ref in named, path, where, f"${ref} is not a capture group")
    names_by_index = {i: n for n, i in regex.groupindex.items()}
    unused = [
        i
        for i in range(1, regex.groups + 1)
        if str(i) not in refs and names_by_index.get(i) not in refs
    ]
    _require(not unused, path, where, f"capture group(s) {unused} not used by any attribute")
    weight = raw.get("weight", preference)
    _require(
        _number(weight) and 0.0 < float(weight) <= 1.0,
        path,
        where,
        "weight must be a number in (0, 1]",
    )
    source = _str(raw.get("source"), path, where, "source")
    shared = raw.get("shared", False)
    _require(isinstance(shared, bool), path, where, "'shared' must be true or false")
    field_name = raw.get("field")
    _require(field_name is None or isinstance(field_name, str), path, where, "'field' must be text")
    examples_raw = _optional(raw, "examples", list, path, where, "a list")
    examples = tuple(
        _parse_example(e, path, f"{where} example #{n + 1}", source)
        for n, e in enumerate(examples_raw)
    )
    return Fingerprint(
        id=fid,
        description=description,
        pattern=pattern,
        regex=regex,
        asserts=asserts,
        weight=float(weight),
        source=source,
        field=field_name,
        examples=examples,
        index=index,
        shared=shared,
    )


def parse_file(text: str, path: str) -> FingerprintFile:
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        raise DataFileError(path, f"not valid YAML: {exc}") from None
    _require(isinstance(doc, dict), path, "file", "top level must be a mapping")
    unknown = set(doc) - {"matches", "preference", "description", "fingerprints"}
    _require(not unknown, path, "file", f"unknown keys {sorted(unknown)}")
    try:
        kind = ObservationKind(doc.get("matches"))
    except ValueError:
        raise DataFileError(
            path, f"file: 'matches' {doc.get('matches')!r} is not an observation kind"
        ) from None
    preference = doc.get("preference")
    _require(
        _number(preference) and 0.1 <= float(preference) <= 0.9,
        path,
        "file",
        "'preference' must be a number within 0.1..0.9",
    )
    entries = doc.get("fingerprints")
    _require(
        isinstance(entries, list) and bool(entries),
        path,
        "file",
        "'fingerprints' must be a non-empty list",
    )
    description = doc.get("description")
    _require(
        description is None or isinstance(description, str),
        path,
        "file",
        "'description' must be text",
    )
    fps = tuple(_parse_fingerprint(e, path, i, float(preference)) for i, e in enumerate(entries))
    return FingerprintFile(
        path=path,
        kind=kind,
        preference=float(preference),
        fingerprints=fps,
        description=description or "",
    )


def load_database(root: Traversable | Path) -> Database:
    """Load every ``*.yaml`` fingerprint file directly under ``root`` (brands.yaml excluded)."""
    db = Database()
    entries = sorted((e for e in root.iterdir() if e.name.endswith(".yaml")), key=lambda e: e.name)
    for entry in entries:
        if entry.name == "brands.yaml":
            continue
        ff = parse_file(entry.read_text(encoding="utf-8"), entry.name)
        if ff.kind in db.files:
            raise DataFileError(
                entry.name,
                f"file: a second file for kind {ff.kind.value!r} (first: {db.files[ff.kind].path})",
            )
        db.files[ff.kind] = ff
    return db


def load_vendors(root: Traversable | Path) -> list[str]:
    text = (root / "identifiers" / "vendors.txt").read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
