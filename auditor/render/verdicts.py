"""Per-device verdicts every format shares: exposed, clean, needs review, and which
instrument drives the device's action.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from auditor.models import (
    DeviceResult,
    Exposure,
    ExposureStatus,
    Outcome,
    ProbeAttempt,
    Reason,
    Severity,
)

UNKNOWN_MAKER = "unknown"
#: Statuses that mean an instrument reaches the device (UNKNOWN is "review", NOT_LISTED is clean).
EXPOSED_STATUSES = frozenset(
    {
        ExposureStatus.LISTED,
        ExposureStatus.COVERED,
        ExposureStatus.COVERED_IF_SECURITY_USE,
        ExposureStatus.COVERED_THROUGH_OWNERSHIP,
        ExposureStatus.COMPONENT,
        ExposureStatus.POSSIBLE_MATCH,
    }
)
SEVERITIES_DESC = tuple(sorted(Severity, key=lambda s: s.value, reverse=True))


def is_exposed(device: DeviceResult) -> bool:
    """An instrument reaches the device at LOW or above (INFO: it does not bind this audience)."""
    return any(
        e.status in EXPOSED_STATUSES and e.severity >= Severity.LOW for e in device.exposures
    )


#: Not-run reasons a reader can act on (give credentials, resume); the others are just "n/a".
_ACTIONABLE_NOT_RUN = frozenset({Reason.NO_CREDENTIALS, Reason.WITHHELD, Reason.INTERRUPTED})


def shortfalls(device: DeviceResult) -> tuple[ProbeAttempt, ...]:
    """Why a host is incomplete: its failed probes, and those skipped for lack of credentials."""
    return tuple(
        a
        for a in device.attempts
        if a.outcome is Outcome.FAILED
        or (a.outcome is Outcome.NOT_RUN and a.reason in _ACTIONABLE_NOT_RUN)
    )


def is_clean(e: Exposure) -> bool:
    """Not listed, and sure of it.

    An *uncertain* "not listed" that still carries a severity means "not confirmed either way"
    (e.g. a maker on a list we could only partly check): the reader must review it.
    """
    # INFO means the instrument does not bind this audience: nothing to review there.
    return e.status is ExposureStatus.NOT_LISTED and not (
        e.uncertain and e.severity >= Severity.LOW
    )


def needs_review(device: DeviceResult) -> bool:
    return (
        any(e.status is ExposureStatus.UNKNOWN for e in device.exposures)
        or any(e.status is ExposureStatus.NOT_LISTED and not is_clean(e) for e in device.exposures)
        or device.identification.manufacturer is None
    )


def reaching(device: DeviceResult) -> tuple[Exposure, ...]:
    """The device's exposures that need attention (exposed or unknown), most severe first."""
    hits = [e for e in device.exposures if not is_clean(e)]
    return tuple(sorted(hits, key=lambda e: -e.severity.value))


def not_listed(device: DeviceResult) -> tuple[Exposure, ...]:
    return tuple(e for e in device.exposures if is_clean(e))


def maker(device: DeviceResult) -> str:
    return device.identification.manufacturer or UNKNOWN_MAKER


def driving(d: DeviceResult, hits: tuple[Exposure, ...] | None = None) -> Exposure:
    """The instrument behind a device's action: of those at its top severity, the one its
    remediation names first (the assessor leads with the instrument that decided the action);
    otherwise the first of them."""
    hits = reaching(d) if hits is None else hits
    top = [e for e in hits if e.severity is hits[0].severity]
    why = d.remediation.why if d.remediation else ""
    named = [(why.find(e.instrument_name), i) for i, e in enumerate(top)]
    found = [pair for pair in named if pair[0] >= 0]
    return top[min(found)[1]] if found else top[0]


def device_label(device: DeviceResult) -> str:
    return f"{device.host.address} ({device.site})" if device.site else str(device.host.address)


def type_counts(devices: Iterable[DeviceResult]) -> str:
    counts = Counter(d.identification.device_type.label for d in devices)
    return ", ".join(f"{n} {t}" for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def top_exposure(device: DeviceResult, limit: int = 40) -> str:
    """The device's most severe instrument and how many more: never a wall of ids."""
    hits = reaching(device)
    if not hits:
        return "-"
    more = len(hits) - 1
    name = driving(device, hits).instrument_name
    if len(name) > limit:
        name = name[: limit - 1].rstrip() + "…"
    return name + (f" +{more}" if more else "")
