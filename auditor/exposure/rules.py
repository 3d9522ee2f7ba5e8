"""From a maker (and its owners, suppliers, components) to exposures, using the reviewed data.

Each rule adds Exposures to an ExposureSet keyed by (instrument, entity, status); the severity
for the audience comes from audiences.yaml, lowered one level for coverage through ownership, for
component exposure and for uncertain facts, capped at medium for a fuzzy list match, and info for
an instrument not in force on the assessment date.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from auditor.exposure.regulatory import AudienceProfile, Entity, Instrument, Listing, RegulatoryData
from auditor.models import Exposure, ExposureStatus, Severity

_STATUS = {
    "listed": ExposureStatus.LISTED,
    "covered": ExposureStatus.COVERED,
    "covered_if_security_use": ExposureStatus.COVERED_IF_SECURITY_USE,
}
# A component is only a potential exposure (a contracting officer's or counsel's judgement).
# Coverage through ownership is not lowered by itself: section 889 and the FCC list name
# subsidiaries and affiliates; where the ownership is in doubt the uncertain flag lowers it.
_LOWERED = frozenset({ExposureStatus.COMPONENT})


def in_force(instrument: Instrument, on: date) -> bool:
    return instrument.in_force(on)


_LEGAL_STATUS = {
    "suspended": "Suspended.",
    "challenged": "Challenged in court; the outcome is not known to camaudit.",
    "proposed": "Proposed, not adopted.",
    "unverified": "Not confirmed from the issuing authority's own publication.",
}


def severity_for(
    profile: AudienceProfile,
    instrument: Instrument,
    status: ExposureStatus,
    uncertain: bool,
    on: date,
) -> Severity:
    base = profile.severity(instrument.id)
    if base is Severity.NONE or status is ExposureStatus.NOT_LISTED:
        return Severity.NONE
    level = base.value
    if status in _LOWERED:
        level -= 1  # a component exposure is uncertain by nature: lowered once, not twice
    elif uncertain:
        level -= 1
    if status is ExposureStatus.POSSIBLE_MATCH:
        level = min(level, Severity.MEDIUM.value)
    if not in_force(instrument, on):
        level = Severity.INFO.value
    return Severity(max(level, Severity.INFO.value))


def _later(*dates: date | None) -> date | None:
    return max((d for d in dates if d is not None), default=None)


@dataclass
class ExposureSet:
    """The exposures of one device, built rule by rule."""

    data: RegulatoryData
    profile: AudienceProfile
    on: date
    video: bool = True
    """The device shows camera or recorder evidence; CCTV-only instruments need it."""
    items: dict[tuple[str, str, ExposureStatus], Exposure] = field(default_factory=dict)

    def has(self, instrument: str, entity: str | None = None) -> bool:
        return any(i == instrument and (entity is None or e == entity) for i, e, _ in self.items)

    def add(
        self,
        instrument: Instrument,
        status: ExposureStatus,
        entity: str,
        effect: str,
        source: str,
        since: date | None = None,
        uncertain: bool = False,
        severity: Severity | None = None,
        **extra: object,
    ) -> Exposure | None:
        """Add one exposure, unless the audience mapping says the instrument is not its concern.

        Instruments recorded for information only, and CCTV-only instruments on a device without
        camera evidence (a printer, a router, a silent address), never produce a finding.
        """
        if self.profile.severity(instrument.id) is Severity.NONE or instrument.informational:
            return None
        if instrument.device_scope == "video" and not self.video:
            return None
        uncertain = uncertain or instrument.uncertain
        if severity is None:
            severity = severity_for(self.profile, instrument, status, uncertain, self.on)
        if status is ExposureStatus.NOT_LISTED:
            # "Not listed" is context, never a reason to act or a device's worst severity.
            severity = min(severity, Severity.INFO)
        text = effect
        legal = _LEGAL_STATUS.get(instrument.status)
        if legal and status is not ExposureStatus.NOT_LISTED:
            text = f"{legal} {text}"
        if self.profile.severity(instrument.id) <= Severity.INFO:
            # The legal effect for *this* audience: say when the instrument binds others.
            text = f"Does not bind this audience directly (binds: {instrument.binds}). {text}"
        if not in_force(instrument, self.on) and status is not ExposureStatus.NOT_LISTED:
            text = f"Not in force on {self.on.isoformat()}. {text}"
        if instrument.note:
            text = f"{text} Note: {instrument.note}"
        if instrument.source_also and instrument.note:
            text = f"{text} See also: {instrument.source_also}"
        exposure = Exposure(
            instrument=instrument.id,
            instrument_name=instrument.name,
            jurisdiction=instrument.jurisdiction,
            status=status,
            severity=severity,
            effect=text,
            binds=instrument.binds,
            source=source,
            since=since,
            entity=entity,
            uncertain=uncertain,
            **extra,  # type: ignore[arg-type]
        )
        key = (instrument.id, entity, status)
        known = self.items.get(key)
        if known is None or known.severity < severity:
            self.items[key] = exposure
        return exposure

    def enrich(self, instrument: str, entity: str, **changes: object) -> bool:
        """Attach a list match to an exposure the reviewed data already gave."""
        for key, exposure in self.items.items():
            if key[0] == instrument and key[1] == entity and key[2] in _STATUS.values():
                self.items[key] = replace(exposure, **changes)  # type: ignore[arg-type]
                return True
        return False


def _effect(instrument: Instrument, listing: Listing | None, prefix: str = "") -> str:
    parts = [prefix, instrument.effect]
    if instrument.use_condition and listing and listing.status == "covered_if_security_use":
        parts.append(f"Use-condition: {instrument.use_condition}")
    if listing is not None and listing.listed_as:
        parts.append(f"Listed as {listing.listed_as!r}.")
    if listing is not None and listing.note:
        parts.append(f"({listing.note})")
    return " ".join(p for p in parts if p)


def add_direct(out: ExposureSet, entity: Entity) -> None:
    """The maker's own listings, and the instruments that reach every entity listed under them."""
    for listing in out.data.listings_of(entity.id):
        instrument = out.data.instruments[listing.instrument]
        if listing.status == "unverified":
            # Not confirmed either way: shown as context, never "clean" and never an action.
            out.add(
                instrument,
                ExposureStatus.NOT_LISTED,
                entity.id,
                f"Not confirmed either way in the sources consulted: check the current list. "
                f"{listing.note or ''}".strip(),
                listing.source,
                uncertain=True,
                severity=Severity.INFO,
            )
            continue
        if not listing.current(out.on):
            continue
        status = _STATUS[listing.status]
        out.add(
            instrument,
            status,
            entity.id,
            _effect(instrument, listing),
            listing.source,
            since=listing.since,
            uncertain=listing.uncertain,
        )
        for derived in out.data.instruments.values():
            if derived.applies_via == listing.instrument:
                out.add(
                    derived,
                    ExposureStatus.COVERED if status is ExposureStatus.LISTED else status,
                    entity.id,
                    _effect(
                        derived,
                        listing,
                        f"Applies because {entity.id} is on the {instrument.name}.",
                    ),
                    derived.source,
                    since=_later(listing.since, derived.effective),
                    uncertain=listing.uncertain,
                )


def add_through(
    out: ExposureSet,
    entity: Entity,
    owner: Entity,
    why: str,
    uncertain: bool,
    status: ExposureStatus,
) -> None:
    """Exposures reaching ``entity`` because ``owner`` (parent, ex-parent, supplier) is listed."""
    component = status is ExposureStatus.COMPONENT
    for listing in out.data.listings_of(owner.id):
        if listing.status == "unverified" or not listing.current(out.on):
            continue
        for instrument in out.data.instruments.values():
            direct = instrument.id == listing.instrument
            via = instrument.applies_via == listing.instrument
            if not (direct or via):
                continue
            if component and not instrument.component_exposure:
                continue
            if not component and instrument.extends_to_affiliates == "no":
                continue
            reach_uncertain = instrument.extends_to_affiliates == "uncertain"
            out.add(
                instrument,
                status,
                owner.id,
                _effect(instrument, listing, f"{why}."),
                listing.source,
                since=_later(listing.since, instrument.effective),
                uncertain=uncertain or reach_uncertain or listing.uncertain,
            )
        # The Affiliates Rule reaches a subsidiary of an Entity-List company without naming it.
        for instrument in out.data.instruments.values():
            if instrument.parent_listed_under == listing.instrument and not component:
                out.add(
                    instrument,
                    ExposureStatus.COVERED_THROUGH_OWNERSHIP,
                    owner.id,
                    f"{why}; {owner.id} is on the {out.data.instruments[listing.instrument].name}."
                    f" {instrument.effect}",
                    instrument.source,
                    since=instrument.effective,
                    uncertain=True,
                )


def add_country(out: ExposureSet, entity: Entity | None, maker: str) -> None:
    """Instruments that reach every maker from one country (e.g. PRC-made ICT bans)."""
    for instrument in out.data.instruments.values():
        if instrument.applies_to_country is None:
            continue
        country = entity.country if entity is not None else None
        if country == instrument.applies_to_country:
            out.add(
                instrument,
                ExposureStatus.COVERED,
                maker,
                f"Applies to makers from {country}. {instrument.effect}",
                instrument.source,
                since=instrument.effective,
            )
        elif country is None:
            out.add(
                instrument,
                ExposureStatus.NOT_LISTED,
                maker,
                f"The maker's home country is not in camaudit's reviewed data; this instrument "
                f"reaches makers from {instrument.applies_to_country}: verify.",
                instrument.source,
                uncertain=True,
                severity=Severity.INFO,
            )
