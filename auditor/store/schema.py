"""The store's schema and its migrations, applied in order at open, on either engine.

Each migration is one script, written with SQLite's types (the dialect translates them for
PostgreSQL); `schema_version` records the highest applied. A new version appends a script, never
edits a shipped one, so any older store upgrades in place. The official-list tables (``list_*``)
have their own track and version table (`list_schema_version`): `lists import` may have made them
in a file before any scan, and they upgrade independently of the audit tables.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from auditor.store.connection import Connection
from auditor.store.sightings import MIGRATION as SIGHTINGS_MIGRATION

MIGRATIONS: tuple[str, ...] = (
    # 1: the first schema.
    """
    CREATE TABLE audits (
        id            TEXT PRIMARY KEY,
        site          TEXT NOT NULL,
        started       TEXT NOT NULL,
        finished      TEXT,
        tool_version  TEXT NOT NULL,
        targets       TEXT NOT NULL,   -- JSON list
        excludes      TEXT NOT NULL,   -- JSON list
        profile       TEXT NOT NULL,
        data_versions TEXT NOT NULL,   -- JSON list of objects
        ports         TEXT NOT NULL,   -- JSON list
        probes        TEXT NOT NULL,   -- JSON list
        notes         TEXT NOT NULL DEFAULT '[]'
    );
    CREATE INDEX audits_site_started ON audits (site, started);

    CREATE TABLE hosts (
        id              INTEGER PRIMARY KEY,
        audit_id        TEXT NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
        address         TEXT NOT NULL,
        mac             TEXT,
        mac_vendor      TEXT,
        services        TEXT NOT NULL,  -- JSON list of objects
        seen_by         TEXT NOT NULL,  -- JSON list
        endpoint_ids    TEXT NOT NULL,  -- JSON list
        remediation     TEXT,           -- JSON object or NULL
        site            TEXT,           -- only for hosts of a combined, organisation-wide report
        complete        INTEGER NOT NULL,
        saved_at_seq    INTEGER NOT NULL,
        UNIQUE (audit_id, address)
    );

    CREATE TABLE probe_attempts (
        id          INTEGER PRIMARY KEY,
        host_id     INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        probe       TEXT NOT NULL,
        outcome     TEXT NOT NULL,
        reason      TEXT,
        detail      TEXT NOT NULL,
        duration_s  REAL NOT NULL
    );
    CREATE INDEX probe_attempts_host ON probe_attempts (host_id);

    -- Raw evidence. origin: 'host' (discovery), 'attempt' (a probe) or 'evidence' (only cited by
    -- an evidence link). The sha256 lets a reader verify a report against the store.
    CREATE TABLE observations (
        id           INTEGER PRIMARY KEY,
        host_id      INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        attempt_id   INTEGER REFERENCES probe_attempts (id) ON DELETE CASCADE,
        origin       TEXT NOT NULL,
        position     INTEGER NOT NULL,
        kind         TEXT NOT NULL,
        value        TEXT NOT NULL,
        source       TEXT NOT NULL,
        observed_at  TEXT NOT NULL,
        port         INTEGER,
        sha256       TEXT NOT NULL
    );
    CREATE INDEX observations_host ON observations (host_id);
    CREATE INDEX observations_sha256 ON observations (sha256);

    CREATE TABLE identifications (
        host_id       INTEGER PRIMARY KEY REFERENCES hosts (id) ON DELETE CASCADE,
        manufacturer  TEXT,
        brand         TEXT,
        model         TEXT,
        firmware      TEXT,
        serial        TEXT,
        device_type   TEXT NOT NULL,
        confidence    REAL NOT NULL,
        oem_relabel   INTEGER NOT NULL,
        rationale     TEXT NOT NULL     -- JSON list
    );

    CREATE TABLE components (
        id        INTEGER PRIMARY KEY,
        host_id   INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        kind      TEXT NOT NULL,
        vendor    TEXT NOT NULL,
        model     TEXT
    );

    -- One step of an evidence chain, for the identification (component_id NULL) or a component.
    CREATE TABLE evidence_links (
        id              INTEGER PRIMARY KEY,
        host_id         INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        component_id    INTEGER REFERENCES components (id) ON DELETE CASCADE,
        position        INTEGER NOT NULL,
        observation_id  INTEGER NOT NULL REFERENCES observations (id) ON DELETE CASCADE,
        fingerprint_id  TEXT NOT NULL,
        description     TEXT NOT NULL,
        asserts         TEXT NOT NULL,  -- JSON list of [key, value]
        weight          REAL NOT NULL,
        source          TEXT NOT NULL
    );
    CREATE INDEX evidence_links_host ON evidence_links (host_id);

    CREATE TABLE exposures (
        id               INTEGER PRIMARY KEY,
        host_id          INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        position         INTEGER NOT NULL,
        instrument       TEXT NOT NULL,
        instrument_name  TEXT NOT NULL,
        jurisdiction     TEXT NOT NULL,
        status           TEXT NOT NULL,
        severity         TEXT NOT NULL,
        effect           TEXT NOT NULL,
        binds            TEXT NOT NULL,
        source           TEXT NOT NULL,
        since            TEXT,
        entity           TEXT,
        uncertain        INTEGER NOT NULL,
        match_score      REAL,
        list_row         TEXT
    );
    CREATE INDEX exposures_host ON exposures (host_id);

    CREATE TABLE out_of_scope (
        audit_id  TEXT NOT NULL REFERENCES audits (id) ON DELETE CASCADE,
        address   TEXT NOT NULL,
        referrer  TEXT NOT NULL,
        via       TEXT NOT NULL,
        seq       INTEGER NOT NULL,
        PRIMARY KEY (audit_id, address, referrer, via)
    );
    """,
    # 2: the port plan with roles, so that a resumed audit probes each port the same way.
    """
    ALTER TABLE audits ADD COLUMN port_spec TEXT NOT NULL DEFAULT '';
    """,
    # 3: the run's options (so that --resume runs as gently as the original) and the discovery
    # channels that failed (the audit is then incomplete, and --resume reruns discovery).
    """
    ALTER TABLE audits ADD COLUMN options TEXT NOT NULL DEFAULT '{}';
    ALTER TABLE audits ADD COLUMN channel_failures TEXT NOT NULL DEFAULT '[]';
    """,
    # 4: known-vulnerability findings (issue 18), one row per host and CVE, the finding as JSON.
    """
    CREATE TABLE vulnerabilities (
        id        INTEGER PRIMARY KEY,
        host_id   INTEGER NOT NULL REFERENCES hosts (id) ON DELETE CASCADE,
        position  INTEGER NOT NULL,
        cve       TEXT NOT NULL,
        finding   TEXT NOT NULL      -- JSON object
    );
    CREATE INDEX vulnerabilities_host ON vulnerabilities (host_id);
    """,
    # 5: each saved host asks for the audit's highest save sequence; without an index that read
    # every host row of the audit per save (17 ms a host at 45,000 hosts: quadratic, issue 16).
    """
    CREATE INDEX hosts_audit_seq ON hosts (audit_id, saved_at_seq);
    """,
    # 6: what discovery has seen of an audit so far (streaming; auditor/store/sightings.py).
    SIGHTINGS_MIGRATION,
    # 7: the foreign keys that deleting a host cascades through. Without an index each cascade
    # scanned the whole table, so re-saving a host (a resumed or re-probed one) grew with the
    # store (a re-save took 2.3 ms a host at 2,000 hosts on SQLite, 0.6 ms with these).
    """
    CREATE INDEX observations_attempt ON observations (attempt_id);
    CREATE INDEX components_host ON components (host_id);
    CREATE INDEX evidence_links_component ON evidence_links (component_id);
    CREATE INDEX evidence_links_observation ON evidence_links (observation_id);
    CREATE INDEX discovery_rounds_audit ON discovery_rounds (audit_id);
    """,
)

CURRENT_VERSION = len(MIGRATIONS)

#: The official-list tables (imports of the FCC Covered List, OFAC SDN, OpenSanctions...).
LIST_MIGRATIONS: tuple[str, ...] = (
    # 1: imports, their entries and every name of every entry (the matcher's index).
    """
    CREATE TABLE IF NOT EXISTS list_imports (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL,
        file_name TEXT NOT NULL,
        files TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        published TEXT,
        imported_at TEXT NOT NULL,
        rows_read INTEGER NOT NULL,
        entries INTEGER NOT NULL,
        current INTEGER NOT NULL DEFAULT 1
    );
    CREATE TABLE IF NOT EXISTS list_entries (
        id INTEGER PRIMARY KEY,
        import_id INTEGER NOT NULL REFERENCES list_imports(id),
        entry_key TEXT NOT NULL,
        instrument TEXT NOT NULL,
        name TEXT NOT NULL,
        program TEXT NOT NULL,
        since TEXT,
        source_url TEXT NOT NULL,
        row_text TEXT NOT NULL,
        line INTEGER NOT NULL
    );
    CREATE TABLE IF NOT EXISTS list_names (
        entry_id INTEGER NOT NULL REFERENCES list_entries(id),
        name TEXT NOT NULL,
        norm TEXT NOT NULL,
        loose TEXT NOT NULL,
        primary_name INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS list_names_norm ON list_names(norm);
    CREATE INDEX IF NOT EXISTS list_entries_import ON list_entries(import_id);
    """,
)

LIST_VERSION = len(LIST_MIGRATIONS)


@dataclass(frozen=True, slots=True)
class Track:
    """One sequence of migrations and the table that records how far it has been applied."""

    table: str
    migrations: tuple[str, ...]
    what: str

    @property
    def current(self) -> int:
        return len(self.migrations)


AUDITS = Track("schema_version", MIGRATIONS, "the store")
LISTS = Track("list_schema_version", LIST_MIGRATIONS, "the list tables")


def _exists(conn: Connection, table: str) -> bool:
    return bool(conn.execute(conn.dialect.table_exists_sql(), (table,)).fetchone()[0])


def applied_version(conn: Connection, track: Track = AUDITS) -> int:
    """How far ``track`` has been applied (0: not at all); creates nothing."""
    if not _exists(conn, track.table):
        return 0
    row = conn.execute(f"SELECT MAX(version) FROM {track.table}").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def _statements(script: str) -> list[str]:
    """Split a migration into its statements (executescript would commit our transaction)."""
    out: list[str] = []
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            out.append(pending.strip())
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete statement in a migration: {pending.strip()[:60]!r}")
    return out


def _lock_for_migration(conn: Connection) -> None:
    conn.begin_write()
    if conn.dialect.migration_lock is not None:
        conn.execute(conn.dialect.migration_lock)


def migrate_track(conn: Connection, track: Track) -> int:
    """Bring ``track`` to its current version, one migration per transaction.

    Each step takes the write lock first and reads the version again under it: two camaudit
    processes opening a new store at once (a scan starting while `audits` runs) must not both
    apply migration 1.
    """
    version = applied_version(conn, track)
    if version > track.current:
        # A newer camaudit wrote this store; writing to it with an older schema could corrupt it.
        raise RuntimeError(
            f"{track.what} has schema version {version}, newer than this camaudit supports "
            f"({track.current}); upgrade camaudit"
        )
    for number in range(version + 1, track.current + 1):
        _lock_for_migration(conn)
        try:
            conn.execute(f"CREATE TABLE IF NOT EXISTS {track.table} (version INTEGER NOT NULL)")
            if applied_version(conn, track) < number:
                for statement in _statements(track.migrations[number - 1]):
                    conn.execute(conn.dialect.schema(statement))
                conn.execute(f"INSERT INTO {track.table} (version) VALUES (?)", (number,))
            conn.commit()
        except BaseException:
            conn.rollback()
            raise
    return track.current


def migrate(conn: Connection) -> int:
    """Bring the store (audit and list tables) to the current versions; the audit version."""
    migrate_track(conn, LISTS)
    return migrate_track(conn, AUDITS)
