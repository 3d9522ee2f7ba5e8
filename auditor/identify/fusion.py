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

import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from auditor.identify.matcher import Matcher
from auditor.identify.reference import CONFIDENCES, Brand, BrandTable, OuiTable
from auditor.identify.vendors import MacRole, VendorRegistry, display_name
from auditor.models import (
    Component,
    DeviceType,
    EvidenceLink,
    FingerprintId,
    Identification,
    Observation,
    ObservationKind,
    normalise_mac,
)

logger = logging.getLogger(__name__)

ABSTAIN_BELOW = 0.5
"""A manufacturer scoring less than this is not named ("maker unknown")."""
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
CONFLICT_NOTE_ABOVE = 0.3
"""A losing manufacturer above this score is reported as a resolved conflict."""


@dataclass(frozen=True, slots=True)
class _Vote:
    value: str
    weight: float
    kind: ObservationKind
    link: EvidenceLink
    via: str = ""


def _best(votes: list[_Vote]) -> _Vote | None:
    # Highest weight wins; on ties the earlier observation keeps it (stable, reproducible).
    best: _Vote | None = None
    for v in votes:
        if best is None or v.weight > best.weight:
            best = v
    return best


#: Kinds that report the same underlying fact count as one signal: the scopes inside a ProbeMatch
#: are the device's scopes, a realm is one setting whether HTTP or RTSP announces it, and a MAC's
#: vendor name is its OUI said again.
_FAMILY: dict[ObservationKind, str] = {
    ObservationKind.ONVIF_SCOPES: "onvif-scopes",
    ObservationKind.ONVIF_PROBE_MATCH: "onvif-scopes",
    ObservationKind.HTTP_WWW_AUTHENTICATE: "realm",
    ObservationKind.RTSP_WWW_AUTHENTICATE: "realm",
    ObservationKind.MAC: "mac",
    ObservationKind.MAC_CLAIMED: "mac",
    ObservationKind.MAC_VENDOR: "mac",
    ObservationKind.TLS_SUBJECT: "tls",
    ObservationKind.TLS_ISSUER: "tls",
    ObservationKind.TLS_SAN: "tls",
}


def _combine(votes: list[_Vote]) -> float:
    per_kind: dict[str, float] = {}
    for v in votes:
        family = _FAMILY.get(v.kind, v.kind.value)
        per_kind[family] = max(per_kind.get(family, 0.0), v.weight)
    miss = 1.0
    for w in per_kind.values():
        miss *= 1.0 - w
    return 1.0 - miss


class Fusion:
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
        # Evidence that may support a maker but never name one alone: strings several makers'
        # firmware share (marked `shared: true`) and module/chip makers' MAC prefixes.
        self.alone_insufficient: set[str] = {fp.id for fp in matcher.fingerprints() if fp.shared}

    # -- evidence ------------------------------------------------------------------------------
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
    def _mac_disagreement(links: list[EvidenceLink], notes: list[str]) -> None:
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

    def _brand_row(self, name: str) -> Brand | None:
        row = self.brands.lookup(name)
        if row is not None:
            return row
        hit = self.registry.resolve(name)
        return self.brands.lookup(hit.canonical) if hit is not None else None

    def _declared(
        self, attrs: dict[str, list[_Vote]], notes: list[str]
    ) -> list[tuple[Brand, _Vote]]:
        """Turn self-declared makers (ONVIF, UPnP, mDNS, DHCP...) into brand and maker votes.

        Any maker counts: a brand row decides the true maker behind a brand; the registry
        names the rest; a maker nobody knows is reported as declared; a placeholder
        ("IPCAM", "ONVIF", a model number) is no maker at all. Returns the declarations that
        went through a brand row, for the fallback when that row is too weak to name a maker.
        """
        via_rows: list[tuple[Brand, _Vote]] = []
        for v in attrs.pop("hw.declared", []):
            declared = " ".join(v.value.split())
            if self.registry.is_placeholder(declared):
                notes.append(f"declared maker {declared!r} ({v.kind.value}) is a placeholder")
                continue
            if self.registry.is_firmware(declared):
                notes.append(f"declared maker {declared!r} ({v.kind.value}) is firmware, no maker")
                attrs["hw.brand"].append(_Vote(declared, v.weight, v.kind, v.link, via="declared"))
                continue
            row = self._brand_row(declared)
            if row is not None:
                attrs["hw.brand"].append(_Vote(row.name, v.weight, v.kind, v.link))
                via_rows.append((row, v))
                continue
            hit = self.registry.resolve(declared)
            if hit is not None:
                name = hit.canonical
            else:
                name = display_name(declared)
                notes.append(
                    f"declared maker {declared!r} ({v.kind.value}) is in no registry; "
                    "reported as declared"
                )
            attrs["hw.vendor"].append(_Vote(name, v.weight, v.kind, v.link, via="declared"))
            attrs["hw.brand"].append(_Vote(name, v.weight, v.kind, v.link, via="declared"))
        return via_rows

    def _declared_fallback(
        self,
        declared: list[tuple[Brand, _Vote]],
        top: str,
        model: str | None,
        video: bool,
    ) -> tuple[Brand, _Vote, str] | None:
        """A declared maker to report when its brand row alone was too weak to name the maker.

        Issue 12's rule: a declared maker is reported as declared, never dropped. A `low` or
        `uncertain` row (ANNKE -> Hikvision, Honeywell's own row) discounts a clear declaration
        below the threshold; then the declaration itself is reported, but only when the row's
        maker is the best candidate, so no other evidence contradicts it.
        """
        for row, v in sorted(declared, key=lambda rv: -rv[1].weight):
            maker, conf, _src = self._row_maker(row, model, video)
            weak = conf == "low" or row.uncertain
            if weak and v.weight >= ABSTAIN_BELOW and maker == top:
                return row, v, maker
        return None

    @staticmethod
    def _row_maker(row: Brand, model: str | None, video: bool) -> tuple[str, str, str]:
        """The maker behind a brand for this device: a video-only link holds for video only."""
        if row.video_only and not video:
            # Panasonic's TVs, cameras (Lumix) and printers are Panasonic's; only its
            # security cameras are i-PRO's. The brand is the maker, as sure as the evidence.
            return row.name, "high", row.source
        return row.maker_for_model(model)

    # -- fusion --------------------------------------------------------------------------------
    def identify(self, observations: Iterable[Observation]) -> Identification:
        notes: list[str] = []
        links: list[EvidenceLink] = []
        for obs in observations:
            links.extend(self.links_for(obs, notes))
        if not links:
            return Identification.unknown(notes or ["no observation matched a fingerprint"])

        attrs: dict[str, list[_Vote]] = defaultdict(list)
        wire_mac = any(lk.observation.kind is ObservationKind.MAC for lk in links)
        for link in links:
            if wire_mac and link.observation.kind is ObservationKind.MAC_CLAIMED:
                continue  # the MAC seen on the wire wins; the claimed one stays as evidence
            for name, value in link.asserts:
                attrs[name].append(_Vote(value, link.weight, link.observation.kind, link))
        declared = self._declared(attrs, notes)
        self._mac_disagreement(links, notes)

        device_type, type_note = self._device_type(attrs["hw.device"])
        if type_note:
            notes.append(type_note)
        model = _best(attrs["hw.model"])
        brand_vote = self._brand(attrs["hw.brand"])
        maker_votes = self._maker_votes(
            attrs, model.value if model else None, notes, video=device_type.is_video
        )
        scores = {v: _combine(vs) for v, vs in maker_votes.items()}
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))

        manufacturer: str | None = None
        confidence = 0.0
        if ranked:
            top, top_score = ranked[0]
            runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
            confidence = max(0.0, top_score - runner_up / 2)
            why = ", ".join(sorted({_describe(v) for v in maker_votes[top]}))
            if len(ranked) > 1 and runner_up > CONFLICT_NOTE_ABOVE:
                other, _ = ranked[1]
                against = ", ".join(sorted({_describe(v) for v in maker_votes[other]}))
                notes.append(
                    f"conflict resolved: {top} ({top_score:.2f}: {why}) over {other} "
                    f"({runner_up:.2f}: {against})"
                )
            shared_only = all(
                str(v.link.fingerprint_id) in self.alone_insufficient for v in maker_votes[top]
            )
            if shared_only and confidence >= ABSTAIN_BELOW:
                notes.append(
                    f"abstained: only strings several makers share name {top} ({why}); "
                    "they never decide a maker alone"
                )
            elif confidence < ABSTAIN_BELOW and (
                fallback := self._declared_fallback(
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

        platform = _best(attrs["hw.platform"])
        if platform is not None and (model is None or platform.value != model.value):
            notes.append(f"platform model {platform.value} (from {platform.link.fingerprint_id})")
        firmware = _best(attrs["hw.firmware"])
        serial = _best(attrs["hw.serial"])
        return Identification(
            manufacturer=manufacturer,
            brand=brand,
            model=model.value if model else None,
            firmware=firmware.value if firmware else None,
            serial=serial.value if serial else None,
            device_type=device_type,
            confidence=round(min(1.0, confidence), 3) if manufacturer else 0.0,
            evidence=tuple(links),
            components=self._components(attrs),
            oem_relabel=relabel,
            rationale=tuple(dict.fromkeys(notes)),
        )

    def _brand(self, votes: list[_Vote]) -> _Vote | None:
        best = _best(votes)
        if best is None:
            return None
        row = self._brand_row(best.value)
        if row is not None:
            name = row.name
        else:
            hit = self.registry.resolve(best.value)
            name = hit.canonical if hit else best.value
        return _Vote(name, best.weight, best.kind, best.link)

    def _maker_votes(
        self,
        attrs: Mapping[str, list[_Vote]],
        model: str | None,
        notes: list[str],
        video: bool = False,
    ) -> dict[str, list[_Vote]]:
        votes: dict[str, list[_Vote]] = defaultdict(list)
        for v in attrs.get("hw.vendor", []):
            hit = self.registry.resolve(v.value)
            name = hit.canonical if hit else v.value
            votes[name].append(v)
        # A brand votes for its maker only where the same link did not name the maker itself.
        for v in attrs.get("hw.brand", []):
            if any(name == "hw.vendor" for name, _ in v.link.asserts):
                continue
            if v.via == "declared":
                continue  # the declaration already voted for its maker
            row = self._brand_row(v.value)
            hit = self.registry.resolve(v.value) if row is None else None
            if row is not None:
                maker, conf, _src = self._row_maker(row, model, video)
                weight = v.weight * CONFIDENCES.get(conf, 0.5)
                votes[maker].append(_Vote(maker, weight, v.kind, v.link, via=f"brand {row.name}"))
            elif hit is not None:
                votes[hit.canonical].append(_Vote(hit.canonical, v.weight, v.kind, v.link))
            else:
                notes.append(f"brand {v.value!r} is not in brands.yaml; its maker is not inferred")
        return votes

    def _device_type(self, votes: list[_Vote]) -> tuple[DeviceType, str]:
        if not votes:
            return DeviceType.UNKNOWN, ""
        totals: dict[DeviceType, float] = defaultdict(float)
        for v in votes:
            totals[DeviceType(v.value)] += v.weight
        video = sum(w for t, w in totals.items() if t.is_video)
        other = {t: w for t, w in totals.items() if not t.is_video}
        if other and max(other.values()) > video:
            best = max(other.items(), key=lambda kv: kv[1])[0]
            return best, ""
        if not video:
            return DeviceType.UNKNOWN, ""
        specific = {t: w for t, w in totals.items() if t.is_video and t is not DeviceType.CAMERA}
        chosen = max(specific.items(), key=lambda kv: kv[1])[0] if specific else DeviceType.CAMERA
        note = ""
        if len(specific) > 1:
            note = "device type votes differ: " + ", ".join(
                f"{t.value} {w:.2f}" for t, w in sorted(specific.items(), key=lambda kv: -kv[1])
            )
        return chosen, note

    @staticmethod
    def _components(attrs: Mapping[str, list[_Vote]]) -> tuple[Component, ...]:
        socs = attrs.get("hw.component.soc", [])
        if not socs:
            return ()
        out: list[Component] = []
        for vendor in dict.fromkeys(v.value for v in socs):
            links = tuple(dict.fromkeys(v.link for v in socs if v.value == vendor))
            models = [v.value for v in attrs.get("hw.component.soc.model", []) if v.link in links]
            out.append(
                Component(
                    kind="soc", vendor=vendor, model=models[0] if models else None, evidence=links
                )
            )
        return tuple(out)


def _describe(v: _Vote) -> str:
    via = f" via {v.via}" if v.via else ""
    return f"{v.link.fingerprint_id}{via}"
