"""What changed between two data sets: facts and listings, not just files.

Each side is read as the loaders would read it (a bundle's components layered over the shipped
data), so a diff says what a user would see change in an assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from importlib.abc import Traversable
from typing import Any

import yaml

from auditor.databundle.manifest import sha256


@dataclass(frozen=True, slots=True)
class Change:
    kind: str
    """"file", "instrument", "entity", "listing", "brand", "oui"."""
    key: str
    change: str
    """"added", "removed" or "changed"."""
    detail: str = ""


@dataclass(frozen=True, slots=True)
class DataDiff:
    old_label: str
    new_label: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    def of(self, kind: str) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.kind == kind)


def _files(root: Traversable, prefix: str = "") -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for child in root.iterdir():
        name = prefix + child.name
        if child.is_dir():
            out.update(_files(child, name + "/"))
        elif child.is_file():
            out[name] = child.read_bytes()
    return out


def _compare(kind: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    out = [Change(kind, k, "added", _short(new[k])) for k in sorted(set(new) - set(old))]
    out += [Change(kind, k, "removed", _short(old[k])) for k in sorted(set(old) - set(new))]
    for k in sorted(set(old) & set(new)):
        if old[k] != new[k]:
            out.append(Change(kind, k, "changed", _delta(old[k], new[k])))
    return out


def _short(value: Any) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, "", ()))[:200]
    return str(value)[:200]


def _delta(old: Any, new: Any) -> str:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        keys = sorted(set(old) | set(new))
        return "; ".join(
            f"{k}: {old.get(k)!s} -> {new.get(k)!s}" for k in keys if old.get(k) != new.get(k)
        )[:400]
    return f"{old} -> {new}"[:400]


def _as_dict(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        out[f.name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def _regulatory(root: Traversable) -> dict[str, dict[str, Any]]:
    from auditor.exposure.data import load_regulatory_data

    data = load_regulatory_data(root / "regulatory")
    return {
        "instrument": {i: _as_dict(v) for i, v in data.instruments.items()},
        "entity": {
            e: {"legal_name": v.legal_name, "source": v.source, "as_of": v.as_of.isoformat()}
            for e, v in data.entities.items()
        },
        "listing": {
            f"{item.entity} x {item.instrument}": _as_dict(item, ("entity", "instrument"))
            for item in data.listings
        },
    }


def _brands(root: Traversable) -> dict[str, Any]:
    node = root / "brands.yaml"
    if not node.is_file():
        return {}
    doc = yaml.safe_load(node.read_text(encoding="utf-8")) or {}
    return {
        str(row.get("brand")): {
            "manufacturer": row.get("manufacturer"),
            "relationship": row.get("relationship"),
            "confidence": row.get("confidence"),
        }
        for row in doc.get("brands") or []
    }


def _oui(root: Traversable) -> dict[str, Any]:
    out: dict[str, Any] = {}
    folder = root / "oui"
    if not folder.is_dir():
        return out
    for node in folder.iterdir():
        if not node.name.endswith(".tsv"):
            continue
        for line in node.read_text(encoding="utf-8").splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if len(cols) >= 2:
                out[cols[0]] = cols[1]  # the registrant, as registered
    return out


def diff_data(old: Traversable, new: Traversable, old_label: str, new_label: str) -> DataDiff:
    changes: list[Change] = []
    old_files = {k: sha256(v) for k, v in _files(old).items()}
    new_files = {k: sha256(v) for k, v in _files(new).items()}
    changes += [Change("file", c.key, c.change) for c in _compare("file", old_files, new_files)]
    reg_old, reg_new = _regulatory(old), _regulatory(new)
    for kind in ("instrument", "entity", "listing"):
        changes += _compare(kind, reg_old[kind], reg_new[kind])
    changes += _compare("brand", _brands(old), _brands(new))
    changes += _compare("oui", _oui(old), _oui(new))
    return DataDiff(old_label, new_label, tuple(changes))
