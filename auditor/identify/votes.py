"""How evidence votes are weighed: one signal per family of observation kinds, independent
signals combined like probabilities, and the device type and components the votes assert.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from auditor.models import Component, DeviceType, EvidenceLink, ObservationKind

ABSTAIN_BELOW = 0.5
"""A manufacturer scoring less than this is not named ("maker unknown")."""


@dataclass(frozen=True, slots=True)
class Vote:
    """One evidence link's vote for one attribute value, with the weight it carries."""

    value: str
    weight: float
    kind: ObservationKind
    link: EvidenceLink
    via: str = ""


def best(votes: list[Vote]) -> Vote | None:
    # Highest weight wins; on ties the earlier observation keeps it (stable, reproducible).
    best: Vote | None = None
    for v in votes:
        if best is None or v.weight > best.weight:
            best = v
    return best


#: Kinds that report the same underlying fact count as one signal: the scopes inside a ProbeMatch
#: are the device's scopes, a realm is one setting whether HTTP or RTSP announces it, and a MAC's
#: vendor name is its OUI said again.
FAMILY: dict[ObservationKind, str] = {
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


def combine(votes: list[Vote]) -> float:
    """A maker's score: the strongest vote per family, combined as 1 - prod(1 - w)."""
    per_kind: dict[str, float] = {}
    for v in votes:
        family = FAMILY.get(v.kind, v.kind.value)
        per_kind[family] = max(per_kind.get(family, 0.0), v.weight)
    miss = 1.0
    for w in per_kind.values():
        miss *= 1.0 - w
    return 1.0 - miss


def describe(v: Vote) -> str:
    """The fingerprint behind a vote, for the rationale."""
    via = f" via {v.via}" if v.via else ""
    return f"{v.link.fingerprint_id}{via}"


def device_type_of(votes: list[Vote]) -> tuple[DeviceType, str]:
    """The device type the votes carry most weight for, and a note when video types differ."""
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


def components_of(attrs: Mapping[str, list[Vote]]) -> tuple[Component, ...]:
    """The SoCs the evidence names, each with the links that named it."""
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
