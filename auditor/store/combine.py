"""One organisation-wide report from several site audits (`report A B C`, `report --all-sites`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from auditor.errors import UsageError
from auditor.models import Audience, AuditId, AuditInfo, AuditReport

ORGANISATION = "Organisation"


def combine(reports: Sequence[AuditReport], profile: Audience | None = None) -> AuditReport:
    """Merge audits into one report; each device keeps its site, so equal addresses stay apart.

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
    sites = list(dict.fromkeys(i.site for i in infos))
    finished = [i.finished for i in infos]
    info = AuditInfo(
        id=AuditId("+".join(i.id for i in infos)),
        site=f"{ORGANISATION} ({len(sites)} sites: {', '.join(sites)})",
        started=min(i.started for i in infos),
        finished=None if any(f is None for f in finished) else max(f for f in finished if f),
        tool_version=", ".join(dict.fromkeys(i.tool_version for i in infos)),
        targets=tuple(f"{i.site}: {t}" for i in infos for t in i.targets),
        excludes=tuple(f"{i.site}: {t}" for i in infos for t in i.excludes),
        profile=profile or infos[0].profile,
        data_versions=tuple(dict.fromkeys(v for i in infos for v in i.data_versions)),
        ports=tuple(sorted({p for i in infos for p in i.ports})),
        probes=tuple(dict.fromkeys(p for i in infos for p in i.probes)),
    )
    devices = tuple(
        dataclasses.replace(d, site=d.site or r.audit.site) for r in reports for d in r.devices
    )
    notes = tuple(
        f"Combined from audit {i.id} (site {i.site}, started {i.started:%Y-%m-%d %H:%M} UTC"
        + (")" if i.finished else ", interrupted)")
        for i in infos
    ) + tuple(f"{r.audit.site}: {n}" for r in reports for n in r.notes)
    return AuditReport(
        audit=info,
        devices=devices,
        out_of_scope=tuple(ref for r in reports for ref in r.out_of_scope),
        notes=notes,
    )
