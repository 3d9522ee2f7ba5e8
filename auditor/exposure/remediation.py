"""What to do about a device, chosen by what each instrument restricts, and how urgently.

An instrument's KIND decides the actions (instruments.yaml): the Entity List restricts exports to
a company, not buying or using its cameras; an FCC rule restricts authorisation, import and
marketing, not use; section 889 Part B asks a contractor for an inquiry, a representation and a
report within one business day; India's CCTV rule asks for the model's certification. Severity
(from the audience table) says how urgent each one is for this audience, and caps the action: an
instrument that does not bind the audience (info) drives nothing, and a "not listed" finding
never drives anything. The device's action is the strongest one; its reasons are grouped by
kind, each instrument named once.

Priority 1 is the most urgent. Severity decides first; within a severity, recorders (NVRs, DVRs)
come before cameras, because one recorder holds the footage of many cameras and usually sits
closer to the core network.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auditor.exposure.regulatory import Instrument
from auditor.models import (
    DeviceType,
    Exposure,
    ExposureStatus,
    Identification,
    Remediation,
    RemediationAction,
    Severity,
)

RECORDERS = frozenset({DeviceType.NVR, DeviceType.DVR})
_FIRM = frozenset(
    {
        ExposureStatus.LISTED,
        ExposureStatus.COVERED,
        ExposureStatus.COVERED_IF_SECURITY_USE,
        ExposureStatus.COVERED_THROUGH_OWNERSHIP,
    }
)
A = RemediationAction
#: Strength of an action, for "the strongest one wins".
_RANK = {A.NONE: 0, A.MONITOR: 1, A.REVIEW: 2, A.ISOLATE: 3, A.REPLACE: 4}
_VERB = {
    A.REPLACE: "Plan replacement",
    A.ISOLATE: "Isolate it from core networks and plan its retirement",
    A.REVIEW: "Confirm the facts before acting",
    A.MONITOR: "Keep it under watch",
}


@dataclass(frozen=True, slots=True)
class KindPlan:
    """What one kind of instrument asks of the user, and the strongest action it can justify."""

    label: str
    ceiling: RemediationAction
    steps: str


PLANS: Mapping[str, KindPlan] = {
    "export_control": KindPlan(
        "Export control",
        A.MONITOR,
        "It restricts exports to the company, not buying or using this device: do not send the "
        "maker items, software or technology subject to the export rules (parts sent for repair "
        "included) without a licence, and expect its firmware updates and support to become "
        "unreliable.",
    ),
    "procurement_ban": KindPlan(
        "Procurement ban",
        A.REPLACE,
        "The bound buyer may not buy more of this equipment: stop new purchases and plan the "
        "removal and replacement of installed units.",
    ),
    "contractor_use_ban": KindPlan(
        "Contractor-use ban",
        A.REPLACE,
        "A federal contractor may not use covered equipment anywhere in its operations, "
        "whatever the federal nexus: find it, report it, and remove or replace it.",
    ),
    "authorisation_ban": KindPlan(
        "Authorisation, import and marketing ban",
        A.MONITOR,
        "FCC rules restrict equipment authorisation, import and marketing, not use: the installed "
        "unit may stay in service, but do not import, resell or advertise such units in the US, "
        "do not count on new authorised models or modifications, and do not buy them with "
        "Universal Service Fund support.",
    ),
    "investment_ban": KindPlan(
        "Investment ban",
        A.MONITOR,
        "It restricts investment in, or the local operation of, the company, not the use of this "
        "device: check that warranty, support and firmware updates still reach you.",
    ),
    "blocking_sanctions": KindPlan(
        "Blocking sanctions",
        A.REPLACE,
        "US persons must stop all dealings with the listed party (purchases, support contracts, "
        "cloud services, firmware downloads) and block any of its property they hold; take "
        "counsel before acting.",
    ),
    "certification": KindPlan(
        "Certification requirement",
        A.REVIEW,
        "Check that this model carries the required certification; buy only certified models.",
    ),
    "state_list": KindPlan(
        "State prohibited-technology list",
        A.REPLACE,
        "Remove it from state devices and networks and block it on state networks under the "
        "agency's prohibited-technology security plan.",
    ),
    "designation": KindPlan(
        "Designation",
        A.MONITOR,
        "The designation prohibits nothing by itself; watch the instruments it drives (for DoD "
        "contracting, FY2024 NDAA section 805).",
    ),
    "other_list": KindPlan(
        "Other official list",
        A.REVIEW,
        "Read the matched list row: the restriction depends on the program it names.",
    ),
}
_UNKNOWN_WHY = "The maker is unknown: check the label, firmware and supplier before deciding"


def priority(severity: Severity, device_type: DeviceType) -> int:
    rank = 2 * (Severity.CRITICAL.value - severity.value)
    return rank + (1 if device_type in RECORDERS else 2)


def _by_severity(e: Exposure) -> RemediationAction:
    """The action the audience's severity alone would justify."""
    firm = e.status in _FIRM and not e.uncertain
    if e.severity is Severity.CRITICAL:
        return A.REPLACE
    if e.severity is Severity.HIGH:
        return A.REPLACE if firm else A.REVIEW
    if e.severity is Severity.MEDIUM:
        return A.ISOLATE if firm else A.REVIEW
    if e.severity is Severity.LOW:
        return A.MONITOR
    return A.NONE


def action_for(e: Exposure, plan: KindPlan) -> RemediationAction:
    """One exposure's action: what its severity justifies, capped by what its kind restricts."""
    if e.status is ExposureStatus.NOT_LISTED or e.severity <= Severity.INFO:
        return A.NONE  # "not listed" never drives an action; info does not bind this audience
    if e.status is ExposureStatus.UNKNOWN or e.status is ExposureStatus.POSSIBLE_MATCH:
        return A.REVIEW
    wanted = _by_severity(e)
    if _RANK[wanted] > _RANK[plan.ceiling]:
        # Uncertain facts under a weak instrument: watching is all the instrument asks for.
        return plan.ceiling
    return wanted


def recommend(
    identification: Identification,
    exposures: Sequence[Exposure],
    instruments: Mapping[str, Instrument],
) -> Remediation:
    role = identification.device_type
    sections: dict[str, list[tuple[Exposure, RemediationAction]]] = {}
    unknown = False
    possible: list[Exposure] = []
    for e in exposures:
        inst = instruments.get(e.instrument)
        plan = PLANS[inst.kind] if inst is not None else PLANS["other_list"]
        act = action_for(e, plan)
        if act is A.NONE:
            continue
        if e.status is ExposureStatus.UNKNOWN:
            unknown = True
        elif e.status is ExposureStatus.POSSIBLE_MATCH:
            possible.append(e)
        else:
            sections.setdefault(inst.kind if inst else "other_list", []).append((e, act))
    acting = [e for items in sections.values() for e, _ in items] + possible
    acting += [e for e in exposures if unknown and e.status is ExposureStatus.UNKNOWN]
    actions = [act for items in sections.values() for _, act in items]
    if unknown or possible:
        actions.append(A.REVIEW)
    if not actions:
        why = "No listing reaches this device for this audience in the data used"
        shown = max((e.severity for e in exposures), default=Severity.NONE)
        return Remediation(A.NONE, priority(shown, role), why + ".")
    action = max(actions, key=lambda a: _RANK[a])
    top = max(e.severity for e in acting)
    parts: list[str] = []
    if unknown:
        parts.append(_UNKNOWN_WHY)
    if possible:
        names = _names(possible)
        parts.append(f"A possible (fuzzy) match on an official list needs review: {names}")
    ordered = sorted(sections.items(), key=lambda kv: -max(_RANK[a] for _, a in kv[1]))
    for kind, items in ordered:
        parts.append(_section(PLANS[kind], items, instruments))
    why = ". ".join(p.rstrip(".") for p in parts)
    if role in RECORDERS:
        why += ". It is a recorder (holds many cameras' footage), so it goes first"
    return Remediation(action=action, priority=priority(top, role), why=why + ".")


def _names(items: Sequence[Exposure]) -> str:
    """Each instrument once, with its strongest status: reasons are not repeated."""
    best: dict[str, Exposure] = {}
    for e in items:
        known = best.get(e.instrument)
        if known is None or known.severity < e.severity:
            best[e.instrument] = e
    return "; ".join(f"{e.instrument_name} ({e.status.label})" for e in best.values())


def _section(
    plan: KindPlan,
    items: Sequence[tuple[Exposure, RemediationAction]],
    instruments: Mapping[str, Instrument],
) -> str:
    act = max((a for _, a in items), key=lambda a: _RANK[a])
    exposures = [e for e, _ in items]
    head = f"{_VERB[act]} ({plan.label}: {_names(exposures)})"
    if act is A.MONITOR and plan.ceiling is not A.MONITOR:
        # Low urgency for this audience: the bound party's steps would only mislead here.
        return f"{head}: it binds others more than this audience."
    text = f"{head}. {plan.steps}"
    deadlines = dict.fromkeys(
        d
        for e in exposures
        if (inst := instruments.get(e.instrument)) is not None and (d := inst.deadline)
    )
    for deadline in deadlines:
        text += f" {deadline}"
    if any(e.uncertain or e.status not in _FIRM for e in exposures):
        text += (
            " Some of these facts are uncertain (ownership, production date, component or the "
            "list entry): confirm them before acting."
        )
    return text
