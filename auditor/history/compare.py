"""What changed between two audits of a site: new, gone and changed devices, exposures and
known-vulnerability findings.

A device is matched across audits by what identifies it, strongest first: its serial number,
then its MAC, then its address, then (among the devices still unmatched, when exactly one on each
side fits) what it is (maker, brand, model, type) or the banners it presents. Addresses move
(DHCP, a re-addressed VLAN, each `camaudit demo` on a new loopback subnet) and many devices show
no MAC (routed subnets, loopback), so no single key is enough. Two devices are never matched when
a serial, MAC or model known on both sides differs: a swapped camera at the same address is gone +
new, not "changed".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from auditor.models import (
    AuditReport,
    DeviceResult,
    Exposure,
    ExposureStatus,
    ObservationKind,
    Severity,
    VulnStatus,
)

_IDENTITY = ("manufacturer", "brand", "model", "firmware", "device_type")

#: Banners a device presents the same way whatever its address (a title only when it does not
#: carry the address, as printers' and some DVRs' do).
_BANNER_KINDS = frozenset(
    {
        ObservationKind.HTTP_SERVER,
        ObservationKind.HTTP_TITLE,
        ObservationKind.HTTP_WWW_AUTHENTICATE,
        ObservationKind.RTSP_SERVER,
        ObservationKind.RTSP_WWW_AUTHENTICATE,
        ObservationKind.SSH_BANNER,
        ObservationKind.TELNET_BANNER,
        ObservationKind.FTP_BANNER,
        ObservationKind.SIP_USER_AGENT,
        ObservationKind.UPNP_SERVER,
    }
)


class MatchBasis(StrEnum):
    """How a device of one audit was recognised in the other."""

    SERIAL = "serial"
    MAC = "mac"
    ADDRESS = "address"
    IDENTITY = "identity"
    """The only unmatched device on each side with this maker, brand, model and type."""
    BANNERS = "banners"
    """The only unmatched device on each side presenting exactly these banners."""


@dataclass(frozen=True, slots=True)
class DeviceMatch:
    old: DeviceResult
    new: DeviceResult
    basis: MatchBasis


@dataclass(frozen=True, slots=True)
class Matching:
    pairs: tuple[DeviceMatch, ...]
    old_only: tuple[DeviceResult, ...]
    new_only: tuple[DeviceResult, ...]


def _norm(value: str | None) -> str | None:
    text = (value or "").strip().lower()
    return text or None


def _contradicts(a: DeviceResult, b: DeviceResult) -> bool:
    """A serial, MAC or model known on both sides that differs: not the same device."""
    ia, ib = a.identification, b.identification
    for x, y in (
        (_norm(ia.serial), _norm(ib.serial)),
        (a.host.mac, b.host.mac),
        (_norm(ia.model), _norm(ib.model)),
    ):
        if x is not None and y is not None and x != y:
            return True
    return False


def _serial(d: DeviceResult) -> Hashable | None:
    return _norm(d.identification.serial)


def _mac(d: DeviceResult) -> Hashable | None:
    return d.host.mac


def _address(d: DeviceResult) -> Hashable | None:
    return (d.site, d.host.address)


def _identity(d: DeviceResult) -> Hashable | None:
    ident = d.identification
    if ident.manufacturer is None and ident.model is None:
        return None
    return (
        _norm(ident.manufacturer),
        _norm(ident.brand),
        _norm(ident.model),
        ident.device_type.value,
    )


def _banners(d: DeviceResult) -> Hashable | None:
    address = str(d.host.address)
    seen = frozenset(
        (o.kind.value, o.value)
        for o in d.observations
        if o.kind in _BANNER_KINDS and address not in o.value
    )
    return seen or None


_TIERS: tuple[tuple[MatchBasis, Callable[[DeviceResult], Hashable | None]], ...] = (
    (MatchBasis.SERIAL, _serial),
    (MatchBasis.MAC, _mac),
    (MatchBasis.ADDRESS, _address),
    (MatchBasis.IDENTITY, _identity),
    (MatchBasis.BANNERS, _banners),
)


def match_devices(old: Sequence[DeviceResult], new: Sequence[DeviceResult]) -> Matching:
    """Pair the devices of two audits (see the module docstring for the order of the keys).

    A key pairs devices only when it is unique among the still unmatched devices on both sides:
    two cameras claiming one serial (a firmware default, a hostile device) match neither.
    """
    old_left = list(old)
    new_left = list(new)
    pairs: list[DeviceMatch] = []
    for basis, key in _TIERS:
        old_keys = [(key(d), d) for d in old_left]
        new_keys = [(key(d), d) for d in new_left]
        old_count = Counter(k for k, _ in old_keys if k is not None)
        new_count = Counter(k for k, _ in new_keys if k is not None)
        by_key = {k: d for k, d in old_keys if k is not None and old_count[k] == 1}
        matched_old: set[int] = set()
        matched_new: set[int] = set()
        for k, d in new_keys:
            if k is None or new_count[k] != 1:
                continue
            candidate = by_key.get(k)
            if candidate is None or _contradicts(candidate, d):
                continue
            pairs.append(DeviceMatch(candidate, d, basis))
            matched_old.add(id(candidate))
            matched_new.add(id(d))
        old_left = [d for d in old_left if id(d) not in matched_old]
        new_left = [d for d in new_left if id(d) not in matched_new]
    # Keep the new audit's order, so a diff or a combined report reads like the audit.
    order = {id(d): i for i, d in enumerate(new)}
    pairs.sort(key=lambda m: order[id(m.new)])
    return Matching(pairs=tuple(pairs), old_only=tuple(old_left), new_only=tuple(new_left))


class ExposureMove(StrEnum):
    NEW = "new"
    GONE = "gone"
    WORSE = "worse"
    BETTER = "better"
    CHANGED = "changed"
    """The status changed at the same severity (e.g. a possible match confirmed as listed)."""


@dataclass(frozen=True, slots=True)
class ExposureChange:
    instrument: str
    entity: str | None
    name: str
    before: tuple[ExposureStatus, Severity] | None
    after: tuple[ExposureStatus, Severity] | None
    source: str = ""

    @property
    def move(self) -> ExposureMove:
        if self.before is None:
            return ExposureMove.NEW
        if self.after is None:
            return ExposureMove.GONE
        if self.after[1] > self.before[1]:
            return ExposureMove.WORSE
        if self.after[1] < self.before[1]:
            return ExposureMove.BETTER
        return ExposureMove.CHANGED


@dataclass(frozen=True, slots=True)
class VulnChange:
    """A known-vulnerability finding that appeared, went (e.g. after a firmware update) or
    changed status or severity."""

    cve: str
    before: tuple[VulnStatus, Severity] | None
    after: tuple[VulnStatus, Severity] | None


@dataclass(frozen=True, slots=True)
class DeviceChange:
    old: DeviceResult
    new: DeviceResult
    fields: tuple[tuple[str, str, str], ...]
    """(field, before, after) for identity fields and the address."""
    exposures: tuple[ExposureChange, ...]
    basis: MatchBasis = MatchBasis.MAC
    vulnerabilities: tuple[VulnChange, ...] = ()

    @property
    def moved(self) -> bool:
        return any(name == "address" for name, _, _ in self.fields)


@dataclass(frozen=True, slots=True)
class Escalation:
    """A new or worsened exposure: what `diff --fail-on` gates on."""

    device: DeviceResult
    instrument: str
    entity: str | None
    name: str
    severity: Severity
    before: Severity | None
    source: str


@dataclass(frozen=True, slots=True)
class AuditDiff:
    old: AuditReport
    new: AuditReport
    added: tuple[DeviceResult, ...]
    gone: tuple[DeviceResult, ...]
    changed: tuple[DeviceChange, ...]
    unchanged: int

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.gone or self.changed)

    @property
    def moved(self) -> int:
        return sum(1 for c in self.changed if c.moved)

    def escalations(self, at_least: Severity = Severity.INFO) -> tuple[Escalation, ...]:
        """Exposures at ``at_least`` or above that are new (also on a new device) or worse."""
        out = [
            Escalation(d, e.instrument, e.entity, e.instrument_name, e.severity, None, e.source)
            for d in self.added
            for e in d.exposures
            if e.severity >= at_least and e.severity > Severity.NONE
        ]
        for c in self.changed:
            for x in c.exposures:
                if x.after is None or x.move not in (ExposureMove.NEW, ExposureMove.WORSE):
                    continue
                severity = x.after[1]
                if severity >= at_least and severity > Severity.NONE:
                    before = x.before[1] if x.before else None
                    out.append(
                        Escalation(
                            c.new, x.instrument, x.entity, x.name, severity, before, x.source
                        )
                    )
        return tuple(out)


def _text(value: object) -> str:
    if value is None:
        return "-"
    return str(getattr(value, "value", value))


ExposureKey = tuple[str, str]


def _exposures(d: DeviceResult) -> dict[ExposureKey, Exposure]:
    # One instrument can reach a device twice (its maker and a component's vendor): key by both.
    return {(e.instrument, e.entity or ""): e for e in d.exposures}


def _compare(old: DeviceResult, new: DeviceResult, basis: MatchBasis) -> DeviceChange | None:
    fields = []
    if old.host.address != new.host.address:
        fields.append(("address", str(old.host.address), str(new.host.address)))
    for name in _IDENTITY:
        before = _text(getattr(old.identification, name))
        after = _text(getattr(new.identification, name))
        if before != after:
            fields.append((name, before, after))
    before_exp, after_exp = _exposures(old), _exposures(new)
    changes = []
    for key in sorted(before_exp.keys() | after_exp.keys()):
        b = before_exp.get(key)
        a = after_exp.get(key)
        b_state = (b.status, b.severity) if b else None
        a_state = (a.status, a.severity) if a else None
        if b_state != a_state:
            shown = a or b
            changes.append(
                ExposureChange(
                    instrument=key[0],
                    entity=key[1] or None,
                    name=shown.instrument_name if shown else "",
                    before=b_state,
                    after=a_state,
                    source=shown.source if shown else "",
                )
            )
    before_v = {v.cve: (v.status, v.severity) for v in old.vulnerabilities}
    after_v = {v.cve: (v.status, v.severity) for v in new.vulnerabilities}
    vulns = tuple(
        VulnChange(cve, before_v.get(cve), after_v.get(cve))
        for cve in sorted(before_v.keys() | after_v.keys())
        if before_v.get(cve) != after_v.get(cve)
    )
    if not fields and not changes and not vulns:
        return None
    return DeviceChange(
        old=old,
        new=new,
        fields=tuple(fields),
        exposures=tuple(changes),
        basis=basis,
        vulnerabilities=vulns,
    )


def diff(old: AuditReport, new: AuditReport) -> AuditDiff:
    matching = match_devices(old.devices, new.devices)
    changed = [c for m in matching.pairs if (c := _compare(m.old, m.new, m.basis)) is not None]
    return AuditDiff(
        old=old,
        new=new,
        added=matching.new_only,
        gone=matching.old_only,
        changed=tuple(changed),
        unchanged=len(matching.pairs) - len(changed),
    )
