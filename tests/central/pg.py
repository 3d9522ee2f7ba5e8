"""Helpers of the central-store tests: a central database with the store's schema and the push
functions, and local SQLite stores filled from model values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from auditor.models import AuditId, AuditReport
from auditor.store import Store
from auditor.store.central import install
from tests.store import store_engines


def make_central(url: str) -> str:
    Store(url).close()  # the store's own schema and migrations
    with psycopg.connect(url, autocommit=True) as conn:
        install(conn)
    return url


def save_report(path: Path, report: AuditReport) -> None:
    with Store(path) as store:
        store_engines.save_report(store, report)


def replicate(report: AuditReport, count: int, *, site: str, audit_id: str) -> AuditReport:
    """``count`` devices (the sample's, repeated, each at its own address) under a new audit."""
    import dataclasses
    import ipaddress

    base = list(report.devices)
    net = ipaddress.IPv4Network("10.100.0.0/16")
    devices = tuple(
        dataclasses.replace(
            base[i % len(base)],
            host=dataclasses.replace(base[i % len(base)].host, address=net.network_address + 1 + i),
        )
        for i in range(count)
    )
    audit = dataclasses.replace(report.audit, id=AuditId(audit_id), site=site)
    return dataclasses.replace(report, audit=audit, devices=devices)


_CANON = {
    "probe_attempts": "SELECT h.address, p.position, p.probe, p.outcome, p.reason, p.detail, "
    "p.duration_s FROM probe_attempts p JOIN hosts h ON h.id = p.host_id",
    "observations": "SELECT h.address, o.origin, o.position, o.kind, o.value, o.source, "
    "o.observed_at, o.port, o.sha256, p.position FROM observations o JOIN hosts h ON "
    "h.id = o.host_id LEFT JOIN probe_attempts p ON p.id = o.attempt_id",
    "components": "SELECT h.address, c.position, c.kind, c.vendor, c.model FROM components c "
    "JOIN hosts h ON h.id = c.host_id",
    "evidence_links": "SELECT h.address, c.position, e.position, o.sha256, o.origin, "
    "e.fingerprint_id, e.description, e.asserts, e.weight, e.source FROM evidence_links e "
    "JOIN hosts h ON h.id = e.host_id JOIN observations o ON o.id = e.observation_id "
    "LEFT JOIN components c ON c.id = e.component_id",
    "identifications": "SELECT h.address, i.manufacturer, i.brand, i.model, i.firmware, "
    "i.serial, i.device_type, i.confidence, i.oem_relabel, i.rationale FROM identifications i "
    "JOIN hosts h ON h.id = i.host_id",
    "exposures": "SELECT h.address, x.position, x.instrument, x.instrument_name, x.jurisdiction, "
    "x.status, x.severity, x.effect, x.binds, x.source, x.since, x.entity, x.uncertain, "
    "x.match_score, x.list_row FROM exposures x JOIN hosts h ON h.id = x.host_id",
    "vulnerabilities": "SELECT h.address, v.position, v.cve, v.finding FROM vulnerabilities v "
    "JOIN hosts h ON h.id = v.host_id",
    "hosts": "SELECT h.address, h.mac, h.mac_vendor, h.services, h.seen_by, h.endpoint_ids, "
    "h.remediation, h.site, h.complete FROM hosts h",
    "audits": "SELECT a.id, a.site, a.started, a.finished, a.tool_version, a.targets, a.excludes, "
    "a.profile, a.data_versions, a.ports, a.probes, a.notes, a.port_spec, a.options, "
    "a.channel_failures FROM audits a",
    "out_of_scope": "SELECT address, referrer, via, seq FROM out_of_scope",
}


def canonical(
    execute: Callable[[str, str], list[Any]], audit_id: str
) -> dict[str, list[tuple[object, ...]]]:
    """Every row of one audit without the engine's ids: equal on both engines when the push
    copied everything once. ``execute(sql, audit_id)`` returns the rows."""
    out = {}
    for table, query in _CANON.items():
        if table == "audits":
            where = " WHERE a.id = {p}"
        elif table == "out_of_scope":
            where = " WHERE audit_id = {p}"
        else:
            where = " WHERE h.audit_id = {p}"
        rows = execute(query + where, audit_id)
        out[table] = sorted((tuple(r) for r in rows), key=repr)
    return out


def canonical_sqlite(path: Path, audit_id: str) -> dict[str, list[tuple[object, ...]]]:
    import sqlite3

    with sqlite3.connect(path) as conn:
        return canonical(lambda q, a: conn.execute(q.format(p="?"), (a,)).fetchall(), audit_id)


def canonical_pg(url: str, audit_id: str) -> dict[str, list[tuple[object, ...]]]:
    with psycopg.connect(url) as conn:
        return canonical(lambda q, a: conn.execute(q.format(p="%s"), (a,)).fetchall(), audit_id)


def counts_pg(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {
            t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])  # type: ignore[index]
            for t in _CANON
        }


def as_user(url: str, user: str) -> str:
    """The same database URL, logging in as ``user``."""
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}@{rest.split('@', 1)[1]}"
