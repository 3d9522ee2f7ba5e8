"""The organisation view: every site's latest audit and its trend, aggregated in SQL.

A central store holds hundreds of audits of thousands of devices; loading them as model values
would take gigabytes. These queries count in the database (one pass over hosts, identifications
and exposures per query) and return a few rows per audit, so memory does not grow with the
number of devices. The SQL is plain enough for both engines (window functions, CASE, EXISTS).

The counts are of the assessment stored with each audit (as it was assessed when it ran), which
is what the view says; `report AUDIT` re-assesses one audit with today's lists and data.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from auditor.models import Audience, DeviceType, Severity
from auditor.store import codec

if TYPE_CHECKING:
    from auditor.store.db import Store

#: Runs one query written with ``?`` placeholders and returns its rows.
Query = Callable[[str, Sequence[object]], list[tuple[Any, ...]]]

#: Severities that count as exposures here, worst first.
SEVERITIES = tuple(s for s in sorted(Severity, key=lambda s: -s.value) if s > Severity.NONE)
#: Exposures at or above this make a device "exposed" in the makers table.
EXPOSED_AT = Severity.HIGH

_VIDEO = tuple(sorted({t.value for t in DeviceType if t.is_video}))


@dataclass(frozen=True, slots=True)
class AuditPoint:
    """One audit's counts: a row of a site's trend."""

    audit_id: str
    site: str
    started: datetime
    finished: datetime | None
    profile: Audience
    devices: int
    incomplete: int
    video: int
    """Cameras, NVRs, DVRs, encoders, intercoms and video devices of unknown role."""
    relabels: int
    """Devices sold under another brand than their maker's (OEM relabels)."""
    exposures: tuple[tuple[Severity, int], ...]
    """Exposures (device x instrument) per severity, worst first, for every severity above none."""
    exposed_devices: int
    """Devices with at least one exposure at EXPOSED_AT or worse."""

    def count(self, severity: Severity) -> int:
        return dict(self.exposures).get(severity, 0)


@dataclass(frozen=True, slots=True)
class SiteView:
    site: str
    latest: AuditPoint
    trend: tuple[AuditPoint, ...]
    """Every audit of the site, oldest first (the latest is the last)."""


@dataclass(frozen=True, slots=True)
class MakerCount:
    manufacturer: str | None
    """None: the maker could not be identified."""
    devices: int
    relabels: int
    exposed: int


@dataclass(frozen=True, slots=True)
class OrgView:
    sites: tuple[SiteView, ...]
    makers: tuple[MakerCount, ...]
    """Makers across every site's latest audit, most devices first."""
    audits: int
    left_out: tuple[str, ...]
    """Sites left out of the view (the emulated demo site)."""

    @property
    def latest(self) -> tuple[AuditPoint, ...]:
        return tuple(s.latest for s in self.sites)

    def total(self, field: str) -> int:
        return sum(int(getattr(p, field)) for p in self.latest)

    def total_exposures(self, severity: Severity) -> int:
        return sum(p.count(severity) for p in self.latest)


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" for _ in values)


_PER_AUDIT = f"""
SELECT a.id, a.site, a.started, a.finished, a.profile,
       COUNT(h.id),
       COALESCE(SUM(CASE WHEN h.complete = 0 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN i.device_type IN ({_marks(_VIDEO)}) THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN i.oem_relabel <> 0 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN EXISTS (
           SELECT 1 FROM exposures x WHERE x.host_id = h.id AND x.severity IN (?, ?))
           THEN 1 ELSE 0 END), 0)
FROM audits a
LEFT JOIN hosts h ON h.audit_id = a.id
LEFT JOIN identifications i ON i.host_id = h.id
{{where}}
GROUP BY a.id, a.site, a.started, a.finished, a.profile
ORDER BY a.site, a.started, a.id
"""

_EXPOSURES = """
SELECT h.audit_id, x.severity, COUNT(*)
FROM exposures x JOIN hosts h ON h.id = x.host_id
{where}
GROUP BY h.audit_id, x.severity
"""

_LATEST = """
SELECT id FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY site ORDER BY started DESC, id DESC) AS rn
    FROM audits) ranked
WHERE rn = 1
"""

_MAKERS = f"""
SELECT i.manufacturer, COUNT(h.id),
       COALESCE(SUM(CASE WHEN i.oem_relabel <> 0 THEN 1 ELSE 0 END), 0),
       COALESCE(SUM(CASE WHEN EXISTS (
           SELECT 1 FROM exposures x WHERE x.host_id = h.id AND x.severity IN (?, ?))
           THEN 1 ELSE 0 END), 0)
FROM hosts h
LEFT JOIN identifications i ON i.host_id = h.id
WHERE h.audit_id IN ({_LATEST}) {{sites}}
GROUP BY i.manufacturer
ORDER BY COUNT(h.id) DESC, i.manufacturer
"""

_EXPOSED = (Severity.HIGH.label, Severity.CRITICAL.label)


def audit_points(query: Query, sites: Sequence[str] | None = None) -> list[AuditPoint]:
    """Every audit's counts (of ``sites`` only, when given), by site then start."""
    where, params = "", []
    if sites is not None:
        where = f"WHERE a.site IN ({_marks(sites)})"
        params = list(sites)
    rows = query(_PER_AUDIT.format(where=where), [*_VIDEO, *_EXPOSED, *params])
    xwhere = (
        f"WHERE h.audit_id IN (SELECT id FROM audits WHERE site IN ({_marks(sites)}))"
        if sites is not None
        else ""
    )
    by_audit: dict[str, dict[Severity, int]] = {}
    for audit_id, label, n in query(_EXPOSURES.format(where=xwhere), list(sites or ())):
        severity = Severity.from_label(str(label))
        if severity > Severity.NONE:
            by_audit.setdefault(str(audit_id), {})[severity] = int(n)
    points = []
    for aid, site, started, finished, profile, devices, incomplete, video, relabels, exp in rows:
        counts = by_audit.get(str(aid), {})
        points.append(
            AuditPoint(
                audit_id=str(aid),
                site=str(site),
                started=codec.parse_moment(str(started)),
                finished=codec.opt_parse_moment(None if finished is None else str(finished)),
                profile=Audience(profile),
                devices=int(devices),
                incomplete=int(incomplete),
                video=int(video),
                relabels=int(relabels),
                exposures=tuple((s, counts.get(s, 0)) for s in SEVERITIES),
                exposed_devices=int(exp),
            )
        )
    return points


def makers(query: Query, sites: Sequence[str] | None = None, limit: int = 25) -> list[MakerCount]:
    where, params = "", []
    if sites is not None:
        where = f"AND h.audit_id IN (SELECT id FROM audits WHERE site IN ({_marks(sites)}))"
        params = list(sites)
    rows = query(_MAKERS.format(sites=where), [*_EXPOSED, *params])
    return [
        MakerCount(
            manufacturer=None if m is None else str(m),
            devices=int(n),
            relabels=int(r),
            exposed=int(e),
        )
        for m, n, r, e in rows[:limit]
    ]


def site_names(query: Query) -> list[str]:
    return [str(r[0]) for r in query("SELECT DISTINCT site FROM audits ORDER BY site", [])]


def org_view(query: Query, sites: Sequence[str] | None = None, leave_out: str = "") -> OrgView:
    """The organisation view of ``sites`` (default: every site but ``leave_out``, when others
    exist)."""
    left_out: tuple[str, ...] = ()
    if sites is None:
        names = site_names(query)
        if leave_out in names and len(names) > 1:
            names.remove(leave_out)
            left_out = (leave_out,)
        sites = names if left_out else None
    points = audit_points(query, sites)
    by_site: dict[str, list[AuditPoint]] = {}
    for p in points:
        by_site.setdefault(p.site, []).append(p)
    views = tuple(
        SiteView(site=site, latest=trend[-1], trend=tuple(trend))
        for site, trend in sorted(by_site.items())
    )
    return OrgView(
        sites=views,
        makers=tuple(makers(query, sites)),
        audits=len(points),
        left_out=left_out,
    )


def store_view(store: Store, sites: Sequence[str] | None = None, leave_out: str = "") -> OrgView:
    """The organisation view of an open store, either engine, from one consistent snapshot."""
    # The store's own connection: its dialect translates the placeholders and restores text the
    # engine had to escape. (Store has no public query method; pgstore owns it.)
    with store.snapshot("build the organisation view") as conn:

        def run(sql: str, params: Sequence[object]) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(sql, params).fetchall()]

        return org_view(run, sites, leave_out)
