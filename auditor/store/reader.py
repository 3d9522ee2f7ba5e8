"""Reading audits back: whole reports (one query per table, not per host), the devices of one a
batch at a time (for reports written as they are read), and the audit list."""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
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


def load_head(conn: Connection, audit_row: Any) -> AuditReport:
    """The audit without its devices: its info, out-of-scope references and notes."""
    audit_id = audit_row["id"]
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
    return AuditReport(audit=audit_from_row(audit_row), out_of_scope=refs, notes=notes)


def load_report(conn: Connection, audit_row: Any) -> AuditReport:
    head = load_head(conn, audit_row)
    return replace(head, devices=load_devices(conn, audit_row["id"]))


#: Which hosts a query reads: a SQL condition on ``host_id`` and its parameters.
_Hosts = tuple[str, tuple[object, ...]]


def _in_audit(audit_id: str) -> _Hosts:
    return "host_id IN (SELECT id FROM hosts WHERE audit_id = ?)", (audit_id,)


class _Observations:
    """Every observation of the hosts, by row id, by host and by probe attempt."""

    def __init__(self, conn: Connection, hosts: _Hosts) -> None:
        self.by_id: dict[int, Observation] = {}
        self.of_host: dict[int, list[Observation]] = defaultdict(list)
        self.of_attempt: dict[int, list[Observation]] = defaultdict(list)
        where, params = hosts
        for r in conn.execute(
            f"SELECT * FROM observations WHERE {where} ORDER BY host_id, attempt_id, position",
            params,
        ):
            obs = rows.observation_from_row(r)
            self.by_id[r["id"]] = obs
            if r["origin"] == "host":
                self.of_host[r["host_id"]].append(obs)
            elif r["origin"] == "attempt":
                self.of_attempt[r["attempt_id"]].append(obs)


def _attempts(conn: Connection, hosts: _Hosts, obs: _Observations) -> dict[int, list[ProbeAttempt]]:
    out: dict[int, list[ProbeAttempt]] = defaultdict(list)
    where, params = hosts
    for r in conn.execute(
        f"SELECT * FROM probe_attempts WHERE {where} ORDER BY host_id, position", params
    ):
        out[r["host_id"]].append(rows.attempt_from_row(r, tuple(obs.of_attempt.get(r["id"], ()))))
    return out


def _identifications(
    conn: Connection, hosts: _Hosts, obs: _Observations
) -> dict[int, Identification]:
    where, params = hosts
    links: dict[tuple[int, int | None], list[EvidenceLink]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM evidence_links WHERE {where} ORDER BY host_id, component_id, position",
        params,
    ):
        links[(r["host_id"], r["component_id"])].append(
            rows.link_from_row(r, obs.by_id[r["observation_id"]])
        )
    components: dict[int, list[Component]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM components WHERE {where} ORDER BY host_id, position", params
    ):
        evidence = tuple(links.get((r["host_id"], r["id"]), ()))
        components[r["host_id"]].append(rows.component_from_row(r, evidence))
    idents: dict[int, Identification] = {}
    for r in conn.execute(f"SELECT * FROM identifications WHERE {where}", params):
        hid = r["host_id"]
        idents[hid] = rows.identification_from_row(
            r, tuple(links.get((hid, None), ())), tuple(components.get(hid, ()))
        )
    return idents


def _findings(
    conn: Connection, hosts: _Hosts
) -> tuple[dict[int, list[Exposure]], dict[int, list[VulnFinding]]]:
    where, params = hosts
    exposures: dict[int, list[Exposure]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM exposures WHERE {where} ORDER BY host_id, position", params
    ):
        exposures[r["host_id"]].append(rows.exposure_from_row(r))
    findings: dict[int, list[VulnFinding]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT host_id, finding FROM vulnerabilities WHERE {where} ORDER BY host_id, position",
        params,
    ):
        findings[r["host_id"]].append(rows.vulnerability_from_row(r))
    return exposures, findings


def _devices(conn: Connection, host_rows: list[Any], hosts: _Hosts) -> list[DeviceResult]:
    """The devices of ``host_rows``, in their order, from the rows of ``hosts`` (the same hosts,
    as a condition: one query per table, not per host)."""
    obs = _Observations(conn, hosts)
    attempts = _attempts(conn, hosts, obs)
    idents = _identifications(conn, hosts, obs)
    exposures, findings = _findings(conn, hosts)
    devices = []
    for h in host_rows:
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
    return devices


def load_devices(conn: Connection, audit_id: str) -> tuple[DeviceResult, ...]:
    hosts = conn.execute("SELECT * FROM hosts WHERE audit_id = ?", (audit_id,)).fetchall()
    ordered = sorted(hosts, key=lambda h: _address_key(h["address"]))
    return tuple(_devices(conn, ordered, _in_audit(audit_id)))


#: Hosts read together by iter_devices: few enough that a batch is a few MB at most, enough that
#: the queries per batch (one per table) cost little against the rows they return.
BATCH = 200


def iter_devices(conn: Connection, audit_id: str, batch: int = BATCH) -> Iterator[DeviceResult]:
    """The audit's devices in load_devices' order (by address), read ``batch`` hosts at a time:
    memory holds one batch, whatever the audit's size (only each host's id is kept for all)."""
    order = sorted(
        (_address_key(address), hid)
        for hid, address in conn.execute(
            "SELECT id, address FROM hosts WHERE audit_id = ?", (audit_id,)
        )
    )
    ids = [hid for _key, hid in order]
    del order
    for start in range(0, len(ids), batch):
        chunk = tuple(ids[start : start + batch])
        marks = ", ".join("?" for _ in chunk)
        by_id = {
            h["id"]: h
            for h in conn.execute(f"SELECT * FROM hosts WHERE id IN ({marks})", chunk).fetchall()
        }
        yield from _devices(conn, [by_id[hid] for hid in chunk], (f"host_id IN ({marks})", chunk))


@dataclass(frozen=True, slots=True)
class StoredReport:
    """An audit to be written device by device (Store.report_stream)."""

    head: AuditReport
    """The audit's info, out-of-scope references and notes; no devices."""
    evidence_sha256: str
    """AuditReport.evidence_sha256 of the whole audit, counted in the store."""
    devices: Iterable[DeviceResult]
    """The devices in report order, read a batch at a time while the stream is open."""
