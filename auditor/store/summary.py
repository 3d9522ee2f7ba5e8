"""One audit's summary counted in the database, and its most severe devices in a bounded query.

`camaudit scan` of a 50,000-host import cannot load the whole report back to print a summary:
every device as a model value is hundreds of MB (issue 16). These queries count per audit in
SQL (both engines: CASE, EXISTS and correlated subqueries only) and return at most ``limit``
device rows, so memory does not grow with the audit. The verdicts are those of
auditor.render.verdicts and DeviceResult, restated in SQL; tests/store/test_summary.py holds the
two together on SQLite and PostgreSQL.

Known-vulnerability findings are stored as JSON (one row per host and CVE, the severity inside),
which the two engines read with different functions; they are decoded here instead, one row at a
time, and only the hosts that have one are kept in memory (a few ints each).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditor.models import (
    AuditInfo,
    DeviceType,
    ExposureStatus,
    RemediationAction,
    Severity,
    VulnStatus,
)
from auditor.store import codec
from auditor.store.codec_audit import audit_from_row
from auditor.store.connection import Connection

if TYPE_CHECKING:
    from auditor.store.db import Store

_VIDEO = tuple(sorted({t.value for t in DeviceType if t.is_video}))
#: The statuses auditor.render.verdicts.EXPOSED_STATUSES names (an instrument reaches the device).
_EXPOSED = tuple(
    s.value for s in ExposureStatus if s not in (ExposureStatus.NOT_LISTED, ExposureStatus.UNKNOWN)
)
#: A severity label as a number, so that SQL can take the worst of a device's exposures.
_RANK = "CASE {col} " + " ".join(f"WHEN '{s.label}' THEN {s.value}" for s in Severity) + " END"
_XRANK = _RANK.format(col="x.severity")


def _marks(values: tuple[str, ...]) -> str:
    return ", ".join("?" for _ in values)


# One row per host of the audit with its verdict flags; the outer queries count them.
_PER_HOST = f"""
SELECT h.id AS id, h.complete AS complete,
       CASE WHEN i.device_type IN ({_marks(_VIDEO)}) THEN 1 ELSE 0 END AS video,
       CASE WHEN i.oem_relabel <> 0 THEN 1 ELSE 0 END AS relabel,
       COALESCE((SELECT MAX({_XRANK}) FROM exposures x WHERE x.host_id = h.id), 0) AS xrank,
       CASE WHEN EXISTS (SELECT 1 FROM exposures x WHERE x.host_id = h.id
                         AND x.status IN ({_marks(_EXPOSED)}) AND {_XRANK} >= ?)
            THEN 1 ELSE 0 END AS exposed,
       CASE WHEN i.manufacturer IS NULL OR EXISTS (
                SELECT 1 FROM exposures x WHERE x.host_id = h.id
                AND (x.status = ? OR (x.status = ? AND x.uncertain <> 0 AND {_XRANK} >= ?)))
            THEN 1 ELSE 0 END AS review
FROM hosts h LEFT JOIN identifications i ON i.host_id = h.id
WHERE h.audit_id = ?
"""


def _per_host_params(audit_id: str) -> list[object]:
    low = Severity.LOW.value
    return [
        *_VIDEO,
        *_EXPOSED,
        low,
        ExposureStatus.UNKNOWN.value,
        ExposureStatus.NOT_LISTED.value,
        low,
        audit_id,
    ]


# One pass: the counts per worst exposure, apart for the hosts with a vulnerability finding (those
# are counted again from their findings and this rank together, in Python).
_COUNTS = f"""
SELECT xrank, vulnerable, COUNT(*), COALESCE(SUM(1 - complete), 0), COALESCE(SUM(video), 0),
       COALESCE(SUM(relabel), 0), COALESCE(SUM(exposed), 0), COALESCE(SUM(review), 0)
FROM (SELECT per_host.*, CASE WHEN EXISTS (
          SELECT 1 FROM vulnerabilities v WHERE v.host_id = per_host.id) THEN 1 ELSE 0 END
          AS vulnerable
      FROM ({_PER_HOST}) per_host) flagged
GROUP BY xrank, vulnerable
"""

_XRANK_OF_VULNERABLE = f"""
SELECT id, xrank FROM ({_PER_HOST}) per_host
WHERE EXISTS (SELECT 1 FROM vulnerabilities v WHERE v.host_id = per_host.id)
"""

_DEVICE_COLUMNS = f"""
SELECT h.id, h.address, h.site, h.complete, i.manufacturer, i.brand, i.model, i.device_type,
       i.confidence, i.oem_relabel,
       COALESCE((SELECT MAX({_XRANK}) FROM exposures x WHERE x.host_id = h.id), 0) AS xrank
FROM hosts h LEFT JOIN identifications i ON i.host_id = h.id
"""


@dataclass(frozen=True, slots=True)
class DeviceLine:
    """One row of the cut device list."""

    address: str
    site: str | None
    complete: bool
    manufacturer: str | None
    brand: str | None
    model: str | None
    device_type: DeviceType
    confidence: float
    oem_relabel: bool
    max_severity: Severity
    """The worst of its exposures and known-vulnerability findings (DeviceResult.max_severity)."""
    attention: int
    """Exposures that need attention: exposed, unknown, or an uncertain "not listed"."""
    top_instrument: str | None
    """The instrument of its worst such exposure, first in the stored order."""


@dataclass(frozen=True, slots=True)
class ActionCount:
    """One kind of remediation across the audit, as the console's "Top actions" counts it."""

    rank: int
    action: RemediationAction
    priority: int
    """The most urgent remediation priority among its devices (smaller is more urgent)."""
    devices: int
    makers: tuple[tuple[str, int], ...]
    """Makers of its devices ("unknown maker" for none), the most frequent first."""


@dataclass(frozen=True, slots=True)
class AuditCounts:
    """The summary counts of one audit, as the console summary shows them."""

    audit: AuditInfo
    notes: tuple[str, ...]
    devices: int
    incomplete: int
    video: int
    relabels: int
    exposed: int
    review: int
    by_severity: tuple[tuple[Severity, int], ...]
    """Devices per worst severity, worst first, every severity (NONE included)."""
    vulnerable: int
    known_exploited: int
    out_of_scope: int
    actions: tuple[ActionCount, ...] = ()
    evidence_sha256: str = ""
    """AuditReport.evidence_sha256 of the same audit."""

    def count(self, severity: Severity) -> int:
        return dict(self.by_severity).get(severity, 0)

    @property
    def worst(self) -> Severity:
        return max((s for s, n in self.by_severity if n), default=Severity.NONE)


def device_count(conn: Connection, audit_id: str) -> int:
    row = conn.execute("SELECT COUNT(*) FROM hosts WHERE audit_id = ?", (audit_id,)).fetchone()
    return int(row[0])


def _vulnerability_ranks(conn: Connection, audit_id: str) -> dict[int, tuple[int, bool]]:
    """Per host with findings: its worst finding's severity and whether one is an affected KEV."""
    out: dict[int, tuple[int, bool]] = {}
    for r in conn.execute(
        "SELECT host_id, finding FROM vulnerabilities "
        "WHERE host_id IN (SELECT id FROM hosts WHERE audit_id = ?)",
        (audit_id,),
    ):
        finding = codec.finding_from_json(r["finding"])
        rank, kev = out.get(r["host_id"], (0, False))
        out[r["host_id"]] = (
            max(rank, finding.severity.value),
            kev or (finding.kev and finding.status is VulnStatus.AFFECTED),
        )
    return out


def audit_counts(conn: Connection, audit_row: Any) -> AuditCounts:
    """The counts of the audit whose row ``audit_row`` is (as Store.load_report takes it)."""
    info = audit_from_row(audit_row)
    aid = str(info.id)
    params = _per_host_params(aid)
    totals = [0] * 6
    by_rank: dict[int, int] = {}
    any_vulnerable = False
    for rank, vulnerable, *sums in conn.execute(_COUNTS, params):
        totals = [t + int(n) for t, n in zip(totals, sums, strict=True)]
        if int(vulnerable):
            any_vulnerable = True
        else:
            by_rank[int(rank)] = by_rank.get(int(rank), 0) + int(sums[0])
    devices, incomplete, video, relabels, exposed, review = totals
    vulns = _vulnerability_ranks(conn, aid)
    for host_id, xrank in conn.execute(_XRANK_OF_VULNERABLE, params) if any_vulnerable else ():
        worst = max(int(xrank), vulns.get(int(host_id), (0, False))[0])
        by_rank[worst] = by_rank.get(worst, 0) + 1
    out_of_scope = conn.execute(
        "SELECT COUNT(*) FROM out_of_scope WHERE audit_id = ?", (aid,)
    ).fetchone()
    notes = tuple(codec.load(audit_row["notes"]))
    return AuditCounts(
        audit=info,
        notes=notes,
        devices=devices,
        incomplete=incomplete,
        video=video,
        relabels=relabels,
        exposed=exposed,
        review=review,
        by_severity=tuple(
            (s, by_rank.get(s.value, 0)) for s in sorted(Severity, key=lambda s: -s.value)
        ),
        vulnerable=len(vulns),
        known_exploited=sum(1 for _rank, kev in vulns.values() if kev),
        out_of_scope=int(out_of_scope[0]),
        actions=actions(conn, aid),
        evidence_sha256=evidence_sha256(conn, aid),
    )


def evidence_sha256(conn: Connection, audit_id: str) -> str:
    """AuditReport.evidence_sha256 (the report's footer), hashed as the digests stream by in
    order: a host's own observations and its probes' ("evidence"-only rows are not in it)."""
    h = hashlib.sha256()
    for (digest,) in conn.execute(
        "SELECT sha256 FROM observations WHERE origin IN ('host', 'attempt') "
        "AND host_id IN (SELECT id FROM hosts WHERE audit_id = ?) "
        f"ORDER BY {conn.dialect.binary('sha256')}",
        (audit_id,),
    ):
        h.update(str(digest).encode())
    return h.hexdigest()


#: The maker's name when none was identified (auditor.render.verdicts.UNKNOWN_MAKER).
UNKNOWN_MAKER = "unknown"


def actions(conn: Connection, audit_id: str) -> tuple[ActionCount, ...]:
    """Devices per remediation action and maker, in the order auditor.render.actions ranks them
    (most urgent priority, then most devices). Remediations are JSON, read one row at a time;
    only the counts are kept."""
    devices: Counter[RemediationAction] = Counter()
    priority: dict[RemediationAction, int] = {}
    makers: dict[RemediationAction, Counter[str]] = {}
    for raw, manufacturer in conn.execute(
        "SELECT h.remediation, i.manufacturer FROM hosts h "
        "LEFT JOIN identifications i ON i.host_id = h.id "
        "WHERE h.audit_id = ? AND h.remediation IS NOT NULL",
        (audit_id,),
    ):
        remediation = codec.remediation_from_json(raw)
        if remediation is None or remediation.action is RemediationAction.NONE:
            continue
        act = remediation.action
        devices[act] += 1
        priority[act] = min(priority.get(act, remediation.priority), remediation.priority)
        makers.setdefault(act, Counter())[manufacturer or UNKNOWN_MAKER] += 1
    ordered = sorted(devices, key=lambda a: (priority[a], -devices[a], a.value))
    return tuple(
        ActionCount(
            rank=rank,
            action=act,
            priority=priority[act],
            devices=devices[act],
            makers=tuple(sorted(makers[act].items(), key=lambda kv: (-kv[1], kv[0].lower()))),
        )
        for rank, act in enumerate(ordered, start=1)
    )


def _address_key(text: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(text)
    return (addr.version, int(addr))


def worst_devices(conn: Connection, audit_id: str, limit: int) -> tuple[DeviceLine, ...]:
    """At most ``limit`` devices, worst severity first, then by address (as reports sort)."""
    if limit <= 0:
        return ()
    # The worst by exposure come from SQL; a host whose finding is worse than its exposures can
    # only come from the findings, so the ``limit`` worst of those are added, then both cut.
    top = conn.execute(
        f"{_DEVICE_COLUMNS} WHERE h.audit_id = ? ORDER BY xrank DESC, h.id LIMIT ?",
        (audit_id, limit),
    ).fetchall()
    vulns = _vulnerability_ranks(conn, audit_id)
    extra = sorted(vulns, key=lambda hid: -vulns[hid][0])[:limit]
    have = {int(r["id"]) for r in top}
    extra = [hid for hid in extra if hid not in have]
    rows = list(top)
    for start in range(0, len(extra), 500):
        chunk = extra[start : start + 500]
        rows += conn.execute(
            f"{_DEVICE_COLUMNS} WHERE h.id IN ({', '.join('?' for _ in chunk)})", chunk
        ).fetchall()
    ranked = sorted(
        rows,
        key=lambda r: (
            -max(int(r["xrank"]), vulns.get(int(r["id"]), (0, False))[0]),
            _address_key(r["address"]),
        ),
    )[:limit]
    return tuple(_line(conn, r, vulns) for r in ranked)


def _attention(conn: Connection, host_id: int) -> tuple[int, str | None]:
    """(exposures needing attention, the instrument of the worst of them) for one host."""
    low = Severity.LOW.value
    rows = conn.execute(
        f"SELECT x.instrument, {_XRANK} AS xr FROM exposures x WHERE x.host_id = ? "
        f"AND NOT (x.status = ? AND NOT (x.uncertain <> 0 AND {_XRANK} >= ?)) "
        "ORDER BY xr DESC, x.position",
        (host_id, ExposureStatus.NOT_LISTED.value, low),
    ).fetchall()
    return len(rows), (str(rows[0][0]) if rows else None)


def _line(conn: Connection, r: Any, vulns: dict[int, tuple[int, bool]]) -> DeviceLine:
    hid = int(r["id"])
    attention, instrument = _attention(conn, hid)
    worst = max(int(r["xrank"]), vulns.get(hid, (0, False))[0])
    typ = r["device_type"]
    return DeviceLine(
        address=str(r["address"]),
        site=_opt(r["site"]),
        complete=bool(r["complete"]),
        manufacturer=_opt(r["manufacturer"]),
        brand=_opt(r["brand"]),
        model=_opt(r["model"]),
        device_type=DeviceType(typ) if typ is not None else DeviceType.UNKNOWN,
        confidence=float(r["confidence"]) if r["confidence"] is not None else 0.0,
        oem_relabel=bool(r["oem_relabel"]),
        max_severity=Severity(worst),
        attention=attention,
        top_instrument=instrument,
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class CutSummary:
    """An audit's counts and its ``limit`` most severe devices, read in one snapshot."""

    counts: AuditCounts
    worst: tuple[DeviceLine, ...]


def store_device_count(store: Store, audit_id: str) -> int:
    with store.snapshot(f"count the devices of audit {audit_id}") as conn:
        return device_count(conn, audit_id)


def store_summary(store: Store, audit_id: str, limit: int) -> CutSummary:
    """The cut summary of one audit of an open store, either engine."""
    # The store's own connection, as auditor.store.org uses it: its dialect translates the
    # placeholders and restores text the engine had to escape.
    with store.snapshot(f"summarise audit {audit_id}") as conn:
        row = conn.execute("SELECT * FROM audits WHERE id = ?", (audit_id,)).fetchone()
        if row is None:
            raise KeyError(audit_id)
        return CutSummary(audit_counts(conn, row), worst_devices(conn, audit_id, limit))
