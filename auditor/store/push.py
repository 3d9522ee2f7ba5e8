"""Copy audits from a site's local SQLite store into the central PostgreSQL store.

The local rows are sent as they are stored (the same codec wrote them), one host per document and
per transaction, through the central store's push functions (auditor.store.central), so the
collector needs no privilege on any table. Pushing again sends every host again and the central
store keeps each one once; an audit becomes finished centrally only when all its hosts are there.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from auditor.errors import StoreError
from auditor.store import Store
from auditor.store.central import host_document
from auditor.store.dialect import POSTGRES, SQLITE

#: Tables of a host's rows, in the order the push function inserts them.
HOST_TABLES = (
    "probe_attempts",
    "observations",
    "components",
    "evidence_links",
    "identifications",
    "exposures",
    "vulnerabilities",
)
#: What `finish_audit` changes locally, and the push function centrally.
_FINISH_FIELDS = ("finished", "notes", "channel_failures")


@dataclass(frozen=True, slots=True)
class AuditPushed:
    """What one audit's push did."""

    audit_id: str
    site: str
    hosts: int
    """Hosts in the local store."""
    sent: int
    """Hosts the central store did not have and now has."""
    finished: bool
    """The audit is finished (locally, and now centrally)."""
    refs: int
    """Out-of-scope references newly recorded."""


OnHost = Callable[[str, int, int], None]
"""Called after each host: audit id, hosts done, hosts in the audit."""


def _value(value: object) -> object:
    """A local column value as the central store keeps it: text PostgreSQL cannot hold (a NUL,
    a lone surrogate, which SQLite keeps as a BLOB) in the store's escaped form, which the
    store's reader restores exactly."""
    return POSTGRES.bind(SQLITE.unbind(value))


def _rows(cur: sqlite3.Cursor) -> list[dict[str, Any]]:
    names = [d[0] for d in cur.description]
    return [{n: _value(v) for n, v in zip(names, row, strict=True)} for row in cur.fetchall()]


class LocalAudits:
    """Raw rows of the local store, read-only (after Store has checked the file is ours)."""

    def __init__(self, path: Path) -> None:
        Store(path, read_only=True).close()  # refuses a foreign, missing or too old/new file
        uri = f"{path.resolve().as_uri()}?mode=ro"
        self._conn = sqlite3.connect(uri, uri=True, isolation_level=None)
        self.path = path

    def close(self) -> None:
        self._conn.close()

    def audit_ids(self) -> list[str]:
        return [r[0] for r in self._conn.execute("SELECT id FROM audits ORDER BY started, id")]

    def resolve(self, text: str) -> str:
        ids = self.audit_ids()
        if text in ids:
            return text
        found = [i for i in ids if i.startswith(text)]
        if len(found) == 1:
            return found[0]
        if not found:
            raise StoreError(f"no audit {text!r} in {self.path} (see `camaudit audits`)")
        raise StoreError(f"{text!r} matches several audits: {', '.join(found[:5])}")

    def audit(self, audit_id: str) -> dict[str, Any]:
        cur = self._conn.execute("SELECT * FROM audits WHERE id = ?", (audit_id,))
        rows = _rows(cur)
        return rows[0]

    def host_ids(self, audit_id: str) -> list[int]:
        return [
            int(r[0])
            for r in self._conn.execute(
                "SELECT id FROM hosts WHERE audit_id = ? ORDER BY id", (audit_id,)
            )
        ]

    def host(self, host_id: int) -> dict[str, Any]:
        cur = self._conn.execute("SELECT * FROM hosts WHERE id = ?", (host_id,))
        host = _rows(cur)[0]
        tables = {
            t: _rows(
                self._conn.execute(
                    f"SELECT * FROM {t} WHERE host_id = ? ORDER BY rowid", (host_id,)
                )
            )
            for t in HOST_TABLES
        }
        doc = host_document(tables)
        host.pop("id")
        host.pop("audit_id")
        doc["host"] = host
        return doc

    def refs(self, audit_id: str) -> list[dict[str, Any]]:
        cur = self._conn.execute(
            "SELECT address, referrer, via, seq FROM out_of_scope WHERE audit_id = ? ORDER BY seq",
            (audit_id,),
        )
        return _rows(cur)


def push_audit(
    local: LocalAudits,
    central: psycopg.Connection[Any],
    audit_id: str,
    on_host: OnHost | None = None,
) -> AuditPushed:
    """Push one audit: its header, each host (one transaction each), its references, its end."""
    if not central.autocommit:
        raise ValueError("push needs an autocommit connection: one transaction per host")
    row = local.audit(audit_id)
    # A host's transaction is atomic either way; not waiting for its WAL flush is safe because
    # the site keeps every host and a later push resends any the server lost in a crash. The
    # references and the end wait for the flush, and so make every host before them durable.
    central.execute("SET synchronous_commit = off")
    # The central copy stays unfinished (the function sees to it) until every host is in.
    central.execute("SELECT camaudit_push_audit(%s)", (Jsonb(row),))
    hosts = local.host_ids(audit_id)
    sent = 0
    for done, host_id in enumerate(hosts, 1):
        doc = local.host(host_id)
        new = central.execute("SELECT camaudit_push_host(%s, %s)", (audit_id, Jsonb(doc)))
        got = new.fetchone()
        sent += bool(got and got[0])
        if on_host is not None:
            on_host(audit_id, done, len(hosts))
    central.execute("SET synchronous_commit = on")
    refs = central.execute(
        "SELECT camaudit_push_refs(%s, %s)", (audit_id, Jsonb(local.refs(audit_id)))
    ).fetchone()
    finished = row["finished"] is not None
    if finished:
        end = {k: row[k] for k in _FINISH_FIELDS}
        central.execute(
            "SELECT camaudit_finish_audit(%s, %s, %s)", (audit_id, Jsonb(end), len(hosts))
        )
    return AuditPushed(
        audit_id=audit_id,
        site=str(row["site"]),
        hosts=len(hosts),
        sent=sent,
        finished=finished,
        refs=int(refs[0]) if refs else 0,
    )


def push(
    local_path: Path,
    central: psycopg.Connection[Any],
    audits: Sequence[str] = (),
    on_host: OnHost | None = None,
) -> Iterator[AuditPushed]:
    """Push the given audits (ids or unique prefixes), or every audit in the local store."""
    with closing(LocalAudits(local_path)) as local:
        ids = [local.resolve(a) for a in audits] if audits else local.audit_ids()
        for audit_id in dict.fromkeys(ids):
            yield push_audit(local, central, audit_id, on_host)
