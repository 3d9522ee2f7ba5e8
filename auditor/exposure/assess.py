"""The assessor: reviewed data plus imported lists, applied to one identified device."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path

from auditor.exposure import listrules, rules
from auditor.exposure.brands import load_brand_table
from auditor.exposure.data import load_regulatory_data
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.liststore import ImportRecord, current_imports, fetch_entries, load_names
from auditor.exposure.matching import Matcher
from auditor.exposure.regulatory import Entity, RegulatoryData
from auditor.exposure.remediation import recommend
from auditor.identify.reference import BrandTable
from auditor.models import (
    Audience,
    DataVersion,
    Exposure,
    ExposureStatus,
    Identification,
    InstrumentId,
    Remediation,
    Severity,
)

logger = logging.getLogger(__name__)

UNKNOWN_INSTRUMENT = InstrumentId("camaudit-unknown-maker")
POLICY_SOURCE = "camaudit reviewed policy: fingerprints/regulatory/audiences.yaml (unknown_maker)"
#: Instruments whose listings come only from the official files the user imports.
LIVE_ONLY = frozenset({"us-ofac-sdn", "us-ofac-non-sdn-other", "us-csl-other"})
#: How far up an ownership chain to look (Hikvision -> CETC is one step).
MAX_DEPTH = 3


@dataclass(frozen=True, slots=True)
class DeviceAssessment:
    identification: Identification
    audience: Audience
    exposures: tuple[Exposure, ...]
    remediation: Remediation

    @property
    def max_severity(self) -> Severity:
        return max((e.severity for e in self.exposures), default=Severity.NONE)

    def by_instrument(self) -> dict[str, list[Exposure]]:
        out: dict[str, list[Exposure]] = {}
        for e in self.exposures:
            out.setdefault(e.instrument, []).append(e)
        return out


@dataclass
class Assessor:
    data: RegulatoryData
    imports: tuple[ImportRecord, ...] = ()
    matcher: Matcher = field(default_factory=Matcher)
    brands: BrandTable | None = None
    """brands.yaml (brand -> true maker), to explain an unidentified device; None: no hints."""
    today: date = field(default_factory=lambda: datetime.now(UTC).date())
    _entities: dict[str, Entity | None] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @classmethod
    def load(
        cls,
        db_path: Path | str | None,
        *,
        today: date | None = None,
        data: RegulatoryData | None = None,
        brands: BrandTable | None = None,
    ) -> Assessor:
        """Reviewed data plus the lists imported into ``db_path`` (None or missing: no lists);
        a path or a ``postgresql://`` URL, as the store takes."""
        path = db_path
        return cls(
            data=data or load_regulatory_data(),
            imports=current_imports(path),
            matcher=Matcher(load_names(path), lambda ids: fetch_entries(path, ids)),
            brands=brands if brands is not None else load_brand_table(),
            today=today or datetime.now(UTC).date(),
        )

    # --- data versions and honesty notes -------------------------------------------------
    def _stale(self, as_of: date | None) -> bool:
        return as_of is None or (self.today - as_of).days > self.data.max_age_days

    def data_versions(self) -> tuple[DataVersion, ...]:
        versions = [
            DataVersion(
                name="regulatory data",
                version=self.data.version,
                as_of=self.data.as_of,
                source="fingerprints/regulatory (camaudit reviewed data)",
                stale=self._stale(self.data.as_of),
            )
        ]
        versions += [
            DataVersion(
                name=f"list {rec.kind}",
                version=f"{rec.file_name} sha256:{rec.sha256[:12]} "
                f"({rec.entries} entries of {rec.rows_read} rows)",
                as_of=rec.published,
                source=LIST_FORMATS[rec.kind].source,
                stale=self._stale(rec.published),
            )
            for rec in self.imports
        ]
        return tuple(versions)

    def notes(self) -> tuple[str, ...]:
        notes = [self.data.disclaimer]
        limit = self.data.max_age_days
        for v in self.data_versions():
            if v.stale:
                age = (
                    "of unknown age"
                    if v.as_of is None
                    else f"{(self.today - v.as_of).days} days old"
                )
                notes.append(
                    f"Stale data: {v.name} as of {v.as_of} is {age} (more than {limit}): "
                    "update it before relying on this assessment."
                )
        if not self.imports:
            notes.append(
                "No official list imported: listings come only from camaudit's reviewed data "
                f"(as of {self.data.as_of}); import current lists with `camaudit lists import`."
            )
        return tuple(notes)

    # --- assessment ----------------------------------------------------------------------
    def _entity_for(self, name: str) -> Entity | None:
        """``data.entity_for``, remembered per name: it compares normal forms of every listed
        spelling, and a 50,000-host import asks for the same few makers over and over."""
        try:
            return self._entities[name]
        except KeyError:
            found = self._entities[name] = self.data.entity_for(name)
            return found

    def assess(
        self, identification: Identification, audience: Audience, *, on: date | None = None
    ) -> DeviceAssessment:
        audience = Audience(audience)
        video = identification.device_type.is_video
        out = rules.ExposureSet(
            self.data, self.data.audiences[audience], on or self.today, video=video
        )
        maker = identification.manufacturer
        if maker is None:
            # "Maker unknown: review" is about cameras: a printer, a router or a silent address
            # with no camera evidence is outside the audit's question, not a finding.
            if video:
                self._unknown(out, identification)
        else:
            entity = self._entity_for(maker)
            if entity is not None:
                rules.add_direct(out, entity)
                self._ownership(out, entity, maker)
                self._brand_history(out, entity, identification)
            rules.add_country(out, entity, entity.id if entity else maker)
            listrules.add_list_matches(out, self.matcher, entity, maker)
            if entity is not None:
                listrules.add_owner_list_matches(out, self.matcher, entity)
        self._components(out, identification)
        self._all_video(out, identification)
        if maker is not None:
            self._not_listed(out, maker)
        exposures = tuple(
            sorted(
                out.items.values(), key=lambda e: (-e.severity.value, e.instrument, e.entity or "")
            )
        )
        return DeviceAssessment(
            identification,
            audience,
            exposures,
            recommend(identification, exposures, self.data.instruments),
        )

    def _unknown(self, out: rules.ExposureSet, ident: Identification) -> None:
        hint = self.brands.lookup(ident.brand) if ident.brand and self.brands else None
        text = (
            "The maker could not be identified, so no instrument can be ruled out: camaudit "
            "never reports an unidentified device as clean. Check the label, the firmware and the "
            "supplier, then re-run the assessment."
        )
        if hint is not None:
            text += (
                f" The brand {ident.brand!r} is reported as {hint.relationship} of "
                f"{hint.manufacturer} (confidence {hint.confidence}; {hint.source})."
            )
        out.items[(UNKNOWN_INSTRUMENT, "", ExposureStatus.UNKNOWN)] = Exposure(
            instrument=UNKNOWN_INSTRUMENT,
            instrument_name="Maker unknown: manual review",
            jurisdiction="-",
            status=ExposureStatus.UNKNOWN,
            severity=out.profile.unknown_maker,
            effect=text,
            binds="-",
            source=POLICY_SOURCE,
            uncertain=True,
        )

    def _ownership(self, out: rules.ExposureSet, entity: Entity, maker: str) -> None:
        seen = {entity.id}
        frontier: list[tuple[Entity, bool, str]] = [(entity, False, "")]
        for _depth in range(MAX_DEPTH):
            nxt: list[tuple[Entity, bool, str]] = []
            for child, was_uncertain, chain in frontier:
                for edge in child.ownership:
                    owner = self.data.entities[edge.owner]
                    if owner.id in seen or not (edge.active(out.on) or edge.ended(out.on)):
                        continue
                    verb = "is supplied by" if edge.supplier else "is owned by"
                    link = f"{child.id} {verb} {owner.id}"
                    if edge.ended(out.on):
                        link = (
                            f"{owner.id} owned {child.id} from {edge.since} until {edge.until}; "
                            f"devices made in that period may be {owner.id}-affiliate equipment, "
                            "so check the production date"
                        )
                    elif edge.supplier:
                        link += f" ({edge.relationship})"
                    why = f"{chain}{link}"
                    uncertain = was_uncertain or edge.uncertain or edge.ended(out.on)
                    status = (
                        ExposureStatus.COMPONENT
                        if edge.supplier
                        else ExposureStatus.COVERED_THROUGH_OWNERSHIP
                    )
                    rules.add_through(out, entity, owner, why, uncertain, status)
                    if not edge.supplier and edge.active(out.on):
                        seen.add(owner.id)
                        nxt.append((owner, uncertain, f"{why}; "))
            frontier = nxt

    def _brand_history(self, out: rules.ExposureSet, entity: Entity, ident: Identification) -> None:
        """A relabel under a brand whose ownership by this maker has ended (Lorex after 2022)."""
        brand = self._entity_for(ident.brand) if ident.brand else None
        if brand is None or brand.id == entity.id:
            return
        for edge in brand.ownership:
            if edge.owner == entity.id and edge.ended(out.on) and not edge.supplier:
                note = (
                    f" Brand {brand.id}: {entity.id} owned it from {edge.since} until "
                    f"{edge.until}; since then others own it, so whether this unit was made by "
                    f"{entity.id} rests on the device evidence and its production date."
                )
                weak = ident.confidence < 0.7
                for key, exposure in list(out.items.items()):
                    if exposure.entity == entity.id:
                        out.items[key] = replace(
                            exposure,
                            effect=exposure.effect + note,
                            uncertain=exposure.uncertain or weak,
                        )

    def _components(self, out: rules.ExposureSet, ident: Identification) -> None:
        for component in ident.components:
            part = self._entity_for(component.vendor)
            if part is None:
                continue
            label = f"{component.vendor} {component.kind}" + (
                f" {component.model}" if component.model else ""
            )
            owners = [part] + [
                self.data.entities[e.owner] for e in part.ownership if e.active(out.on)
            ]
            for owner in owners:
                why = (
                    f"The device contains a {label}"
                    + ("" if owner is part else f"; {part.id} is owned by {owner.id}")
                    + "; potential component exposure, confirm with counsel"
                )
                rules.add_through(out, part, owner, why, True, ExposureStatus.COMPONENT)

    def _all_video(self, out: rules.ExposureSet, ident: Identification) -> None:
        if not ident.device_type.is_video:
            return  # a CCTV rule needs camera evidence
        for instrument in self.data.instruments.values():
            if instrument.applies_to_all_video:
                out.add(
                    instrument,
                    ExposureStatus.COVERED,
                    ident.manufacturer or "unknown maker",
                    f"Applies to every internet-connected camera sold there. {instrument.effect}",
                    instrument.source,
                    since=instrument.effective,
                )

    def _not_listed(self, out: rules.ExposureSet, maker: str) -> None:
        """Say what was checked and not found, for the instruments that matter to this audience."""
        live = {i for rec in self.imports for i in LIST_FORMATS[rec.kind].covers}
        for instrument in self.data.instruments.values():
            if out.has(instrument.id) or out.profile.severity(instrument.id) < Severity.MEDIUM:
                continue
            if (
                instrument.applies_to_all_video
                or instrument.applies_to_country
                or instrument.parent_listed_under
                or instrument.informational
            ):
                continue
            checked = instrument.id in live
            if instrument.id in LIVE_ONLY and not checked:
                text = (
                    "Not checked live: no official file for this list has been imported; the "
                    f"reviewed data (as of {self.data.as_of}) holds no listing of {maker}."
                )
                out.add(
                    instrument,
                    ExposureStatus.NOT_LISTED,
                    maker,
                    text,
                    instrument.source,
                    uncertain=True,
                    severity=Severity.INFO,
                )
                continue
            where = "camaudit's reviewed data" + (" and the imported lists" if checked else "")
            out.add(
                instrument,
                ExposureStatus.NOT_LISTED,
                maker,
                f"No listing of {maker} found in {where} (as of {self.data.as_of}).",
                instrument.source,
            )
