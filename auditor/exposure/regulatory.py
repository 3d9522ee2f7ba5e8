"""The regulatory data model: instruments, corporate families and their ownership edges,
listings and audience severities, with the closed vocabularies their fields draw from.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from auditor.exposure.normalise import normal_form
from auditor.models import Audience, InstrumentId, Severity

LISTING_STATUSES = frozenset({"listed", "covered", "covered_if_security_use", "unverified"})
AFFILIATE_REACH = frozenset({"yes", "no", "uncertain"})
#: What an instrument restricts; remediation.py chooses the actions by it (see instruments.yaml).
INSTRUMENT_KINDS = frozenset(
    {
        "export_control",
        "procurement_ban",
        "contractor_use_ban",
        "authorisation_ban",
        "investment_ban",
        "blocking_sanctions",
        "certification",
        "state_list",
        "designation",
        "other_list",
    }
)
#: The legal status of an instrument on its as-of date.
INSTRUMENT_STATUSES = frozenset({"in_force", "suspended", "challenged", "proposed", "unverified"})
SOURCE_KINDS = frozenset({"primary", "secondary"})
DEVICE_SCOPES = frozenset({"video", "any"})


@dataclass(frozen=True, slots=True)
class Instrument:
    id: InstrumentId
    name: str
    jurisdiction: str
    target: str
    binds: str
    effect: str
    source: str
    as_of: date
    kind: str = "other_list"
    status: str = "in_force"
    verified: date | None = None
    source_kind: str = "primary"
    device_scope: str = "any"
    """``video``: only devices with camera or recorder evidence can be reached (CCTV rules)."""
    informational: bool = False
    """Recorded for completeness (labs, drones, routers); never a per-device finding."""
    deadline: str | None = None
    source_also: str | None = None
    """A second source shown beside ``source`` (a secondary report, a codified text)."""
    use_condition: str | None = None
    extends_to_affiliates: str = "no"
    applies_via: InstrumentId | None = None
    parent_listed_under: InstrumentId | None = None
    applies_to_country: str | None = None
    applies_to_all_video: bool = False
    component_exposure: bool = False
    effective: date | None = None
    suspended_from: date | None = None
    suspended_until: date | None = None
    note: str | None = None
    uncertain: bool = False

    def in_force(self, on: date) -> bool:
        if self.effective is not None and on < self.effective:
            return False
        if self.suspended_until is None:
            return True
        started = self.suspended_from is None or self.suspended_from <= on
        return not (started and on <= self.suspended_until)


@dataclass(frozen=True, slots=True)
class Ownership:
    """A dated edge: ``owner`` owns (or, for a supplier edge, supplies) the entity."""

    owner: str
    relationship: str
    source: str
    since: date | None = None
    until: date | None = None
    uncertain: bool = False
    supplier: bool = False

    def active(self, on: date) -> bool:
        return (self.since is None or self.since <= on) and (self.until is None or on < self.until)

    def ended(self, on: date) -> bool:
        return self.until is not None and self.until <= on


@dataclass(frozen=True, slots=True)
class Entity:
    id: str
    legal_name: str
    source: str
    as_of: date
    country: str | None = None
    names: tuple[str, ...] = ()
    """Every spelling to match official lists against: legal name, list spellings, aliases."""
    subsidiaries: tuple[str, ...] = ()
    brands: tuple[str, ...] = ()
    ownership: tuple[Ownership, ...] = ()


@dataclass(frozen=True, slots=True)
class Listing:
    entity: str
    instrument: InstrumentId
    status: str
    source: str
    as_of: date
    since: date | None = None
    until: date | None = None
    listed_as: str | None = None
    note: str | None = None
    uncertain: bool = False
    verified: date | None = None
    source_kind: str = "primary"

    def current(self, on: date) -> bool:
        return self.until is None or on < self.until


@dataclass(frozen=True, slots=True)
class AudienceProfile:
    audience: Audience
    description: str
    unknown_maker: Severity
    default: Severity
    instruments: Mapping[str, Severity] = field(default_factory=dict)

    def severity(self, instrument: str) -> Severity:
        return self.instruments.get(instrument, self.default)


@dataclass(frozen=True, slots=True)
class RegulatoryData:
    version: str
    as_of: date
    max_age_days: int
    disclaimer: str
    instruments: Mapping[str, Instrument]
    entities: Mapping[str, Entity]
    listings: tuple[Listing, ...]
    audiences: Mapping[Audience, AudienceProfile]

    def entity_for(self, name: str) -> Entity | None:
        """Find a family by canonical id, legal name or any listed spelling (case-insensitive)."""
        wanted = name.casefold()
        for entity in self.entities.values():
            spellings = (entity.id, entity.legal_name, *entity.names)
            if any(s.casefold() == wanted for s in spellings):
                return entity
        # "HIKVISION DIGITAL TECHNOLOGY CO LTD" from a device: compare normal forms too.
        key = normal_form(name)
        for entity in self.entities.values():
            if key and any(normal_form(s) == key for s in (entity.legal_name, *entity.names)):
                return entity
        return None

    def listings_of(self, entity_id: str) -> tuple[Listing, ...]:
        return tuple(item for item in self.listings if item.entity == entity_id)
