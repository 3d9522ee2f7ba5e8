"""What discovery has seen so far in an audit, kept in the store while the audit streams.

Discovery channels and imports report hosts one sighting at a time; the engine probes a host as
soon as it is ready and must not hold every discovered host in memory (a /16, a 50,000-host
import). So sightings go to the store, merged per address (``Host.merge``), and the engine reads
them back in the order they became ready. A killed audit keeps them: `scan --resume` probes the
hosts discovery had found even if its new discovery round does not see them again.

The table is written through a connection of its own (the store's writer keeps its one
transaction per host), batched: a sighting is merged into an in-memory buffer and the buffer is
written in one transaction every ``FLUSH_S`` or ``FLUSH_HOSTS`` hosts. Plain, portable SQL.
"""

from __future__ import annotations

import ipaddress
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from auditor.errors import StoreError
from auditor.models import Channel, Host, Observation, Service
from auditor.store.connection import Connection
from auditor.store.location import describe

#: Schema migration 6 (auditor.store.schema appends it).
MIGRATION = """
    -- One row per address an audit's discovery (or import) reported, merged across channels.
    -- ready_seq: the order in which hosts became ready for probing (NULL: waiting for the port
    -- scan); updated_seq: bumped whenever a sighting adds something; probed_seq: the
    -- updated_seq the saved host was probed with (NULL: not probed in this run).
    CREATE TABLE sightings (
        audit_id     TEXT NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
        address      TEXT NOT NULL,
        host         TEXT NOT NULL,  -- JSON object: the merged Host
        ready_seq    INTEGER,
        port_scanned INTEGER NOT NULL,  -- 1: a port scan (or its import) has seen it
        updated_seq  INTEGER NOT NULL,
        probed_seq   INTEGER,
        unconfirmed  INTEGER NOT NULL DEFAULT 0,  -- 1: saved as seen only in discovery replies
        PRIMARY KEY (audit_id, address)
    );
    CREATE INDEX sightings_ready ON sightings (audit_id, ready_seq);

    -- When each discovery round of an audit ran (a resumed audit runs another round).
    CREATE TABLE discovery_rounds (
        audit_id  TEXT NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
        started   TEXT NOT NULL,
        finished  TEXT
    );
"""

#: A buffered sighting is written within this many seconds ...
FLUSH_S = 0.1
#: ... or as soon as this many addresses are buffered (memory stays bounded on a /16).
FLUSH_HOSTS = 256

#: Channels whose sighting brings the open ports; a host waits for them while the scan runs.
PORT_CHANNELS = frozenset({Channel.NMAP, Channel.IMPORT_NMAP})


@dataclass(frozen=True, slots=True)
class Sighting:
    seq: int
    """Its place in the ready order."""
    host: Host


def host_to_json(host: Host) -> str:
    return json.dumps(
        {
            "address": str(host.address),
            "mac": host.mac,
            "mac_vendor": host.mac_vendor,
            "mac_on_wire": host.mac_on_wire,
            "services": [
                [
                    s.port,
                    s.protocol,
                    s.name,
                    s.product,
                    s.version,
                    s.extrainfo,
                    s.device_type,
                    s.tunnel,
                    list(s.cpes),
                ]
                for s in host.services
            ],  # fmt: skip
            "seen_by": sorted(c.value for c in host.seen_by),
            "endpoint_ids": sorted(host.endpoint_ids),
            "observations": [
                [o.kind.value, o.value, o.source, o.observed_at.isoformat(), o.port]
                for o in host.observations
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def host_from_json(raw: str) -> Host:
    d: dict[str, Any] = json.loads(raw)
    return Host(
        address=d["address"],
        mac=d["mac"],
        mac_vendor=d["mac_vendor"],
        mac_on_wire=bool(d["mac_on_wire"]),
        services=tuple(
            Service(p, proto, name, product, version, extra, dtype, tunnel, tuple(cpes))
            for p, proto, name, product, version, extra, dtype, tunnel, cpes in d["services"]
        ),
        seen_by=frozenset(Channel(c) for c in d["seen_by"]),
        endpoint_ids=frozenset(d["endpoint_ids"]),
        observations=tuple(
            Observation(kind, value, source, datetime.fromisoformat(at), port)
            for kind, value, source, at, port in d["observations"]
        ),
    )


class Sightings:
    """The sightings of one audit in the store file at ``path`` (created by ``Store``)."""

    def __init__(
        self, path: Path | str, audit_id: str, *, ports_pending: bool, whole_scan: bool = False
    ) -> None:
        """``ports_pending``: a port scan runs, hosts wait for its sighting; ``whole_scan``:
        they wait for the whole scan to end (see ``ports_known``)."""
        self.audit_id = audit_id
        self._ports_pending = ports_pending
        self._whole_scan = whole_scan
        self._lock = threading.RLock()
        self._buffer: dict[str, Host] = {}
        self._last_flush = time.monotonic()
        # A connection of its own, without an fsync per commit: a sighting lost to a power cut
        # is found again by `scan --resume` (the store's writer keeps one transaction per host).
        from auditor.store.db import connect  # the store imports this module for its schema

        self._conn = connect(path, durable=False)
        self._where = describe(path)  # a URL as it may be shown
        with self._errors("open the sightings"):
            row = self._rows(
                "SELECT MAX(ready_seq), MAX(updated_seq) FROM sightings WHERE audit_id = ?",
                (audit_id,),
            )[0]
            # A new run probes afresh: nothing is "probed in this run" yet; and with a port
            # scan to come, a host it has not seen waits for it again (it may add ports).
            self._write("UPDATE sightings SET probed_seq = NULL WHERE audit_id = ?", (audit_id,))
            if ports_pending:
                self._write(
                    "UPDATE sightings SET ready_seq = NULL WHERE audit_id = ? AND port_scanned = 0",
                    (audit_id,),
                )
        self._ready_seq = int(row[0] or 0)
        self._updated_seq = int(row[1] or 0)

    def close(self) -> None:
        self._conn.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except self._conn.driver_errors as exc:
            raise StoreError(f"audit store {self._where}: could not {action}: {exc}") from exc

    def _transaction(self, work: Callable[[Connection], object], *, again: bool = True) -> None:
        """One transaction, run again on a new connection if PostgreSQL's was found lost
        (``Connection.run``). ``again``: running it twice leaves what once does (the merges
        find their rows merged, the updates set the same values), so even a COMMIT whose
        outcome is unknown is retried. The seq counters may skip numbers; order is all they
        promise."""
        with self._lock, self._errors("record sightings"):
            self._conn.run(work, write=True, commit_idempotent=again)

    def _rows(self, sql: str, params: tuple[object, ...]) -> list[Any]:
        with self._lock, self._errors("read sightings"):
            return self._conn.run(
                lambda c: c.execute(sql, params).fetchall(), write=False, snapshot=False
            )

    # -- writes ----------------------------------------------------------------------------

    def _write(self, sql: str, params: tuple[object, ...], *, again: bool = True) -> None:
        self._transaction(lambda conn: conn.execute(sql, params), again=again)

    def add(self, host: Host) -> None:
        """Record a sighting (merged with what is known of its address)."""
        key = str(host.address)
        with self._lock:
            known = self._buffer.get(key)
            self._buffer[key] = host if known is None else known.merge(host)
            if len(self._buffer) >= FLUSH_HOSTS:
                self.flush()

    def flush_due(self) -> None:
        """Write the buffer if it has waited ``FLUSH_S`` (called by the engine's loop)."""
        with self._lock:
            if self._buffer and time.monotonic() - self._last_flush >= FLUSH_S:
                self.flush()

    def _ready(self, host: Host) -> bool:
        if not self._ports_pending:
            return True
        return not self._whole_scan and bool(host.seen_by & PORT_CHANNELS)

    def flush(self) -> None:
        with self._lock:
            self._last_flush = time.monotonic()
            if not self._buffer:
                return
            batch, self._buffer = self._buffer, {}

            def merge(conn: Connection) -> None:
                for key, host in batch.items():
                    self._merge_row(conn, key, host)

            self._transaction(merge)

    def _merge_row(self, conn: Connection, key: str, host: Host) -> None:
        row = conn.execute(
            "SELECT host, ready_seq FROM sightings WHERE audit_id = ? AND address = ?",
            (self.audit_id, key),
        ).fetchone()
        if row is None:
            self._updated_seq += 1
            ready = None
            if self._ready(host):
                self._ready_seq += 1
                ready = self._ready_seq
            conn.execute(
                "INSERT INTO sightings (audit_id, address, host, ready_seq, port_scanned, "
                "updated_seq) VALUES (?, ?, ?, ?, ?, ?)",
                (self.audit_id, key, host_to_json(host), ready, _scanned(host), self._updated_seq),
            )
            return
        known = host_from_json(row[0])
        merged = known.merge(host)
        ready = row[1]
        if ready is None and self._ready(merged):
            self._ready_seq += 1
            ready = self._ready_seq
        if merged == known and ready == row[1]:
            return  # nothing new (the same reply again, or a resumed audit's second round)
        self._updated_seq += 1
        conn.execute(
            "UPDATE sightings SET host = ?, ready_seq = ?, port_scanned = ?, updated_seq = ? "
            "WHERE audit_id = ? AND address = ?",
            (host_to_json(merged), ready, _scanned(merged), self._updated_seq, self.audit_id, key),
        )

    def ports_known(self) -> None:
        """The port scan is over (or failed): every waiting host is ready now, in address
        order."""
        with self._lock:
            self._ports_pending = False
            self.flush()
            self._transaction(self._make_ready)

    def _make_ready(self, conn: Connection) -> None:
        waiting = [
            r[0]
            for r in conn.execute(
                "SELECT address FROM sightings WHERE audit_id = ? AND ready_seq IS NULL",
                (self.audit_id,),
            ).fetchall()
        ]
        waiting.sort(key=_address_order)
        for address in waiting:
            self._ready_seq += 1
            conn.execute(
                "UPDATE sightings SET ready_seq = ? WHERE audit_id = ? AND address = ?",
                (self._ready_seq, self.audit_id, address),
            )

    def mark_probed(self, address: str, updated_seq: int, unconfirmed: bool) -> None:
        """The saved host was probed with the sightings up to ``updated_seq``."""
        self._write(
            "UPDATE sightings SET probed_seq = ?, unconfirmed = ? "
            "WHERE audit_id = ? AND address = ?",
            (updated_seq, 1 if unconfirmed else 0, self.audit_id, address),
        )

    def unconfirmed(self) -> int:
        """Hosts saved as seen only in discovery replies (a host probed again counts once)."""
        row = self._rows(
            "SELECT COUNT(*) FROM sightings WHERE audit_id = ? AND unconfirmed = 1",
            (self.audit_id,),
        )[0]
        return int(row[0])

    def round_started(self, when: datetime) -> None:
        self._write(
            "INSERT INTO discovery_rounds (audit_id, started) VALUES (?, ?)",
            (self.audit_id, when.astimezone(UTC).isoformat()),
            again=False,  # a second run after an unknown COMMIT would be a second round
        )

    def round_finished(self, when: datetime) -> None:
        self._write(
            "UPDATE discovery_rounds SET finished = ? WHERE audit_id = ? AND finished IS NULL",
            (when.astimezone(UTC).isoformat(), self.audit_id),
        )

    # -- reads -----------------------------------------------------------------------------

    def current(self, address: str) -> tuple[Host | None, int]:
        """The address's host with every sighting so far merged in, and its updated_seq."""
        with self._lock:
            rows = self._rows(
                "SELECT host, updated_seq FROM sightings WHERE audit_id = ? AND address = ?",
                (self.audit_id, address),
            )
            buffered = self._buffer.get(address)
        row = rows[0] if rows else None
        host = host_from_json(row[0]) if row is not None else None
        seq = int(row[1]) if row is not None else 0
        if buffered is not None:
            host = buffered if host is None else host.merge(buffered)
            seq = self._updated_seq + 1  # newer than anything written
        return host, seq

    def ready(self, after: int, limit: int) -> list[Sighting]:
        """Up to ``limit`` ready hosts not yet saved in the audit, after ``after`` in order."""
        rows = self._rows(
            "SELECT s.ready_seq, s.host FROM sightings s WHERE s.audit_id = ? "
            "AND s.ready_seq > ? AND NOT EXISTS (SELECT 1 FROM hosts h WHERE "
            "h.audit_id = s.audit_id AND h.address = s.address) "
            "ORDER BY s.ready_seq LIMIT ?",
            (self.audit_id, after, limit),
        )
        return [Sighting(int(seq), host_from_json(raw)) for seq, raw in rows]

    def unsaved(self) -> int:
        """Hosts discovered and not yet saved (the probing total once discovery is over)."""
        row = self._rows(
            "SELECT COUNT(*) FROM sightings s WHERE s.audit_id = ? AND NOT EXISTS "
            "(SELECT 1 FROM hosts h WHERE h.audit_id = s.audit_id AND h.address = s.address)",
            (self.audit_id,),
        )[0]
        return int(row[0])

    def stale(self) -> Iterator[Host]:
        """Hosts probed in this run that a sighting changed after their probes had read them."""
        rows = self._rows(
            "SELECT host FROM sightings WHERE audit_id = ? AND probed_seq IS NOT NULL "
            "AND updated_seq > probed_seq ORDER BY ready_seq",
            (self.audit_id,),
        )
        for (raw,) in rows:
            yield host_from_json(raw)

    def hosts(self) -> Iterator[Host]:
        """Every host discovered so far, read in pages (never all in memory at once)."""
        after = ""
        while True:
            rows = self._rows(
                "SELECT address, host FROM sightings WHERE audit_id = ? AND address > ? "
                "ORDER BY address LIMIT 512",
                (self.audit_id, after),
            )
            if not rows:
                return
            for _, raw in rows:
                yield host_from_json(raw)
            after = rows[-1][0]


def _scanned(host: Host) -> int:
    return 1 if host.seen_by & PORT_CHANNELS else 0


def _address_order(text: str) -> tuple[int, int]:
    addr = ipaddress.ip_address(text)
    return addr.version, int(addr)
