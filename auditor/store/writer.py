"""Writing audits: each function runs inside the caller's transaction (see ``Store._write``).

A device goes in as one host row and its children, in an order that lets the evidence links
point at the very observation rows the probes made.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from auditor.models import (
    AuditId,
    AuditInfo,
    ChannelFailure,
    DeviceResult,
    EvidenceLink,
    Observation,
    OutOfScopeReference,
)
from auditor.store import codec
from auditor.store import codec_device as rows
from auditor.store.codec_audit import audit_row, failures
from auditor.store.connection import Connection


def upsert_audit(conn: Connection, info: AuditInfo) -> None:
    """A new audit; for an existing id (a resume) its info is updated and its hosts kept."""
    row = audit_row(info)
    columns = ", ".join(row)
    placeholders = ", ".join("?" for _ in row)
    updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "id")
    conn.execute(
        f"INSERT INTO audits ({columns}) VALUES ({placeholders}) "
        f"ON CONFLICT (id) DO UPDATE SET {updates}",
        tuple(row.values()),
    )


def finish_audit(
    conn: Connection,
    audit_id: AuditId | str,
    finished: datetime,
    notes: tuple[str, ...],
    channel_failures: tuple[ChannelFailure, ...],
) -> None:
    conn.execute(
        "UPDATE audits SET finished = ?, notes = ?, channel_failures = ? WHERE id = ?",
        (
            codec.moment(finished),
            codec.dump([codec.text(n) for n in notes]),
            failures(channel_failures),
            audit_id,
        ),
    )


def replace_device(conn: Connection, audit_id: str, device: DeviceResult) -> None:
    """Delete any earlier save of this host in this audit, then insert it (cascades delete)."""
    conn.execute(
        "DELETE FROM hosts WHERE audit_id = ? AND address = ?",
        (audit_id, str(device.host.address)),
    )
    insert_device(conn, audit_id, device)


def insert_refs(
    conn: Connection, audit_id: AuditId | str, refs: Iterable[OutOfScopeReference]
) -> None:
    """References to addresses outside the scope; one already recorded is kept once."""
    seq = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM out_of_scope WHERE audit_id = ?", (audit_id,)
    ).fetchone()[0]
    for ref in refs:
        seq += 1
        conn.execute(
            "INSERT INTO out_of_scope (audit_id, address, referrer, via, seq) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (audit_id, codec.text(ref.address), str(ref.referrer), codec.text(ref.via), seq),
        )


class _DeviceWriter:
    """The rows of one device; remembers which observation row each observation became."""

    def __init__(self, conn: Connection, host_id: int) -> None:
        self.conn = conn
        self.host_id = host_id
        self.known: dict[Observation, int] = {}
        self.cited = 0

    def observation(self, obs: Observation, origin: str, attempt_id: int | None, pos: int) -> int:
        row = rows.observation_row(self.host_id, attempt_id, origin, pos, obs)
        obs_id = self.conn.insert(rows.INSERT_OBSERVATION, row)
        self.known.setdefault(obs, obs_id)
        return obs_id

    def links(self, links: tuple[EvidenceLink, ...], component_id: int | None) -> None:
        for pos, link in enumerate(links):
            obs_id = self.known.get(link.observation)
            if obs_id is None:
                # Evidence that no probe attempt carries is still kept, so the chain is complete.
                obs_id = self.observation(link.observation, "evidence", None, self.cited)
                self.cited += 1
            self.conn.execute(
                rows.INSERT_LINK, rows.link_row(self.host_id, component_id, pos, obs_id, link)
            )


def insert_device(conn: Connection, audit_id: str, device: DeviceResult) -> None:
    # The order the audit's hosts were saved in. Counted within the audit (its rows are found
    # through the (audit_id, address) index): a MAX over every host of every audit grew with
    # the store, one full scan per saved host in a central store of many sites.
    seq = conn.execute(
        "SELECT COALESCE(MAX(saved_at_seq), 0) + 1 FROM hosts WHERE audit_id = ?", (audit_id,)
    ).fetchone()[0]
    host_id = conn.insert(rows.INSERT_HOST, rows.host_row(audit_id, device, int(seq)))
    w = _DeviceWriter(conn, host_id)
    for pos, obs in enumerate(device.host.observations):
        w.observation(obs, "host", None, pos)
    for apos, attempt in enumerate(device.attempts):
        attempt_id = conn.insert(rows.INSERT_ATTEMPT, rows.attempt_row(host_id, apos, attempt))
        for pos, obs in enumerate(attempt.observations):
            w.observation(obs, "attempt", attempt_id, pos)

    ident = device.identification
    conn.execute(rows.INSERT_IDENTIFICATION, rows.identification_row(host_id, ident))
    w.links(ident.evidence, None)
    for pos, comp in enumerate(ident.components):
        comp_id = conn.insert(rows.INSERT_COMPONENT, rows.component_row(host_id, pos, comp))
        w.links(comp.evidence, comp_id)

    for pos, exp in enumerate(device.exposures):
        conn.execute(rows.INSERT_EXPOSURE, rows.exposure_row(host_id, pos, exp))
    for pos, finding in enumerate(device.vulnerabilities):
        conn.execute(rows.INSERT_VULNERABILITY, rows.vulnerability_row(host_id, pos, finding))
