"""One organisation-wide report from several site audits (`report A B C`, `report --all-sites`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from auditor.errors import UsageError
from auditor.history.compare import match_devices
from auditor.models import Audience, AuditId, AuditInfo, AuditReport, DeviceResult

ORGANISATION = "Organisation"
#: The site name `camaudit demo` audits under: it marks the emulated site in the store, and
#: `report --all-sites` leaves it out when real sites are there.
DEMO_SITE = "camaudit demo (emulated site on loopback)"


#: Every note about audits of one site merged into one begins so (the CLI repeats it on stderr).
SAME_SITE = "Audits of the same site"


def _latest_devices(parts: Sequence[AuditReport]) -> tuple[list[DeviceResult], str | None]:
    """One site's devices across several of its audits, each device once: its latest sighting.

    Devices are recognised across audits as `diff` recognises them (serial, MAC, address, ...);
    one seen only in an earlier audit is kept from it (that audit may have covered another part
    of the site), and the note says how many of each there are.
    """
    ordered = sorted(parts, key=lambda r: r.audit.started)
    current = list(ordered[0].devices)
    several: set[int] = set()  # ids of the kept devices seen by more than one audit
    for later in ordered[1:]:
        matching = match_devices(current, later.devices)
        several = {id(m.new) for m in matching.pairs} | {
            id(d) for d in matching.old_only if id(d) in several
        }
        current = [*later.devices, *matching.old_only]
    if len(ordered) == 1:
        return current, None
    in_several = len(several)
    latest = {id(d) for d in ordered[-1].devices}
    only_earlier = sum(1 for d in current if id(d) not in latest and id(d) not in several)
    only_latest = len(current) - in_several - only_earlier
    ids = ", ".join(r.audit.id for r in ordered)
    where = "both" if len(ordered) == 2 else "more than one"
    note = (
        f"{SAME_SITE} {ordered[0].audit.site} ({ids}): each device is counted once, as the "
        f"latest audit that saw it found it: {in_several} devices seen in {where}, "
        f"{only_earlier} seen only in an earlier audit, {only_latest} only in the latest; "
        f"{len(current)} devices in all."
    )
    return current, note


def combine(reports: Sequence[AuditReport], profile: Audience | None = None) -> AuditReport:
    """Merge audits into one report; each device keeps its site, so equal addresses stay apart.

    Several audits of one site are merged device by device: each device once, as the latest
    audit saw it (a 250-device site audited twice is 250 devices, not 500), with a note.
    The combined audit is finished only when every part is, starts with the earliest and ends
    with the latest. Exposures are combined as assessed; pass every part through `reassess`
    first for one audience (mixed audiences are refused, since the severities would not compare).
    """
    if not reports:
        raise UsageError("no audits to combine")
    if len(reports) == 1:
        return reports[0]
    profiles = {r.audit.profile for r in reports}
    if len(profiles) > 1 and profile is None:
        raise UsageError(
            "these audits were assessed for different audiences ("
            + ", ".join(sorted(p.value for p in profiles))
            + "); give --profile to re-assess them for one"
        )
    infos = [r.audit for r in reports]
    by_site: dict[str, list[AuditReport]] = {}
    for r in reports:
        by_site.setdefault(r.audit.site, []).append(r)
    sites = list(by_site)
    finished = [i.finished for i in infos]
    info = AuditInfo(
        id=AuditId("+".join(i.id for i in infos)),
        site=sites[0]
        if len(sites) == 1
        else f"{ORGANISATION} ({len(sites)} sites: {', '.join(sites)})",
        started=min(i.started for i in infos),
        finished=None if any(f is None for f in finished) else max(f for f in finished if f),
        tool_version=", ".join(dict.fromkeys(i.tool_version for i in infos)),
        targets=tuple(dict.fromkeys(f"{i.site}: {t}" for i in infos for t in i.targets)),
        excludes=tuple(dict.fromkeys(f"{i.site}: {t}" for i in infos for t in i.excludes)),
        profile=profile or infos[0].profile,
        data_versions=tuple(dict.fromkeys(v for i in infos for v in i.data_versions)),
        ports=tuple(sorted({p for i in infos for p in i.ports})),
        probes=tuple(dict.fromkeys(p for i in infos for p in i.probes)),
    )
    devices: list[DeviceResult] = []
    merged: list[str] = []
    for site, parts in by_site.items():
        kept, note = _latest_devices(parts)
        if note is not None:
            merged.append(note)
        # One site: no site column needed; several: each device says where it is.
        devices += [
            d if len(sites) == 1 else dataclasses.replace(d, site=d.site or site) for d in kept
        ]
    notes = (
        tuple(merged)
        + tuple(
            f"Combined from audit {i.id} (site {i.site}, started {i.started:%Y-%m-%d %H:%M} UTC"
            + (")" if i.finished else ", interrupted)")
            for i in infos
        )
        + tuple(dict.fromkeys(f"{r.audit.site}: {n}" for r in reports for n in r.notes))
    )
    return AuditReport(
        audit=info,
        devices=tuple(devices),
        out_of_scope=tuple(dict.fromkeys(ref for r in reports for ref in r.out_of_scope)),
        notes=notes,
    )
