"""What every report says, computed once: counts, groupings and certainty.

The formats differ in layout only; the numbers they print come from here, so the console, the
JSON summary and the HTML executive summary can never disagree.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date

from auditor.models import AuditReport, DeviceResult, Reason, Severity
from auditor.render.actions import Action, summarise_actions
from auditor.render.findings import known_exploited
from auditor.render.verdicts import (
    SEVERITIES_DESC,
    UNKNOWN_MAKER,
    is_clean,
    is_exposed,
    maker,
    needs_review,
    shortfalls,
)


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
    vulnerable: int = 0
    """Devices with at least one known-vulnerability finding (affected or possibly affected)."""
    known_exploited: int = 0
    """Devices running a firmware affected by a flaw in CISA's KEV catalogue."""


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

    actions = summarise_actions(report)

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
        vulnerable=sum(1 for d in devices if d.vulnerabilities),
        known_exploited=sum(1 for d in devices if known_exploited(d)),
    )


def data_age_days(as_of: date | None, at: date) -> int | None:
    """How old a data set was on the day of the audit (never today: reports must not drift)."""
    return None if as_of is None else (at - as_of).days


@dataclass(frozen=True, slots=True)
class Certainty:
    """How sure the report is: identification confidence bands and what limits it."""

    high: int
    """Maker named with confidence >= 80 %."""
    medium: int
    low: int
    """Maker named below 50 %."""
    unknown_maker: int
    incomplete: int
    discovery_failures: int


def certainty(report: AuditReport) -> Certainty:
    named = [d for d in report.devices if d.identification.manufacturer is not None]
    return Certainty(
        high=sum(1 for d in named if d.identification.confidence >= 0.8),
        medium=sum(1 for d in named if 0.5 <= d.identification.confidence < 0.8),
        low=sum(1 for d in named if d.identification.confidence < 0.5),
        unknown_maker=len(report.devices) - len(named),
        incomplete=len(report.incomplete),
        discovery_failures=len(report.audit.channel_failures),
    )


def shortfall_counts(report: AuditReport) -> tuple[tuple[str, Reason | None, int], ...]:
    """Why hosts are incomplete, as (probe, reason, hosts): the summary level's short form."""
    counts: Counter[tuple[str, Reason | None]] = Counter()
    for d in report.incomplete:
        counts.update({(a.probe, a.reason) for a in shortfalls(d)})
    return tuple(
        (probe, reason, n)
        for (probe, reason), n in sorted(
            counts.items(), key=lambda kv: (-kv[1], kv[0][0], kv[0][1] or "")
        )
    )
