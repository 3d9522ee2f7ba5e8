"""What changed between two audits of a site: new, gone and changed devices, and exposures.

Devices are matched by MAC address first (DHCP moves cameras between addresses) and by address
for the devices without one, so a camera that changed address shows as moved, not as gone + new.
"""

from __future__ import annotations

from dataclasses import dataclass

from auditor.models import AuditReport, DeviceResult, ExposureStatus, Severity

_IDENTITY = ("manufacturer", "brand", "model", "firmware", "device_type")


@dataclass(frozen=True, slots=True)
class ExposureChange:
    instrument: str
    entity: str | None
    name: str
    before: tuple[ExposureStatus, Severity] | None
    after: tuple[ExposureStatus, Severity] | None


@dataclass(frozen=True, slots=True)
class DeviceChange:
    old: DeviceResult
    new: DeviceResult
    fields: tuple[tuple[str, str, str], ...]
    """(field, before, after) for identity fields and the address."""
    exposures: tuple[ExposureChange, ...]


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


def _text(value: object) -> str:
    if value is None:
        return "-"
    return str(getattr(value, "value", value))


ExposureKey = tuple[str, str]


def _exposures(d: DeviceResult) -> dict[ExposureKey, tuple[str, tuple[ExposureStatus, Severity]]]:
    # One instrument can reach a device twice (its maker and a component's vendor): key by both.
    return {
        (e.instrument, e.entity or ""): (e.instrument_name, (e.status, e.severity))
        for e in d.exposures
    }


def _compare(old: DeviceResult, new: DeviceResult) -> DeviceChange | None:
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
        if (b and b[1]) != (a and a[1]):
            changes.append(
                ExposureChange(
                    instrument=key[0],
                    entity=key[1] or None,
                    name=(a or b or ("", None))[0],
                    before=b[1] if b else None,
                    after=a[1] if a else None,
                )
            )
    if not fields and not changes:
        return None
    return DeviceChange(old=old, new=new, fields=tuple(fields), exposures=tuple(changes))


def diff(old: AuditReport, new: AuditReport) -> AuditDiff:
    remaining_old = list(old.devices)
    pairs: list[tuple[DeviceResult, DeviceResult]] = []
    added: list[DeviceResult] = []
    by_mac = {d.host.mac: d for d in remaining_old if d.host.mac}
    by_addr = {d.host.address: d for d in remaining_old}
    used: set[int] = set()
    unmatched_new = []
    for d in new.devices:
        match = by_mac.get(d.host.mac) if d.host.mac else None
        if match is not None and id(match) not in used:
            used.add(id(match))
            pairs.append((match, d))
        else:
            unmatched_new.append(d)
    for d in unmatched_new:
        match = by_addr.get(d.host.address)
        # An address match only counts when the MACs do not contradict it.
        if (
            match is not None
            and id(match) not in used
            and (not match.host.mac or not d.host.mac or match.host.mac == d.host.mac)
        ):
            used.add(id(match))
            pairs.append((match, d))
        else:
            added.append(d)
    gone = tuple(d for d in remaining_old if id(d) not in used)
    changed = [c for o, n in pairs if (c := _compare(o, n)) is not None]
    return AuditDiff(
        old=old,
        new=new,
        added=tuple(added),
        gone=gone,
        changed=tuple(changed),
        unchanged=len(pairs) - len(changed),
    )
