"""Identification: match observations against the fingerprint database and fuse them.

Public API (the engine and the report code call exactly this)::

    from auditor.identify import Identifier
    ident = Identifier.default()        # the shipped database, loaded once
    identification = ident.identify(observations)
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from importlib.abc import Traversable
from pathlib import Path
from typing import ClassVar

from auditor.identify.db import Database, load_database, load_vendors
from auditor.identify.fusion import ABSTAIN_BELOW, Fusion
from auditor.identify.matcher import Matcher
from auditor.identify.reference import BrandTable, OuiTable, load_brands, load_oui
from auditor.identify.vendors import AliasData, VendorRegistry, load_aliases
from auditor.models import DataVersion, Identification, Observation
from auditor.resources import fingerprints_dir

__all__ = ["ABSTAIN_BELOW", "Identifier", "FingerprintData", "load_data"]


@dataclass(frozen=True, slots=True)
class FingerprintData:
    """Everything under ``fingerprints/`` that identification reads."""

    db: Database
    brands: BrandTable
    oui: OuiTable
    vendors: tuple[str, ...]
    aliases: AliasData


def load_data(root: Traversable | Path | None = None) -> FingerprintData:
    """Load and schema-check the fingerprint data (raises DataFileError naming file and entry)."""
    base = root if root is not None else fingerprints_dir()
    return FingerprintData(
        db=load_database(base),
        brands=load_brands(base),
        oui=load_oui(base),
        vendors=tuple(load_vendors(base)),
        aliases=load_aliases(base),
    )


class Identifier:
    """Names the true manufacturer of a device from its observations, with evidence."""

    _default: ClassVar[Identifier | None] = None
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, data: FingerprintData) -> None:
        self.data = data
        # Registrants feed the registry lazily: only a name no reviewed source knows reads them.
        # A generator: the OUI rows are parsed only when the registry first needs a registrant.
        registrants = data.oui.registrants()
        self.vendor_registry = VendorRegistry(data.vendors, data.aliases, registrants)
        self._fusion = Fusion(
            Matcher(data.db), data.brands, data.oui, data.vendors, self.vendor_registry
        )

    @classmethod
    def default(cls) -> Identifier:
        """The identifier over the shipped database; loaded once per process."""
        with cls._lock:
            if cls._default is None:
                cls._default = cls(load_data())
            return cls._default

    def identify(self, observations: Iterable[Observation]) -> Identification:
        return self._fusion.identify(observations)

    def data_versions(self) -> tuple[DataVersion, ...]:
        """The data sets identification relied on, for the report's methodology section."""
        n = sum(len(f.fingerprints) for f in self.data.db.files.values())
        return (
            DataVersion(
                name="fingerprints", version=f"{len(self.data.db.files)} files, {n} fingerprints"
            ),
            DataVersion(
                name="oui",
                version=f"{len(self.data.oui.entries)} prefixes, as of {self.data.oui.as_of}",
                source="; ".join(self.data.oui.sources.values()),
            ),
            DataVersion(name="brands", version=f"{len(self.data.brands.brands)} brands"),
        )
