"""Locate the data camaudit reads: the shipped folders, and the data bundle the user installed.

``fingerprints/`` (the reviewed data) ships in the package. A signed data bundle installed with
``camaudit data update`` replaces some of its parts (regulatory, brands, oui, fingerprints) as
a whole; every report names which data it used (``bundle_data_version``), so a bundle never
replaces the shipped data silently.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import date
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import platformdirs
import yaml

from auditor.models import DataVersion

_DATA_DIRS = ("fingerprints", "reports")
ENV_DATA_DIR = "CAMAUDIT_DATA_DIR"
UPDATE_COMMAND = "camaudit data update BUNDLE"

_root_override: Path | None = None


def data_dir(name: str) -> Traversable:
    """Return the shipped data folder ``name`` ("fingerprints" or "reports").

    An installed wheel carries them as ``auditor/_data/<name>`` (hatch force-include); an editable
    install or a source checkout has them at the top of the repository, next to ``auditor/``.
    """
    if name not in _DATA_DIRS:
        raise ValueError(f"unknown data folder {name!r}")
    packaged = resources.files("auditor") / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"camaudit's {name}/ data folder is missing from this installation; reinstall the package"
    )


def shipped_fingerprints_dir() -> Traversable:
    return data_dir("fingerprints")


def reports_dir() -> Traversable:
    return data_dir("reports")


# --- the user's data folder and the bundle in use -----------------------------------------------


def data_root() -> Path:
    """Where bundles are installed: --data-dir, else $CAMAUDIT_DATA_DIR, else the user's folder."""
    if _root_override is not None:
        return _root_override
    env = os.environ.get(ENV_DATA_DIR, "").strip()
    if env:
        return Path(env)
    return Path(platformdirs.user_data_dir("camaudit", appauthor=False)) / "data"


def use_data_root(path: Path | None) -> None:
    """Point this process at another data folder (``camaudit --data-dir``, air-gapped sites)."""
    global _root_override
    if path == _root_override:
        return
    _root_override = path
    forget_loaded_data()


@dataclass(frozen=True, slots=True)
class ShippedData:
    version: str
    as_of: date
    max_age_days: int


@dataclass(frozen=True, slots=True)
class DataInUse:
    """Which data this process reads, and why (for `data status` and every report)."""

    shipped: ShippedData
    bundle: Any | None
    """The active ``databundle.store.Installed`` when its data is used, else None."""
    note: str = ""
    """Why an installed bundle is not used, when it is not."""
    ieee: Path | None = None
    """The MAC registry built from IEEE files by `data update DIR`, when it is used."""
    ieee_as_of: date | None = None
    ieee_note: str = ""
    """Why an imported IEEE registry is not used, when it is not."""

    @property
    def as_of(self) -> date:
        return self.bundle.manifest.as_of if self.bundle is not None else self.shipped.as_of

    def label(self) -> str:
        if self.bundle is not None:
            m = self.bundle.manifest
            parts = ", ".join(m.components)
            label = f"bundle {m.version} ({parts}; signed by key {self.bundle.key_id})"
        else:
            from auditor import __version__

            label = f"shipped with camaudit {__version__} (regulatory data {self.shipped.version})"
        if self.ieee is not None:
            label += f"; MAC registry from IEEE files as of {self.ieee_as_of}"
        return label


def _shipped_meta() -> ShippedData:
    node = shipped_fingerprints_dir() / "regulatory" / "dataset.yaml"
    doc = yaml.safe_load(node.read_text(encoding="utf-8")) or {}
    as_of = doc.get("as_of")
    return ShippedData(
        version=str(doc.get("version", "unknown")),
        as_of=as_of if isinstance(as_of, date) else date.min,
        max_age_days=int(doc.get("max_age_days", 90)),
    )


@functools.cache
def _in_use(root: Path) -> DataInUse:
    from auditor.databundle.signing import trusted_keys
    from auditor.databundle.store import DataDir

    shipped = _shipped_meta()
    installed = DataDir(root).active(trusted_keys())
    use = DataInUse(shipped, installed)
    if installed is not None and installed.manifest.as_of < shipped.as_of:
        # An upgrade of camaudit brought newer data than the bundle installed earlier.
        use = DataInUse(
            shipped,
            None,
            f"installed bundle {installed.manifest.version} (as of {installed.manifest.as_of}) "
            f"is older than the data shipped with this camaudit (as of {shipped.as_of}); "
            "the shipped data is used",
        )
    return _with_ieee(use, root)


def ieee_registry_path(root: Path) -> Path:
    """Where `data update DIR` writes the MAC registry it builds from the IEEE's CSV files."""
    return root / "local" / "oui" / "oui.tsv"


def _with_ieee(use: DataInUse, root: Path) -> DataInUse:
    """Use the registry built from IEEE files when it is newer than the one in the data."""
    path = ieee_registry_path(root)
    if not path.is_file():
        return use
    theirs = _header_date(path.read_text(encoding="utf-8"))
    base = _layered_dir(use, ieee=False) / "oui" / "oui.tsv"
    ours = _header_date(base.read_text(encoding="utf-8")) if base.is_file() else None
    if theirs is None or (ours is not None and theirs <= ours):
        note = (
            f"the MAC registry built from IEEE files (as of {theirs}) is not newer than the "
            f"one in the data in use (as of {ours}); it is not used"
        )
        return replace(use, ieee_note=note)
    return replace(use, ieee=path.parent.parent, ieee_as_of=theirs)


def data_in_use() -> DataInUse:
    return _in_use(data_root())


def forget_loaded_data() -> None:
    """Drop every cached load, so that the next one reads the data now in use (tests, update)."""
    _in_use.cache_clear()
    from auditor.exposure import brands, data
    from auditor.identify import Identifier

    for cached in (getattr(data, "_shipped", None), getattr(brands, "_of_data_in_use", None)):
        clear = getattr(cached, "cache_clear", None)
        if clear is not None:
            clear()
    Identifier._default = None


class LayeredData(Traversable):
    """The data folder as the loaders see it: each component from the layer that provides it.

    Only the top level is layered: each entry belongs to one component (regulatory, brands,
    oui, fingerprints), and a component comes whole from the folder given for it (a bundle, or
    the registry built from IEEE files), else whole from the shipped data.
    """

    def __init__(self, layers: Mapping[str, Traversable], shipped: Traversable) -> None:
        self._layers = dict(layers)
        self._shipped = shipped

    def _base(self, name: str) -> Traversable:
        from auditor.databundle.manifest import component_of

        return self._layers.get(component_of(name), self._shipped)

    def iterdir(self) -> Iterator[Traversable]:
        seen: set[str] = set()
        for base in (*self._layers.values(), self._shipped):
            if not base.is_dir():
                continue
            for node in base.iterdir():
                if node.name not in seen and self._base(node.name) is base:
                    seen.add(node.name)
                    yield node

    def is_dir(self) -> bool:
        return True

    def is_file(self) -> bool:
        return False

    def joinpath(self, *descendants: Any) -> Traversable:
        parts = [p for d in descendants for p in str(d).split("/") if p]
        if not parts:
            return self
        return self._base(parts[0]).joinpath(*parts)

    def open(self, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        raise IsADirectoryError("the data folder is a folder")

    def read_bytes(self) -> bytes:
        raise IsADirectoryError("the data folder is a folder")

    def read_text(self, encoding: str | None = None) -> str:
        raise IsADirectoryError("the data folder is a folder")

    @property
    def name(self) -> str:
        return "fingerprints"

    def __str__(self) -> str:
        return ", ".join(f"{c}: {b}" for c, b in self._layers.items()) + f" over {self._shipped}"


def layered(bundle_data: Path, components: frozenset[str]) -> Traversable:
    """A bundle's data folder over the shipped data."""
    return LayeredData(dict.fromkeys(components, bundle_data), shipped_fingerprints_dir())


def _layered_dir(use: DataInUse, *, ieee: bool = True) -> Traversable:
    layers: dict[str, Traversable] = {}
    if use.bundle is not None:
        layers = dict.fromkeys(use.bundle.manifest.components, use.bundle.data_path)
    if ieee and use.ieee is not None:
        layers["oui"] = use.ieee
    if not layers:
        return shipped_fingerprints_dir()
    return LayeredData(layers, shipped_fingerprints_dir())


def fingerprints_dir() -> Traversable:
    """The data folder in use: the shipped one, with the installed bundle and registry over it."""
    return _layered_dir(data_in_use())


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in node.iterdir():
        name = f"{prefix}{child.name}"
        if child.is_dir():
            out.extend(_walk(child, name + "/"))
        elif child.is_file():
            out.append((name, child))
    return out


def fingerprint_data_version() -> DataVersion:
    """Identify the fingerprint data an audit used: a digest over every data file in use.

    Reviewers change data far more often than code, so the tool version alone would not say
    which fingerprints produced a finding.
    """
    h = hashlib.sha256()
    for name, node in sorted(_walk(fingerprints_dir()), key=lambda item: item[0]):
        h.update(name.encode())
        h.update(b"\x00")
        h.update(node.read_bytes())
        h.update(b"\x00")
    return DataVersion(name="fingerprints", version=f"sha256:{h.hexdigest()[:16]}")


BUNDLE_DATA = "data bundle"


@dataclass(frozen=True, slots=True)
class PartDate:
    """One part of the data in use, with its own as-of date (for `camaudit data status`)."""

    part: str
    version: str
    as_of: date | None
    origin: str
    """"bundle X" or "shipped"."""


def _header_date(text: str) -> date | None:
    for line in text.splitlines()[:40]:
        if line.startswith("# as_of:"):
            try:
                return date.fromisoformat(line.split(":", 1)[1].strip())
            except ValueError:
                return None
    return None


def part_dates() -> tuple[PartDate, ...]:
    """The as-of date of each part of the data in use: regulatory data, brands, MAC registry."""
    use = data_in_use()
    root = fingerprints_dir()
    provided: frozenset[str] = frozenset()
    label = "shipped"
    if use.bundle is not None:
        provided = frozenset(use.bundle.manifest.components)
        label = f"bundle {use.bundle.manifest.version}"
    origin = {
        part: (label if part in provided else "shipped")
        for part in ("regulatory", "brands", "oui", "fingerprints")
    }
    if use.ieee is not None:
        origin["oui"] = f"IEEE files, imported in {use.ieee}"
    out = []
    reg = yaml.safe_load((root / "regulatory" / "dataset.yaml").read_text(encoding="utf-8"))
    reg_as_of = reg.get("as_of") if isinstance(reg, dict) else None
    out.append(
        PartDate(
            "regulatory data",
            str(reg.get("version", "?")) if isinstance(reg, dict) else "?",
            reg_as_of if isinstance(reg_as_of, date) else None,
            origin["regulatory"],
        )
    )
    brands = root / "brands.yaml"
    if brands.is_file():
        doc = yaml.safe_load(brands.read_text(encoding="utf-8")) or {}
        as_of = doc.get("as_of") if isinstance(doc, dict) else None
        count = len(doc.get("brands") or []) if isinstance(doc, dict) else 0
        out.append(
            PartDate(
                "brands",
                f"{count} brands",
                as_of if isinstance(as_of, date) else None,
                origin["brands"],
            )
        )
    oui = root / "oui" / "oui.tsv"
    if oui.is_file():
        text = oui.read_text(encoding="utf-8")
        rows = sum(1 for line in text.splitlines() if line and not line.startswith("#"))
        out.append(PartDate("MAC registry", f"{rows} prefixes", _header_date(text), origin["oui"]))
    out.append(
        PartDate("fingerprints", fingerprint_data_version().version, None, origin["fingerprints"])
    )
    return tuple(out)


def bundle_data_version(today: date) -> DataVersion:
    """The data bundle this process uses, as a report names it (with its age against ``today``)."""
    use = data_in_use()
    if use.bundle is not None:
        m = use.bundle.manifest
        source = f"installed in {use.bundle.path}" + (
            f"; sources: {'; '.join(m.sources)}" if m.sources else ""
        )
    else:
        source = "the camaudit package (no newer bundle installed"
        source += f": {use.note})" if use.note else "; update with `camaudit data update`)"
    stale = (today - use.as_of).days > use.shipped.max_age_days
    return DataVersion(
        name=BUNDLE_DATA, version=use.label(), as_of=use.as_of, source=source, stale=stale
    )
