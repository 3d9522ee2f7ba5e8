"""What to do about a device: replace, isolate, monitor, review or nothing, and how urgently.

Priority 1 is the most urgent. Severity decides first; within a severity, recorders (NVRs, DVRs)
come before cameras, because one recorder holds the footage of many cameras and usually sits
closer to the core network.
"""

from __future__ import annotations

from collections.abc import Sequence

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


def priority(severity: Severity, device_type: DeviceType) -> int:
    rank = 2 * (Severity.CRITICAL.value - severity.value)
    return rank + (1 if device_type in RECORDERS else 2)


def recommend(identification: Identification, exposures: Sequence[Exposure]) -> Remediation:
    top = max((e.severity for e in exposures), default=Severity.NONE)
    driving = [e for e in exposures if e.severity == top and top > Severity.NONE]
    role = identification.device_type
    where = (
        "a recorder (holds many cameras' footage), so it goes first" if role in RECORDERS else ""
    )
    names = sorted({f"{e.instrument_name} ({e.status.label})" for e in driving})
    because = "; ".join(names[:4]) + (f"; and {len(names) - 4} more" if len(names) > 4 else "")
    firm = any(e.status in _FIRM and not e.uncertain for e in driving)
    if (
        identification.manufacturer is None
        and top <= Severity.MEDIUM
        or any(e.status is ExposureStatus.UNKNOWN for e in driving)
    ):
        action = RemediationAction.REVIEW
        why = "The maker is unknown: check the label, firmware and supplier before deciding"
    elif all(e.status is ExposureStatus.POSSIBLE_MATCH for e in driving) and driving:
        action = RemediationAction.REVIEW
        why = f"A possible (fuzzy) match on an official list needs review: {because}"
    elif top is Severity.CRITICAL or (top is Severity.HIGH and firm):
        action = RemediationAction.REPLACE
        why = f"Plan replacement: {because}"
    elif top >= Severity.MEDIUM:
        action = RemediationAction.ISOLATE if firm else RemediationAction.REVIEW
        why = (
            f"Isolate it from core networks and plan its retirement: {because}"
            if firm
            else f"Uncertain exposure, confirm the facts (ownership, production date, list "
            f"entry) before acting: {because}"
        )
    elif top is Severity.LOW:
        action = RemediationAction.MONITOR
        why = f"Keep it under watch for list changes: {because}"
    else:
        action = RemediationAction.NONE
        why = "No listing reaches this device for this audience in the data used"
    if where:
        why = f"{why}. It is {where}"
    return Remediation(action=action, priority=priority(top, role), why=why + ".")
