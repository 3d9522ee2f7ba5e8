"""What every report says, computed once: counts, groupings and the top actions.

The formats differ in layout only; the numbers they print come from here, so the console, the
JSON summary and the HTML executive summary can never disagree.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from auditor.models import (
    AuditReport,
    Component,
    DataVersion,
    DeviceResult,
    EvidenceLink,
    Exposure,
    ExposureStatus,
    Observation,
    Outcome,
    ProbeAttempt,
    Reason,
    RemediationAction,
    Severity,
    VulnFinding,
    VulnStatus,
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
    """One kind of action across the audit: how many devices, which makers, and why (briefly)."""

    rank: int
    """1 for the most urgent kind of action, then 2, 3...: the order a reader works in."""
    action: RemediationAction
    priority: int
    """The most urgent remediation priority among its devices (smaller is more urgent)."""
    devices: tuple[str, ...]
    """Addresses (with the site in a combined report), most urgent first."""
    makers: tuple[tuple[str, int], ...]
    """Makers of its devices, the most frequent first."""
    top_instrument: str | None
    """The instrument behind the action on most of its devices (its name; see driving())."""
    top_instrument_devices: int
    top_instrument_id: str | None
    advice: str
    """What to do, in one clause (each device's full reasoning is in its own section)."""

    @property
    def headline(self) -> str:
        n = len(self.devices)
        noun = "device" if n == 1 else "devices"
        return f"{_ACTION_VERBS[self.action]} {n} {noun}"

    @property
    def makers_text(self) -> str:
        return ", ".join(f"{m} {n}" for m, n in self.makers)

    @property
    def because(self) -> str:
        """ "mainly X (n of m)": the top instrument, never a list of addresses."""
        if self.top_instrument is None:
            return ""
        n, total = self.top_instrument_devices, len(self.devices)
        share = "all" if n == total else f"{n} of {total}"
        return f"{self.top_instrument} ({share})"


def advice(why: str) -> str:
    """The first clause of a remediation's reasoning: the instruction, without the citations."""
    head = why.split(" (", 1)[0].split(". ", 1)[0].strip().rstrip(".")
    return head


def _actions(devices: tuple[DeviceResult, ...]) -> tuple[Action, ...]:
    grouped: dict[RemediationAction, list[DeviceResult]] = defaultdict(list)
    for d in devices:
        if d.remediation and d.remediation.action is not RemediationAction.NONE:
            grouped[d.remediation.action].append(d)
    out: list[Action] = []
    ordered = sorted(
        grouped.items(),
        key=lambda kv: (min(_prio(d) for d in kv[1]), -len(kv[1]), kv[0].value),
    )
    for rank, (action, group) in enumerate(ordered, start=1):
        group.sort(key=_prio)
        tops: Counter[tuple[str, str]] = Counter()
        for d in group:
            hits = reaching(d)
            if hits:
                top = driving(d, hits)
                tops[(top.instrument_name, top.instrument)] += 1
        top_key, top_n = min(tops.items(), key=lambda kv: (-kv[1], kv[0])) if tops else (None, 0)
        makers = Counter(maker(d) for d in group)
        whys = [d.remediation.why for d in group if d.remediation]
        out.append(
            Action(
                rank=rank,
                action=action,
                priority=min(_prio(d) for d in group),
                devices=tuple(device_label(d) for d in group),
                makers=tuple(sorted(makers.items(), key=lambda kv: (-kv[1], kv[0].lower()))),
                top_instrument=top_key[0] if top_key else None,
                top_instrument_id=top_key[1] if top_key else None,
                top_instrument_devices=top_n,
                advice=_plural(Counter(advice(w) for w in whys).most_common(1)[0][0], len(group))
                if whys
                else "",
            )
        )
    return tuple(out)


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


def _plural(text: str, n: int) -> str:
    """ "Isolate it ... its retirement" said of several devices: "them ... their"."""
    if n == 1:
        return text
    return re.sub(r"\bits\b", "their", re.sub(r"\bit\b", "them", text))


def _prio(d: DeviceResult) -> int:
    return d.remediation.priority if d.remediation else 99


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

    actions = _actions(devices)

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


def known_exploited(device: DeviceResult) -> bool:
    return any(v.kev and v.status is VulnStatus.AFFECTED for v in device.vulnerabilities)


def vulnerability_rows(report: AuditReport) -> tuple[tuple[DeviceResult, VulnFinding], ...]:
    """One row per device and finding: affected before possibly affected, KEV first, by CVE."""
    rows = [(d, v) for d in report.devices for v in d.vulnerabilities]
    rows.sort(
        key=lambda r: (
            r[1].status is not VulnStatus.AFFECTED,
            not r[1].kev,
            -r[1].severity.value,
            r[1].cve,
            _address_order(r[0]),
        )
    )
    return tuple(rows)


def _address_order(d: DeviceResult) -> tuple[int, int]:
    return (d.host.address.version, int(d.host.address))


def cvss_text(v: VulnFinding) -> str:
    """CVSS as published: score, version and who published it; "-" when none was."""
    if v.cvss_score is None:
        return "-"
    sev = f" {v.cvss_severity.lower()}" if v.cvss_severity else ""
    return f"{v.cvss_score:.1f}{sev} (CVSS {v.cvss_version}, {v.cvss_source or 'unknown source'})"


def kev_text(v: VulnFinding) -> str:
    if not v.kev:
        return "no"
    added = v.kev_added.isoformat() if v.kev_added else "?"
    due = f", due {v.kev_due.isoformat()}" if v.kev_due else ""
    return f"yes (added {added}{due})"


# --- notices every format carries: not legal advice, the data's date, staleness -------------

DATA_UPDATE = "camaudit data update BUNDLE"
LISTS_UPDATE = "camaudit lists import FILE --kind KIND"
VULNS_UPDATE = "camaudit data import-kev FILE (and import-cve FILE)"


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
        command = (
            LISTS_UPDATE
            if v.name.startswith("list ")
            else VULNS_UPDATE
            if v.name.startswith("vulnerability data")
            else DATA_UPDATE
        )
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


@dataclass(frozen=True, slots=True)
class Reply:
    """One raw reply of a device, shown once; the fingerprints it matched refer to it by number."""

    number: int
    seen: tuple[Observation, ...]
    """Every observation with this content (several ports or probes), the first first."""
    matches: tuple[tuple[EvidenceLink, Component | None], ...]
    """(link, component or None) for every fingerprint this reply matched."""

    @property
    def observation(self) -> Observation:
        return self.seen[0]

    @property
    def where(self) -> str:
        """ ":80, :443" -- the ports (or sources) it was seen on."""
        parts = [f":{o.port}" if o.port else o.source for o in self.seen]
        return ", ".join(dict.fromkeys(parts))

    @property
    def fingerprints(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(link.fingerprint_id for link, _ in self.matches))

    @property
    def asserts(self) -> tuple[tuple[str, str], ...]:
        """What the matches assert, each key=value once, in first-seen order."""
        seen: dict[tuple[str, str], None] = {}
        for link, _ in self.matches:
            for k, v in link.asserts:
                seen[(k, v)] = None
        return tuple(seen)


@dataclass(frozen=True, slots=True)
class DeviceEvidence:
    replies: tuple[Reply, ...]
    """Replies some fingerprint matched, in the order of the evidence chain."""
    unmatched: tuple[Reply, ...]
    """Other replies the probes recorded (numbered after the matched ones)."""
    links: int


def _content_key(o: Observation) -> tuple[str, str]:
    # The same bytes of the same kind from two ports (HTTP on 80 and 443) are one reply to read.
    return (o.kind.value, o.value)


def evidence(device: DeviceResult) -> DeviceEvidence:
    """Each raw reply once, with every fingerprint that matched it (components included).

    A reply whose content was seen on several ports or by several probes is listed once with all
    of them (``Reply.seen``); each keeps its own digest.
    """
    chain: list[tuple[EvidenceLink, Component | None]] = [
        (link, None) for link in device.identification.evidence
    ]
    for c in device.identification.components:
        chain.extend((link, c) for link in c.evidence)
    matches: dict[tuple[str, str], list[tuple[EvidenceLink, Component | None]]] = {}
    seen: dict[tuple[str, str], dict[str, Observation]] = {}
    for link, comp in chain:
        key = _content_key(link.observation)
        matches.setdefault(key, []).append((link, comp))
        seen.setdefault(key, {}).setdefault(link.observation.sha256, link.observation)
    rest: dict[tuple[str, str], dict[str, Observation]] = {}
    for o in device.observations:
        key = _content_key(o)
        if key in seen:
            seen[key].setdefault(o.sha256, o)
        else:
            rest.setdefault(key, {}).setdefault(o.sha256, o)
    replies = tuple(
        Reply(i, tuple(seen[key].values()), tuple(found))
        for i, (key, found) in enumerate(matches.items(), start=1)
    )
    unmatched = tuple(
        Reply(i, tuple(obs.values()), ())
        for i, obs in enumerate(rest.values(), start=len(replies) + 1)
    )
    return DeviceEvidence(replies, unmatched, len(chain))


def devices_by_action(
    report: AuditReport,
) -> tuple[tuple[RemediationAction | None, tuple[tuple[str, tuple[DeviceResult, ...]], ...]], ...]:
    """Devices grouped by action (most urgent first, then no action), then by maker."""
    order = {a.action: a.rank for a in summarise_actions(report)}
    groups: dict[RemediationAction | None, dict[str, list[DeviceResult]]] = {}
    for d in sorted(report.devices, key=lambda d: (_prio(d), -d.max_severity.value)):
        action = d.remediation.action if d.remediation else None
        if action is RemediationAction.NONE:
            action = None
        groups.setdefault(action, {}).setdefault(maker(d), []).append(d)
    ordered = sorted(groups.items(), key=lambda kv: order.get(kv[0], 999) if kv[0] else 1000)
    return tuple(
        (
            action,
            tuple(
                (m, tuple(ds))
                for m, ds in sorted(
                    makers.items(), key=lambda kv: (kv[0] == UNKNOWN_MAKER, -len(kv[1]), kv[0])
                )
            ),
        )
        for action, makers in ordered
    )


def summarise_actions(report: AuditReport) -> tuple[Action, ...]:
    return _actions(report.devices)


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
