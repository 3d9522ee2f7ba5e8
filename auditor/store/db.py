"""The embedded audit store: one SQLite file (WAL) per project, written host by host.

Every write is its own transaction with ``synchronous=FULL``, so an audit interrupted by Ctrl-C,
kill -9 or a power cut keeps every host that was saved, and `scan --resume` skips them. Saving a
host again replaces it, so a resumed audit never holds a host twice.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import sqlite3
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from auditor.errors import StoreError
from auditor.models import (
    Audience,
    AuditId,
    AuditInfo,
    AuditReport,
    ChannelFailure,
    Component,
    DeviceResult,
    DeviceType,
    EvidenceLink,
    Exposure,
    ExposureStatus,
    FingerprintId,
    Host,
    Identification,
    InstrumentId,
    Observation,
    ObservationKind,
    Outcome,
    OutOfScopeReference,
    ProbeAttempt,
    Reason,
    Severity,
    VulnFinding,
)
from auditor.store import codec
from auditor.store.schema import CURRENT_VERSION, migrate

logger = logging.getLogger(__name__)


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


#: How long opening the store waits for another process that holds it.
OPEN_WAIT_S = 30.0


class Store:
    """The audit history in one SQLite file. Thread-safe; use as a context manager."""

    def __init__(self, path: Path | str, *, read_only: bool = False) -> None:
        """Open (and for writing, create or migrate) the store at ``path``.

        ``read_only`` (audits, report, diff) never changes the file: no WAL switch, no migration,
        so a store on a read-only medium or owned by someone else can still be reported on. A
        file that is not ours, or that a newer camaudit wrote, is refused before anything is
        written to it.
        """
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.Lock()
        # Several processes opening a new store at once (a scan starting while `audits` runs)
        # meet SQLite's locks in places its busy handler does not cover: wait for them.
        deadline = time.monotonic() + OPEN_WAIT_S
        while True:
            try:
                self._open()
                return
            except StoreError as exc:
                locked = isinstance(exc.__cause__, sqlite3.OperationalError) and "locked" in str(
                    exc.__cause__
                )
                if not locked or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def _open(self) -> None:
        read_only = self.read_only
        if self.path.exists():
            self._check_ours()
        elif read_only:
            raise StoreError(f"audit store {self.path}: no such file")
        if read_only:
            self._conn = self._open_read_only()
            return
        with self._errors("open"):
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            self._conn = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30.0
            )
        try:
            with self._errors("open"):
                self._conn.row_factory = _row_factory
                mode = _enable_wal(self._conn)
                if str(mode).lower() != "wal":
                    logger.warning("%s: SQLite refused WAL mode (%s)", self.path, mode)
                # FULL: a committed host survives a power cut, not only a killed process.
                self._conn.execute("PRAGMA synchronous=FULL")
                self._conn.execute("PRAGMA foreign_keys=ON")
                migrate(self._conn)
        except BaseException:
            self._conn.close()
            raise

    def _connect_ro(self, *, immutable: bool = False) -> sqlite3.Connection:
        flags = "mode=ro&immutable=1" if immutable else "mode=ro"
        uri = f"{self.path.resolve().as_uri()}?{flags}"
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)

    def _check_ours(self) -> None:
        """Refuse, without writing a byte, a file that is not an audit store or is too new."""
        with self._errors("open"):
            conn = self._connect_ro(immutable=not os.access(self.path.parent, os.W_OK))
            try:
                tables = {
                    r[0]
                    for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                    if not r[0].startswith("sqlite_")
                }
                version = (
                    conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                    if "schema_version" in tables
                    else None
                )
            finally:
                conn.close()
        # `lists import` may have made the file before any scan: its list_* tables are ours.
        foreign = sorted(t for t in tables if not t.startswith("list_"))
        if foreign and "schema_version" not in tables:
            raise StoreError(
                f"{self.path} is an SQLite file but not a camaudit store (it has tables "
                f"{', '.join(foreign[:5])}); point --db at an audit store"
            )
        if version is not None and int(version) > CURRENT_VERSION:
            raise StoreError(
                f"audit store {self.path}: schema version {version} is newer than this "
                f"camaudit supports ({CURRENT_VERSION}); upgrade camaudit"
            )
        if self.read_only and (version is None or int(version) < CURRENT_VERSION):
            raise StoreError(
                f"audit store {self.path}: schema version {version or 0} predates this camaudit "
                f"({CURRENT_VERSION}); run a camaudit command that writes to it (scan) to "
                "migrate it, or use the camaudit that wrote it"
            )

    def _open_read_only(self) -> sqlite3.Connection:
        with self._errors("open"):
            try:
                conn = self._connect_ro()
                conn.execute("SELECT 1 FROM schema_version").fetchall()
            except sqlite3.OperationalError:
                # A WAL file on a read-only medium: SQLite cannot create its -shm index there.
                # Read it as immutable; nothing can be writing to a read-only medium.
                conn = self._connect_ro(immutable=True)
            conn.row_factory = _row_factory
            conn.execute("PRAGMA query_only=ON")
            return conn

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except (sqlite3.Error, OSError, RuntimeError) as exc:
            message = f"audit store {self.path}: could not {action}: {_explain(exc)}"
            raise StoreError(message) from exc

    @contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """One transaction: all of it is committed, or none of it (the file stays consistent)."""
        with self._lock, self._errors(action):
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.execute("COMMIT")

    @contextmanager
    def relaxed_durability(self) -> Iterator[None]:
        """Commits in the block are not flushed to disk one by one (WAL ``synchronous=NORMAL``):
        each is still atomic and survives a killed process, but a power cut may undo the last
        ones. Only for work redone from its input: an offline import (``scan --resume`` reads
        the file again), where one flush per host was half the time (issue 16). The first
        commit after the block flushes everything before it."""
        with self._lock, self._errors("relax durability"):
            self._conn.execute("PRAGMA synchronous=NORMAL")
        try:
            yield
        finally:
            with self._lock, self._errors("restore durability"):
                self._conn.execute("PRAGMA synchronous=FULL")

    # -- writes --------------------------------------------------------------------------------

    def begin_audit(self, info: AuditInfo) -> None:
        """Record a new audit; for an existing id (a resume) update its info and keep its hosts."""
        row = codec.audit_row(info)
        columns = ", ".join(row)
        placeholders = ", ".join(f":{k}" for k in row)
        updates = ", ".join(f"{k} = excluded.{k}" for k in row if k != "id")
        with self._write(f"record audit {info.id}") as conn:
            conn.execute(
                f"INSERT INTO audits ({columns}) VALUES ({placeholders}) "
                f"ON CONFLICT (id) DO UPDATE SET {updates}",
                {k: codec.bindable(v) for k, v in row.items()},
            )

    def save_device(
        self,
        audit_id: AuditId | str,
        device: DeviceResult,
        out_of_scope: Iterable[OutOfScopeReference] = (),
    ) -> None:
        """Save one host with everything learned about it, replacing an earlier save of it.

        ``out_of_scope`` (the references this host made) goes in the same transaction, so a
        killed audit keeps them with the hosts it kept.
        """
        address = str(device.host.address)
        with self._write(f"save host {address}") as conn:
            self._require_audit(conn, audit_id)
            conn.execute(
                "DELETE FROM hosts WHERE audit_id = ? AND address = ?", (audit_id, address)
            )
            _insert_device(conn, audit_id, device)
            _insert_refs(conn, audit_id, out_of_scope)

    def save_out_of_scope(
        self, audit_id: AuditId | str, refs: Iterable[OutOfScopeReference]
    ) -> None:
        """Record references (a reference already recorded is kept once)."""
        with self._write("record out-of-scope references") as conn:
            self._require_audit(conn, audit_id)
            _insert_refs(conn, audit_id, refs)

    def finish_audit(
        self,
        audit_id: AuditId | str,
        finished: datetime,
        notes: tuple[str, ...] = (),
        channel_failures: tuple[ChannelFailure, ...] = (),
    ) -> None:
        """Mark the audit finished; ``channel_failures`` replaces those of an earlier run."""
        with self._write(f"finish audit {audit_id}") as conn:
            self._require_audit(conn, audit_id)
            conn.execute(
                "UPDATE audits SET finished = ?, notes = ?, channel_failures = ? WHERE id = ?",
                (
                    codec.moment(finished),
                    codec.dump([codec.text(n) for n in notes]),
                    codec.failures(channel_failures),
                    audit_id,
                ),
            )

    # -- reads ---------------------------------------------------------------------------------

    def completed_addresses(self, audit_id: AuditId | str) -> set[str]:
        """The hosts already saved for this audit (`scan --resume` skips them)."""
        with self._lock, self._errors("read hosts"):
            rows = self._conn.execute(
                "SELECT address FROM hosts WHERE audit_id = ?", (audit_id,)
            ).fetchall()
        return {r[0] for r in rows}

    def load_audit_info(self, audit_id: AuditId | str) -> AuditInfo:
        with self._lock, self._errors(f"read audit {audit_id}"):
            row = self._require_audit(self._conn, audit_id)
            return codec.audit_from_row(row)

    def load_report(self, audit_id: AuditId | str) -> AuditReport:
        with self._lock, self._errors(f"read audit {audit_id}"):
            row = self._require_audit(self._conn, audit_id)
            info = codec.audit_from_row(row)
            devices = _load_devices(self._conn, audit_id)
            refs = tuple(
                OutOfScopeReference(
                    address=r["address"],
                    referrer=ipaddress.ip_address(r["referrer"]),
                    via=r["via"],
                )
                for r in self._conn.execute(
                    "SELECT address, referrer, via FROM out_of_scope WHERE audit_id = ? "
                    "ORDER BY seq",
                    (audit_id,),
                )
            )
            notes = tuple(codec.load(row["notes"]))
        return AuditReport(audit=info, devices=devices, out_of_scope=refs, notes=notes)

    def list_audits(self) -> list[AuditSummary]:
        with self._lock, self._errors("list audits"):
            rows = self._conn.execute(
                "SELECT a.id, a.site, a.started, a.finished, a.profile, "
                "COUNT(h.id) AS devices, COALESCE(SUM(h.complete = 0), 0) AS incomplete "
                "FROM audits a LEFT JOIN hosts h ON h.audit_id = a.id "
                "GROUP BY a.id ORDER BY a.started, a.id"
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
            for r in rows
        ]

    def latest_audit(self, site: str | None = None) -> AuditId | None:
        query = "SELECT id FROM audits"
        params: tuple[str, ...] = ()
        if site is not None:
            query += " WHERE site = ?"
            params = (site,)
        with self._lock, self._errors("find the latest audit"):
            row = self._conn.execute(query + " ORDER BY started DESC, id DESC LIMIT 1", params)
            found = row.fetchone()
        return AuditId(found[0]) if found else None

    def resolve_audit(self, text: str) -> AuditId:
        """An audit id from a full id or a unique prefix of one (as typed on the command line)."""
        with self._lock, self._errors("find the audit"):
            rows = self._conn.execute(
                "SELECT id FROM audits WHERE id = ? OR substr(id, 1, length(?)) = ? ORDER BY id",
                (text, text, text),
            ).fetchall()
        ids = [r[0] for r in rows]
        if text in ids:
            return AuditId(text)
        if len(ids) == 1:
            return AuditId(ids[0])
        if not ids:
            raise StoreError(f"no audit {text!r} in {self.path} (see `camaudit audits`)")
        raise StoreError(f"{text!r} matches several audits: {', '.join(ids[:5])}; give more of it")

    def _require_audit(self, conn: sqlite3.Connection, audit_id: str) -> Any:
        row = conn.execute("SELECT * FROM audits WHERE id = ?", (audit_id,)).fetchone()
        if row is None:
            raise StoreError(f"no audit {audit_id!r} in {self.path} (see `camaudit audits`)")
        return row


def _explain(exc: BaseException) -> str:
    message = str(exc)
    lowered = message.lower()
    if "disk is full" in lowered or "no space" in lowered:
        return f"{message} (free some disk space; every host saved so far is kept)"
    if "readonly" in lowered or "read-only" in lowered or "permission denied" in lowered:
        return f"{message} (the file or its folder is not writable; choose another with --db)"
    if "unable to open" in lowered:
        return f"{message} (check that the folder exists and is writable, or use --db)"
    if "not a database" in lowered:
        return f"{message} (this file is not a camaudit store; choose another with --db)"
    return message


def _enable_wal(conn: sqlite3.Connection, wait_s: float = 30.0) -> str:
    """Switch the file to WAL, waiting while another process holds it.

    Changing the journal mode of a new file does not always go through SQLite's busy handler:
    two camaudit processes opening a new store at once saw "database is locked" at once.
    """
    deadline = time.monotonic() + wait_s
    while True:
        try:
            return str(conn.execute("PRAGMA journal_mode=WAL").fetchone()[0])
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _insert_refs(
    conn: sqlite3.Connection, audit_id: AuditId | str, refs: Iterable[OutOfScopeReference]
) -> None:
    seq = conn.execute(
        "SELECT COALESCE(MAX(seq), 0) FROM out_of_scope WHERE audit_id = ?", (audit_id,)
    ).fetchone()[0]
    for ref in refs:
        seq += 1
        _exec(
            conn,
            "INSERT OR IGNORE INTO out_of_scope (audit_id, address, referrer, via, seq) "
            "VALUES (?, ?, ?, ?, ?)",
            (audit_id, codec.text(ref.address), str(ref.referrer), codec.text(ref.via), seq),
        )


# -- device rows -------------------------------------------------------------------------------


def _exec(conn: sqlite3.Connection, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
    return conn.execute(sql, tuple(codec.bindable(p) for p in params))


class _Row:
    """A result row addressable by index or column name, with escaped text restored."""

    __slots__ = ("_names", "_values")

    def __init__(self, values: tuple[object, ...], names: dict[str, int]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: int | str) -> Any:
        return self._values[key if isinstance(key, int) else self._names[key]]

    def keys(self) -> list[str]:
        return list(self._names)


def _row_factory(cursor: sqlite3.Cursor, row: tuple[object, ...]) -> _Row:
    names = {d[0]: i for i, d in enumerate(cursor.description)}
    # Text is interned: a report repeats the same probe names, skip details, exposure effects
    # and sources on every device, and SQLite returns a new copy of each per row (a 50,000-host
    # import's report loaded in 674 MB, 351 MB interned, at the same speed; issue 16).
    return _Row(tuple(sys.intern(v) if type(v) is str else codec.unbind(v) for v in row), names)


def _insert_device(conn: sqlite3.Connection, audit_id: str, device: DeviceResult) -> None:
    host = device.host
    # The order the audit's hosts were saved in, counted within the audit: one index lookup
    # (hosts_audit_seq), where a MAX over every host of every audit scanned the whole table.
    seq = _exec(
        conn,
        "SELECT COALESCE(MAX(saved_at_seq), 0) + 1 FROM hosts WHERE audit_id = ?",
        (audit_id,),
    ).fetchone()[0]
    host_id = _exec(
        conn,
        "INSERT INTO hosts (audit_id, address, mac, mac_vendor, services, seen_by, endpoint_ids, "
        "remediation, site, complete, saved_at_seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            audit_id,
            str(host.address),
            codec.opt_text(host.mac),
            codec.opt_text(host.mac_vendor),
            codec.services_to_json(host.services),
            codec.channels_to_json(host.seen_by),
            codec.dump(sorted(codec.text(e) for e in host.endpoint_ids)),
            codec.remediation_to_json(device.remediation),
            codec.opt_text(device.site),
            int(device.complete),
            seq,
        ),
    ).lastrowid
    assert host_id is not None
    known: dict[Observation, int] = {}

    def put_observation(obs: Observation, origin: str, attempt_id: int | None, pos: int) -> int:
        obs_id = _exec(
            conn,
            "INSERT INTO observations (host_id, attempt_id, origin, position, kind, value, source, "
            "observed_at, port, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                host_id,
                attempt_id,
                origin,
                pos,
                ObservationKind(obs.kind).value,
                codec.text(obs.value),
                codec.text(obs.source),
                codec.moment(obs.observed_at),
                obs.port,
                obs.sha256,
            ),
        ).lastrowid
        assert obs_id is not None
        known.setdefault(obs, obs_id)
        return obs_id

    for pos, obs in enumerate(host.observations):
        put_observation(obs, "host", None, pos)
    for apos, attempt in enumerate(device.attempts):
        attempt_id = _exec(
            conn,
            "INSERT INTO probe_attempts (host_id, position, probe, outcome, reason, detail, "
            "duration_s) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                host_id,
                apos,
                codec.text(attempt.probe),
                Outcome(attempt.outcome).value,
                None if attempt.reason is None else Reason(attempt.reason).value,
                codec.text(attempt.detail),
                float(attempt.duration_s),
            ),
        ).lastrowid
        for pos, obs in enumerate(attempt.observations):
            put_observation(obs, "attempt", attempt_id, pos)

    cited = 0

    def put_links(links: tuple[EvidenceLink, ...], component_id: int | None) -> None:
        nonlocal cited
        for pos, link in enumerate(links):
            obs_id = known.get(link.observation)
            if obs_id is None:
                # Evidence that no probe attempt carries is still kept, so the chain is complete.
                obs_id = put_observation(link.observation, "evidence", None, cited)
                cited += 1
            _exec(
                conn,
                "INSERT INTO evidence_links (host_id, component_id, position, observation_id, "
                "fingerprint_id, description, asserts, weight, source) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    host_id,
                    component_id,
                    pos,
                    obs_id,
                    codec.text(link.fingerprint_id),
                    codec.text(link.description),
                    codec.dump([[codec.text(k), codec.text(v)] for k, v in link.asserts]),
                    float(link.weight),
                    codec.text(link.source),
                ),
            )

    ident = device.identification
    _exec(
        conn,
        "INSERT INTO identifications (host_id, manufacturer, brand, model, firmware, serial, "
        "device_type, confidence, oem_relabel, rationale) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            host_id,
            codec.opt_text(ident.manufacturer),
            codec.opt_text(ident.brand),
            codec.opt_text(ident.model),
            codec.opt_text(ident.firmware),
            codec.opt_text(ident.serial),
            DeviceType(ident.device_type).value,
            float(ident.confidence),
            int(ident.oem_relabel),
            codec.dump([codec.text(r) for r in ident.rationale]),
        ),
    )
    put_links(ident.evidence, None)
    for pos, comp in enumerate(ident.components):
        comp_id = _exec(
            conn,
            "INSERT INTO components (host_id, position, kind, vendor, model) "
            "VALUES (?, ?, ?, ?, ?)",
            (
                host_id,
                pos,
                codec.text(comp.kind),
                codec.text(comp.vendor),
                codec.opt_text(comp.model),
            ),
        ).lastrowid
        put_links(comp.evidence, comp_id)

    for pos, exp in enumerate(device.exposures):
        _exec(
            conn,
            "INSERT INTO exposures (host_id, position, instrument, instrument_name, jurisdiction, "
            "status, severity, effect, binds, source, since, entity, uncertain, match_score, "
            "list_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                host_id,
                pos,
                codec.text(exp.instrument),
                codec.text(exp.instrument_name),
                codec.text(exp.jurisdiction),
                ExposureStatus(exp.status).value,
                exp.severity.label,
                codec.text(exp.effect),
                codec.text(exp.binds),
                codec.text(exp.source),
                codec.opt_day(exp.since),
                codec.opt_text(exp.entity),
                int(exp.uncertain),
                None if exp.match_score is None else float(exp.match_score),
                codec.opt_text(exp.list_row),
            ),
        )

    for pos, finding in enumerate(device.vulnerabilities):
        _exec(
            conn,
            "INSERT INTO vulnerabilities (host_id, position, cve, finding) VALUES (?, ?, ?, ?)",
            (host_id, pos, codec.text(finding.cve), codec.finding_to_json(finding)),
        )


def _load_devices(conn: sqlite3.Connection, audit_id: str) -> tuple[DeviceResult, ...]:
    hosts = conn.execute("SELECT * FROM hosts WHERE audit_id = ?", (audit_id,)).fetchall()
    in_audit = "host_id IN (SELECT id FROM hosts WHERE audit_id = ?)"

    observations: dict[int, Observation] = {}
    host_obs: dict[int, list[Observation]] = defaultdict(list)
    attempt_obs: dict[int, list[Observation]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM observations WHERE {in_audit} ORDER BY host_id, attempt_id, position",
        (audit_id,),
    ):
        obs = Observation(
            kind=ObservationKind(r["kind"]),
            value=r["value"],
            source=r["source"],
            observed_at=codec.parse_moment(r["observed_at"]),
            port=r["port"],
        )
        observations[r["id"]] = obs
        if r["origin"] == "host":
            host_obs[r["host_id"]].append(obs)
        elif r["origin"] == "attempt":
            attempt_obs[r["attempt_id"]].append(obs)

    attempts: dict[int, list[ProbeAttempt]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM probe_attempts WHERE {in_audit} ORDER BY host_id, position", (audit_id,)
    ):
        attempts[r["host_id"]].append(
            ProbeAttempt(
                probe=r["probe"],
                outcome=Outcome(r["outcome"]),
                observations=tuple(attempt_obs.get(r["id"], ())),
                reason=None if r["reason"] is None else Reason(r["reason"]),
                detail=r["detail"],
                duration_s=r["duration_s"],
            )
        )

    links: dict[tuple[int, int | None], list[EvidenceLink]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM evidence_links WHERE {in_audit} ORDER BY host_id, component_id, position",
        (audit_id,),
    ):
        links[(r["host_id"], r["component_id"])].append(
            EvidenceLink(
                observation=observations[r["observation_id"]],
                fingerprint_id=FingerprintId(r["fingerprint_id"]),
                description=r["description"],
                asserts=tuple((k, v) for k, v in codec.load(r["asserts"])),
                weight=r["weight"],
                source=r["source"],
            )
        )

    components: dict[int, list[Component]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM components WHERE {in_audit} ORDER BY host_id, position", (audit_id,)
    ):
        components[r["host_id"]].append(
            Component(
                kind=r["kind"],
                vendor=r["vendor"],
                model=r["model"],
                evidence=tuple(links.get((r["host_id"], r["id"]), ())),
            )
        )

    idents: dict[int, Identification] = {}
    for r in conn.execute(f"SELECT * FROM identifications WHERE {in_audit}", (audit_id,)):
        hid = r["host_id"]
        idents[hid] = Identification(
            manufacturer=r["manufacturer"],
            brand=r["brand"],
            model=r["model"],
            firmware=r["firmware"],
            serial=r["serial"],
            device_type=DeviceType(r["device_type"]),
            confidence=r["confidence"],
            evidence=tuple(links.get((hid, None), ())),
            components=tuple(components.get(hid, ())),
            oem_relabel=bool(r["oem_relabel"]),
            rationale=tuple(codec.load(r["rationale"])),
        )

    exposures: dict[int, list[Exposure]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT * FROM exposures WHERE {in_audit} ORDER BY host_id, position", (audit_id,)
    ):
        exposures[r["host_id"]].append(
            Exposure(
                instrument=InstrumentId(r["instrument"]),
                instrument_name=r["instrument_name"],
                jurisdiction=r["jurisdiction"],
                status=ExposureStatus(r["status"]),
                severity=Severity.from_label(r["severity"]),
                effect=r["effect"],
                binds=r["binds"],
                source=r["source"],
                since=codec.opt_parse_day(r["since"]),
                entity=r["entity"],
                uncertain=bool(r["uncertain"]),
                match_score=r["match_score"],
                list_row=r["list_row"],
            )
        )

    findings: dict[int, list[VulnFinding]] = defaultdict(list)
    for r in conn.execute(
        f"SELECT host_id, finding FROM vulnerabilities WHERE {in_audit} ORDER BY host_id, position",
        (audit_id,),
    ):
        findings[r["host_id"]].append(codec.finding_from_json(r["finding"]))

    devices = []
    for h in sorted(hosts, key=lambda h: _address_key(h["address"])):
        hid = h["id"]
        host = Host(
            address=ipaddress.ip_address(h["address"]),
            mac=h["mac"],
            mac_vendor=h["mac_vendor"],
            services=codec.services_from_json(h["services"]),
            seen_by=codec.channels_from_json(h["seen_by"]),
            endpoint_ids=frozenset(codec.load(h["endpoint_ids"])),
            observations=tuple(host_obs.get(hid, ())),
        )
        devices.append(
            DeviceResult(
                host=host,
                attempts=tuple(attempts.get(hid, ())),
                identification=idents.get(hid, Identification.unknown()),
                exposures=tuple(exposures.get(hid, ())),
                remediation=codec.remediation_from_json(h["remediation"]),
                site=h["site"],
                vulnerabilities=tuple(findings.get(hid, ())),
            )
        )
    return tuple(devices)
