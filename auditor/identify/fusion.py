"""Fuse every observation of one host into one Identification, with its evidence chain.

Each matched fingerprint (and the OUI of a MAC) votes for the attributes it asserts with its
weight. For the manufacturer, votes of the same observation kind count once (the strongest),
and votes from different kinds combine like independent probabilities (1 - prod(1 - w)): two
unrelated signals agreeing beat one strong signal, which is the independent-signal bonus. A brand
as presented votes for its maker through brands.yaml, discounted by the row's confidence, so that
platform evidence (SADP, DHIP, ISAPI, OUI, server banners) decides and a relabel shows up as a
brand that differs from the maker. Below ABSTAIN_BELOW the engine names no manufacturer.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable

from auditor.identify.links import EvidenceLinker
from auditor.identify.makers import MakerResolver
from auditor.identify.matcher import Matcher
from auditor.identify.reference import BrandTable, OuiTable
from auditor.identify.vendors import VendorRegistry
from auditor.identify.votes import (
    ABSTAIN_BELOW,
    Vote,
    best,
    combine,
    components_of,
    describe,
    device_type_of,
)
from auditor.models import DeviceType, EvidenceLink, Identification, Observation, ObservationKind

__all__ = ["ABSTAIN_BELOW", "CONFLICT_NOTE_ABOVE", "Fusion"]

logger = logging.getLogger(__name__)

CONFLICT_NOTE_ABOVE = 0.3
"""A losing manufacturer above this score is reported as a resolved conflict."""


class Fusion:
    """Names a device's maker, brand, model and type from all its observations."""

    def __init__(
        self,
        matcher: Matcher,
        brands: BrandTable,
        oui: OuiTable,
        vendors: Iterable[str],
        registry: VendorRegistry,
    ):
        self.matcher = matcher
        self.brands = brands
        self.oui = oui
        self.vendors = {v.casefold(): v for v in vendors}
        self.registry = registry
        self.linker = EvidenceLinker(matcher, brands, oui, registry)
        self.makers = MakerResolver(brands, registry)

    def links_for(self, obs: Observation, notes: list[str]) -> list[EvidenceLink]:
        return self.linker.links_for(obs, notes)

    def identify(self, observations: Iterable[Observation]) -> Identification:
        notes: list[str] = []
        links: list[EvidenceLink] = []
        for obs in observations:
            links.extend(self.links_for(obs, notes))
        if not links:
            return Identification.unknown(notes or ["no observation matched a fingerprint"])

        attrs: dict[str, list[Vote]] = defaultdict(list)
        wire_mac = any(lk.observation.kind is ObservationKind.MAC for lk in links)
        for link in links:
            if wire_mac and link.observation.kind is ObservationKind.MAC_CLAIMED:
                continue  # the MAC seen on the wire wins; the claimed one stays as evidence
            for name, value in link.asserts:
                attrs[name].append(Vote(value, link.weight, link.observation.kind, link))
        declared = self.makers.declared(attrs, notes)
        self.linker.mac_disagreement(links, notes)

        device_type, type_note = device_type_of(attrs["hw.device"])
        if type_note:
            notes.append(type_note)
        model = best(attrs["hw.model"])
        brand_vote = self.makers.brand(attrs["hw.brand"])
        maker_votes = self.makers.maker_votes(
            attrs, model.value if model else None, notes, video=device_type.is_video
        )
        scores = {v: combine(vs) for v, vs in maker_votes.items()}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

        manufacturer: str | None = None
        confidence = 0.0
        if ranked:
            top, top_score = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            confidence = max(0.0, top_score - runner_up / 2)
            why = ", ".join(sorted({describe(v) for v in maker_votes[top]}))
            if len(ranked) > 1 and runner_up > CONFLICT_NOTE_ABOVE:
                other, _ = ranked[1]
                against = ", ".join(sorted({describe(v) for v in maker_votes[other]}))
                notes.append(
                    f"conflict resolved: {top} ({top_score:.2f}: {why}) over {other} "
                    f"({runner_up:.2f}: {against})"
                )
            shared_only = all(
                str(v.link.fingerprint_id) in self.linker.alone_insufficient
                for v in maker_votes[top]
            )
            if shared_only and confidence >= ABSTAIN_BELOW:
                notes.append(
                    f"abstained: only strings several makers share name {top} ({why}); "
                    "they never decide a maker alone"
                )
            elif confidence < ABSTAIN_BELOW and (
                fallback := self.makers.declared_fallback(
                    declared, top, model.value if model else None, device_type.is_video
                )
            ):
                weak_row, vote, behind = fallback
                manufacturer = weak_row.name
                confidence = vote.weight
                notes.append(
                    f"manufacturer {weak_row.name} as declared ({vote.link.fingerprint_id}); "
                    f"brands.yaml says {behind} is behind {weak_row.name} only with low "
                    f"confidence ({top} {top_score:.2f}, below {ABSTAIN_BELOW}), so the "
                    "declaration stands"
                )
            elif confidence < ABSTAIN_BELOW:
                notes.append(
                    f"abstained: best candidate {top} scored {confidence:.2f}, "
                    f"below {ABSTAIN_BELOW} ({why})"
                )
            else:
                manufacturer = top
                notes.append(f"manufacturer {top} ({confidence:.2f}) from {why}")
                if not (device_type.is_video or device_type is DeviceType.UNKNOWN):
                    # Named as what it is (an HP printer, a TP-Link router), never as a camera:
                    # the device type keeps it out of the camera inventory and its exposures.
                    notes.append(f"{device_type.value}, not a video device")
        if not ranked:
            seen = ", ".join(sorted({str(link.fingerprint_id) for link in links}))
            notes.append(f"no evidence names a manufacturer (matched only: {seen})")
        if manufacturer is None and device_type.is_video:
            notes.append(f"{device_type.value}, maker unknown")

        brand = brand_vote.value if brand_vote else None
        if manufacturer and brand is None:
            # Sold under the maker's own name: the brand is always reported.
            brand = manufacturer
        relabel = False
        if manufacturer and brand and brand.casefold() != manufacturer.casefold():
            row = self.brands.lookup(brand)
            own = row is not None and row.is_own_brand and row.manufacturer == manufacturer
            # A group's own brand (EZVIZ, Imou, UNV) is not an OEM relabel, but the report still
            # says whose brand it is: the buyer sees one name, the device is the group's.
            if own and row is not None:
                notes.append(f"{row.name} is a {manufacturer} brand ({row.relationship})")
            else:
                relabel = True
                if row is not None and row.manufacturer != manufacturer:
                    notes.append(
                        f"brand {brand} is usually made by {row.manufacturer} ({row.confidence}); "
                        f"the device evidence points to {manufacturer}"
                    )
                else:
                    notes.append(f"OEM relabel: presented as {brand}, made by {manufacturer}")
            if row is not None and row.ownership:
                owners = "; ".join(o.describe() for o in row.ownership)
                notes.append(f"{row.name} ownership: {owners}")
        if manufacturer is None and brand and brand.casefold() in self.vendors:
            brand = self.vendors[brand.casefold()]

        platform = best(attrs["hw.platform"])
        if platform is not None and (model is None or platform.value != model.value):
            notes.append(f"platform model {platform.value} (from {platform.link.fingerprint_id})")
        firmware = best(attrs["hw.firmware"])
        serial = best(attrs["hw.serial"])
        return Identification(
            manufacturer=manufacturer,
            brand=brand,
            model=model.value if model else None,
            firmware=firmware.value if firmware else None,
            serial=serial.value if serial else None,
            device_type=device_type,
            confidence=round(min(1.0, confidence), 3) if manufacturer else 0.0,
            evidence=tuple(links),
            components=components_of(attrs),
            oem_relabel=relabel,
            rationale=tuple(dict.fromkeys(notes)),
        )
