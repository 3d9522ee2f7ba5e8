"""Raw SQL beside the store, on either engine, with that engine's own driver; and a whole report
saved as an audit saves it."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from auditor.models import AuditReport
from auditor.store import Store


def run_sql(
    location: Path | str, statement: str, params: tuple[object, ...] = ()
) -> list[tuple[Any, ...]]:
    """A statement run beside the store, with the engine's own driver (what another tool sees)."""
    if isinstance(location, Path):
        import sqlite3

        with sqlite3.connect(location) as conn:
            return list(conn.execute(statement, params).fetchall())
    import psycopg

    with psycopg.connect(location, autocommit=True) as pg:
        cur = pg.execute(statement.replace("?", "%s"), params)
        return list(cur.fetchall()) if cur.description else []


def save_report(store: Store, report: AuditReport, *, relaxed: bool = False) -> AuditReport:
    """``report`` into ``store`` as an audit writes it: the audit, each host in its own
    transaction, the out-of-scope references, then its end (notes, channel failures).
    ``relaxed``: no flush per host (fixtures of many hosts)."""
    store.begin_audit(report.audit)
    with store.relaxed_durability() if relaxed else contextlib.nullcontext():
        for device in report.devices:
            store.save_device(report.audit.id, device)
    store.save_out_of_scope(report.audit.id, report.out_of_scope)
    if report.audit.finished is not None:
        store.finish_audit(
            report.audit.id, report.audit.finished, report.notes, report.audit.channel_failures
        )
    return report
