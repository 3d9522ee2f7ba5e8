"""Reading audits back: whole reports (one query per table, not per host) and the audit list."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditor.models import (
    Audience,
    AuditId,
    AuditReport,
    Component,
    DeviceResult,
    EvidenceLink,
    Exposure,
    Identification,
    Observation,
    OutOfScopeReference,
    ProbeAttempt,
    VulnFinding,
)
from auditor.store import codec
from auditor.store import codec_device as rows
from auditor.store.codec_audit import audit_from_row
from auditor.store.connection import Connection


@dataclass(frozen=True, slots=True)
class AuditSummary:
    """One line of `camaudit audits`."""

    id: AuditId
    site: str
    started: datetime
    finished: datetime | None
    """None: the audit was interrupted (resume it with `scan --resume`)."""
    devices: int
    incomplete: int
    profile: Audience


def _address_key(text: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(text)
    return (addr.version, int(addr))


def find_audit(conn: Connection, audit_id: str) -> Any:
    """The audit's row, or None."""
    return conn.execute("SELECT * FROM audits WHERE id = ?", (audit_id,)).fetchone()


def list_audits(conn: Connection) -> list[AuditSummary]:
    d = conn.dialect
    rows_ = conn.execute(
        "SELECT a.id, a.site, a.started, a.finished, a.profile, "
        "COUNT(h.id) AS devices, "
        "COALESCE(SUM(CASE WHEN h.complete = 0 THEN 1 ELSE 0 END), 0) AS incomplete "
        "FROM audits a LEFT JOIN hosts h ON h.audit_id = a.id "
        f"GROUP BY a.id ORDER BY {d.binary('a.started')}, {d.binary('a.id')}"
    ).fetchall()
    return [
        AuditSummary(
            id=AuditId(r["id"]),
            site=r["site"],
            started=codec.parse_moment(r["started"]),
            finished=codec.opt_parse_moment(r["finished"]),
            devices=int(r["devices"]),
            incomplete=int(r["incomplete"]),
            profile=Audience(r["profile"]),
        )
        for r in rows_
    ]


def load_report(conn: Connection, audit_row: Any) -> AuditReport:
    audit_id = audit_row["id"]
    info = audit_from_row(audit_row)
    devices = load_devices(conn, audit_id)
    refs = tuple(
        OutOfScopeReference(
            address=r["address"], referrer=ipaddress.ip_address(r["referrer"]), via=r["via"]
        )
        for r in conn.execute(
            "SELECT address, referrer, via FROM out_of_scope WHERE audit_id = ? ORDER BY seq",
            (audit_id,),
        )
    )
    notes = tuple(codec.load(audit_row["notes"]))
    return AuditReport(audit=info, devices=devices, out_of_scope=refs, notes=notes)


_IN_AUDIT = "host_id IN (SELECT id FROM hosts WHERE audit_id = ?)"


class _Observations:
    """Every observation of an audit, by row id, by host and by probe attempt."""

    def __init__(self, conn: Connection, audit_id: str) -> None:
        self.by_id: dict[int, Observation] = {}
        self.of_host: dict[int, list[Observation]] = defaultdict(list)
        self.of_attempt: dict[int, list[Observation]] = defaultdict(list)
        for r in conn.execute(
            f"SELECT * FROM observations WHERE {_IN_AUDIT} ORDER BY host_id, attempt_id, position",
            (audit_id,),
        ):
            obs = rows.observation_from_row(r)
            self.by_id[r["id"]] = obs
            if r["origin"] == "host":
                self.of_host[r["host_id"]].append(obs)
            elif r["origin"] == "attempt":
                self.of_attempt[r["attempt_id"]].append(obs)


def _attempts(conn: Connection, audit_id: str, obs: _Observations) -> dict[int, list[ProbeAttempt]]:
    out: dict[int, list[ProbeAttempt]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM probe_attempts WHERE {_IN_AUDIT} ORDER BY host_id, position", (audit_id,)
    ):
        out[r["host_id"]].append(rows.attempt_from_row(r, tuple(obs.of_attempt.get(r["id"], ()))))
    return out


def _identifications(
    conn: Connection, audit_id: str, obs: _Observations
) -> dict[int, Identification]:
    links: dict[tuple[int, int | None], list[EvidenceLink]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM evidence_links WHERE {_IN_AUDIT} ORDER BY host_id, component_id, position",
        (audit_id,),
    ):
        links[(r["host_id"], r["component_id"])].append(
            rows.link_from_row(r, obs.by_id[r["observation_id"]])
        )
    components: dict[int, list[Component]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM components WHERE {_IN_AUDIT} ORDER BY host_id, position", (audit_id,)
    ):
        evidence = tuple(links.get((r["host_id"], r["id"]), ()))
        components[r["host_id"]].append(rows.component_from_row(r, evidence))
    idents: dict[int, Identification] = {}
    for r in conn.execute(f"SELECT * FROM identifications WHERE {_IN_AUDIT}", (audit_id,)):
        hid = r["host_id"]
        idents[hid] = rows.identification_from_row(
            r, tuple(links.get((hid, None), ())), tuple(components.get(hid, ()))
        )
    return idents


def _findings(
    conn: Connection, audit_id: str
) -> tuple[dict[int, list[Exposure]], dict[int, list[VulnFinding]]]:
    exposures: dict[int, list[Exposure]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM exposures WHERE {_IN_AUDIT} ORDER BY host_id, position", (audit_id,)
    ):
        exposures[r["host_id"]].append(rows.exposure_from_row(r))
    findings: dict[int, list[VulnFinding]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT host_id, finding FROM vulnerabilities WHERE {_IN_AUDIT} "
        "ORDER BY host_id, position",
        (audit_id,),
    ):
        findings[r["host_id"]].append(rows.vulnerability_from_row(r))
    return exposures, findings


def load_devices(conn: Connection, audit_id: str) -> tuple[DeviceResult, ...]:
    hosts = conn.execute("SELECT * FROM hosts WHERE audit_id = ?", (audit_id,)).fetchall()
    obs = _Observations(conn, audit_id)
    attempts = _attempts(conn, audit_id, obs)
    idents = _identifications(conn, audit_id, obs)
    exposures, findings = _findings(conn, audit_id)
    devices = []
    for h in sorted(hosts, key=lambda h: _address_key(h["address"])):
        hid = h["id"]
        devices.append(
            DeviceResult(
                host=rows.host_from_row(h, tuple(obs.of_host.get(hid, ()))),
                attempts=tuple(attempts.get(hid, ())),
                identification=idents.get(hid, Identification.unknown()),
                exposures=tuple(exposures.get(hid, ())),
                remediation=codec.remediation_from_json(h["remediation"]),
                site=h["site"],
                vulnerabilities=tuple(findings.get(hid, ())),
            )
        )
    return tuple(devices)
