"""What every report says, computed once: counts, groupings and the top actions.

The formats differ in layout only; the numbers they print come from here, so the console, the
JSON summary and the HTML executive summary can never disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from auditor.models import (
    AuditReport,
    DataVersion,
    DeviceResult,
    Exposure,
    ExposureStatus,
    Outcome,
    ProbeAttempt,
    Reason,
    RemediationAction,
    Severity,
)
from auditor.render.wording import DISCLAIMER

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

_ACTION_VERBS = {
    RemediationAction.REPLACE: "Replace",
    RemediationAction.ISOLATE: "Isolate",
    RemediationAction.REVIEW: "Review",
    RemediationAction.MONITOR: "Monitor",
    RemediationAction.NONE: "No action for",
}


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


@dataclass(frozen=True, slots=True)
class InstrumentRow:
    """One instrument across the audit: how many devices it reaches, how, and what it means."""

    instrument: str
    name: str
    jurisdiction: str
    binds: str
    source: str
    since: date | None
    max_severity: Severity
    devices: int
    statuses: tuple[tuple[str, int], ...]
    effects: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BrandRow:
    manufacturer: str
    brand: str
    devices: int
    relabel: bool


@dataclass(frozen=True, slots=True)
class Action:
    action: RemediationAction
    priority: int
    devices: tuple[str, ...]
    """Addresses (with the site in a combined report)."""
    why: tuple[str, ...]

    @property
    def headline(self) -> str:
        n = len(self.devices)
        noun = "device" if n == 1 else "devices"
        return f"{_ACTION_VERBS[self.action]} {n} {noun}"


@dataclass(frozen=True, slots=True)
class Summary:
    devices: int
    cameras: int
    """Devices identified as video devices (cameras, recorders, encoders, intercoms)."""
    exposed: int
    review: int
    incomplete: int
    relabels: int
    unconfirmed: int
    """Hosts seen only in discovery replies that never answered a unicast exchange."""
    by_severity: tuple[tuple[Severity, int], ...]
    """Devices by their highest severity, most severe first (every level, zeros included)."""
    by_manufacturer: tuple[tuple[str, int], ...]
    by_instrument: tuple[InstrumentRow, ...]
    by_brand: tuple[BrandRow, ...]
    actions: tuple[Action, ...]
    observations: int


def device_label(device: DeviceResult) -> str:
    return f"{device.host.address} ({device.site})" if device.site else str(device.host.address)


def summarise(report: AuditReport) -> Summary:
    devices = report.devices
    severities = Counter(d.max_severity for d in devices)
    makers = Counter(maker(d) for d in devices)

    by_instrument: dict[str, list[tuple[DeviceResult, int]]] = defaultdict(list)
    for d in devices:
        for i, e in enumerate(d.exposures):
            # "Not listed" is a finding per device, but no instrument reaches it: not a row here.
            if not is_clean(e):
                by_instrument[e.instrument].append((d, i))
    instruments = []
    for inst, hits in by_instrument.items():
        exposures = [d.exposures[i] for d, i in hits]
        first = exposures[0]
        statuses = Counter(e.status.value for e in exposures)
        instruments.append(
            InstrumentRow(
                instrument=inst,
                name=first.instrument_name,
                jurisdiction=first.jurisdiction,
                binds=first.binds,
                source=first.source,
                since=first.since,
                max_severity=max(e.severity for e in exposures),
                devices=len({id(d) for d, _ in hits}),
                statuses=tuple(sorted(statuses.items())),
                effects=tuple(dict.fromkeys(e.effect for e in exposures)),
            )
        )
    instruments.sort(key=lambda r: (-r.max_severity.value, -r.devices, r.instrument))

    brands: Counter[tuple[str, str, bool]] = Counter(
        (maker(d), d.identification.brand or "-", d.identification.oem_relabel) for d in devices
    )
    brand_rows = sorted(
        (BrandRow(m, b, n, r) for (m, b, r), n in brands.items()),
        key=lambda r: (r.manufacturer == UNKNOWN_MAKER, r.manufacturer.lower(), r.brand.lower()),
    )

    grouped: dict[tuple[RemediationAction, int], list[DeviceResult]] = defaultdict(list)
    for d in devices:
        if d.remediation and d.remediation.action is not RemediationAction.NONE:
            grouped[(d.remediation.action, d.remediation.priority)].append(d)
    actions = tuple(
        Action(
            action=action,
            priority=priority,
            devices=tuple(device_label(d) for d in group),
            why=tuple(dict.fromkeys(d.remediation.why for d in group if d.remediation)),
        )
        for (action, priority), group in sorted(
            grouped.items(), key=lambda kv: (kv[0][1], -len(kv[1]), kv[0][0].value)
        )
    )

    return Summary(
        devices=len(devices),
        cameras=sum(1 for d in devices if d.identification.device_type.is_video),
        exposed=sum(1 for d in devices if is_exposed(d)),
        review=sum(1 for d in devices if needs_review(d)),
        incomplete=len(report.incomplete),
        unconfirmed=sum(1 for d in devices if d.unconfirmed),
        relabels=sum(1 for d in devices if d.identification.oem_relabel),
        by_severity=tuple((s, severities.get(s, 0)) for s in SEVERITIES_DESC),
        by_manufacturer=tuple(
            sorted(makers.items(), key=lambda kv: (kv[0] == UNKNOWN_MAKER, -kv[1], kv[0].lower()))
        ),
        by_instrument=tuple(instruments),
        by_brand=tuple(brand_rows),
        actions=actions,
        observations=sum(len(d.observations) for d in devices),
    )


def devices_by_severity(
    report: AuditReport,
) -> tuple[tuple[Severity, tuple[DeviceResult, ...]], ...]:
    """Devices grouped by their highest severity, most severe first; empty groups left out."""
    groups = []
    for sev in SEVERITIES_DESC:
        members = tuple(d for d in report.devices if d.max_severity is sev)
        if members:
            groups.append((sev, members))
    return tuple(groups)


# --- notices every format carries: not legal advice, the data's date, staleness -------------

DATA_UPDATE = "camaudit data update BUNDLE"
LISTS_UPDATE = "camaudit lists import FILE --kind KIND"


@dataclass(frozen=True, slots=True)
class Notice:
    """One line every format shows near its top, in the form the format allows."""

    kind: str
    """"legal", "data", "stale", "lists" (no official list) or "not-applied"."""
    text: str
    as_of: date | None = None


def _data_version(report: AuditReport) -> DataVersion | None:
    by_name = {v.name: v for v in report.audit.data_versions}
    for name in ("data bundle", "regulatory data", "regulatory"):
        if name in by_name:
            return by_name[name]
    return None


def notices(report: AuditReport) -> tuple[Notice, ...]:
    """The not-legal-advice note, the data in use with its as-of date, and every warning."""
    out = [Notice("legal", DISCLAIMER)]
    data = _data_version(report)
    if data is None:
        out.append(Notice("data", "Data: the data versions were not recorded with this audit."))
    else:
        as_of = data.as_of.isoformat() if data.as_of else "an unknown date"
        # The bundle's version already says what it is ("bundle 2026.12.0 (...)", "shipped...").
        what = data.version if data.name == "data bundle" else f"{data.name} {data.version}"
        out.append(Notice("data", f"Data: {what}, as of {as_of}.", data.as_of))
    bundle_stale = data is not None and data.name == "data bundle" and data.stale
    for v in report.audit.data_versions:
        if not v.stale or (bundle_stale and v.name in ("regulatory data", "regulatory")):
            continue
        command = LISTS_UPDATE if v.name.startswith("list ") else DATA_UPDATE
        when = v.as_of.isoformat() if v.as_of else "an unknown date"
        out.append(
            Notice(
                "stale",
                f"STALE DATA: {v.name} is as of {when}, older than its review limit. Update it "
                f"with `{command}`, then run `camaudit report` again before relying on this "
                "report.",
                v.as_of,
            )
        )
    for note in report.notes:
        if note.startswith("No official list imported"):
            out.append(Notice("lists", note))
        elif note.startswith("As recorded on"):
            out.append(Notice("not-applied", note))
    return tuple(out)
