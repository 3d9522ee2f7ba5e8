"""Observations to evidence links: fingerprint matches, MAC prefixes (the IEEE registry) and the
vendor names tools print, each with the weight its kind of evidence deserves.
"""

from __future__ import annotations

import contextlib

from auditor.identify.matcher import Matcher
from auditor.identify.reference import BrandTable, OuiTable
from auditor.identify.vendors import MacRole, VendorRegistry
from auditor.models import EvidenceLink, FingerprintId, Observation, ObservationKind, normalise_mac

MAC_WEIGHT = 0.35
"""A MAC prefix of a reviewed maker of many product kinds: weak, it names no device type."""
MAC_MAKER_WEIGHT = 0.55
"""A camera specialist's prefix (Hikvision, Dahua, Axis...): its NICs ship in its own devices."""
MAC_UNREVIEWED_WEIGHT = 0.3
"""An IEEE registrant nobody reviewed: a hint that needs another signal to name a maker."""
MAC_ODM_WEIGHT = 0.1
"""A chip/module/contract maker's prefix: it sits in other brands' devices and never decides."""
_MAC_WEIGHTS = {
    MacRole.MAKER: MAC_MAKER_WEIGHT,
    MacRole.GENERAL: MAC_WEIGHT,
    MacRole.UNREVIEWED: MAC_UNREVIEWED_WEIGHT,
    MacRole.ODM: MAC_ODM_WEIGHT,
}


class EvidenceLinker:
    """Links each observation to the fingerprints (or MAC registrants) it matches."""

    def __init__(
        self, matcher: Matcher, brands: BrandTable, oui: OuiTable, registry: VendorRegistry
    ):
        self.matcher = matcher
        self.brands = brands
        self.oui = oui
        self.registry = registry
        # Evidence that may support a maker but never name one alone: strings several makers'
        # firmware share (marked `shared: true`) and module/chip makers' MAC prefixes.
        self.alone_insufficient: set[str] = {fp.id for fp in matcher.fingerprints() if fp.shared}

    def links_for(self, obs: Observation, notes: list[str]) -> list[EvidenceLink]:
        if obs.kind is ObservationKind.MAC or obs.kind is ObservationKind.MAC_CLAIMED:
            return self._mac_link(obs, notes)
        result = self.matcher.match(obs.kind, obs.value)
        if result.error:
            notes.append(f"{obs.kind.value} from {obs.source} could not be parsed: {result.error}")
        if obs.kind is ObservationKind.MAC_VENDOR and not result.matches:
            return self._registrant_link(obs)
        return [
            EvidenceLink(
                observation=obs,
                fingerprint_id=FingerprintId(m.fingerprint.id),
                description=m.fingerprint.description,
                asserts=tuple(sorted(m.attrs.items())),
                weight=m.fingerprint.weight,
                source=m.fingerprint.source,
            )
            for m in result.matches
        ]

    def _mac_link(self, obs: Observation, notes: list[str]) -> list[EvidenceLink]:
        try:
            entry = self.oui.lookup(obs.value)
        except ValueError:
            notes.append(f"ignored a malformed MAC address from {obs.source}: {obs.value[:40]!r}")
            return []
        if entry is None or self.registry.is_placeholder(entry.registrant):
            return []
        hit = self.registry.resolve_registrant(entry.registrant)
        name, role = hit.canonical, hit.mac_role
        # The registry already named the maker: only a brand row by that exact name applies.
        row = self.brands.lookup(name)
        if row is not None and row.manufacturer.casefold() != name.casefold():
            # The registrant is a brand owner (Amcrest, Lorex, EZVIZ...): the brand's maker comes
            # from brands.yaml, discounted like any brand evidence.
            asserts = (("hw.brand", row.name),)
        else:
            asserts = (("hw.vendor", name),)
        weight = _MAC_WEIGHTS[role]
        if role is MacRole.ODM:
            self.alone_insufficient.add(f"oui:{entry.prefix}")
        claimed = (
            " (claimed in a payload, not seen on the wire)"
            if obs.kind is (ObservationKind.MAC_CLAIMED)
            else ""
        )
        return [
            EvidenceLink(
                observation=obs,
                fingerprint_id=FingerprintId(f"oui:{entry.prefix}"),
                description=(
                    f"MAC prefix {entry.prefix} registered to {entry.registrant} (IEEE, "
                    f"{role.value} prefix){claimed}"
                ),
                asserts=asserts,
                weight=weight / 2 if claimed else weight,
                source=self.oui.sources.get(entry.source, entry.source),
            )
        ]

    def _registrant_link(self, obs: Observation) -> list[EvidenceLink]:
        """A MAC vendor name a tool printed (nmap): the IEEE registrant, read via the registry."""
        text = obs.value.strip()[:200]
        if not text or self.registry.is_placeholder(text):
            return []
        hit = self.registry.resolve_registrant(text)
        row = self.brands.lookup(hit.canonical)
        if row is not None and row.manufacturer.casefold() != hit.canonical.casefold():
            asserts: tuple[tuple[str, str], ...] = (("hw.brand", row.name),)
        else:
            asserts = (("hw.vendor", hit.canonical),)
        return [
            EvidenceLink(
                observation=obs,
                fingerprint_id=FingerprintId(f"registrant:{hit.canonical}"),
                description=f"MAC vendor {text!r} is {hit.canonical} ({hit.mac_role.value} prefix)",
                asserts=asserts,
                weight=_MAC_WEIGHTS[hit.mac_role],
                source="vendor registry (fingerprints/identifiers/aliases.yaml, IEEE registry)",
            )
        ]

    @staticmethod
    def mac_disagreement(links: list[EvidenceLink], notes: list[str]) -> None:
        """Note each MAC a payload claims (mac.claimed, an asserted hw.mac) the wire denies."""
        seen = {lk.observation.value for lk in links if lk.observation.kind is ObservationKind.MAC}
        claims: dict[str, str] = {}
        for lk in links:
            if lk.observation.kind is ObservationKind.MAC_CLAIMED:
                claims.setdefault(lk.observation.value, lk.observation.source)
            for name, value in lk.asserts:
                if name == "hw.mac":
                    with contextlib.suppress(ValueError):
                        claims.setdefault(normalise_mac(value), str(lk.fingerprint_id))
        if not seen:
            return
        for mac, where in claims.items():
            if mac not in seen:
                notes.append(
                    f"MAC {mac} claimed by {where} differs from the MAC seen on the wire "
                    f"({', '.join(sorted(seen))})"
                )
