"""``Store.relaxed_durability`` (the offline import's commits, issue 16) on both engines: hosts
saved in the block are in the store as any other, another reader sees them, and durability is
back to full afterwards (a probed host is flushed at its commit again)."""

from __future__ import annotations

from pathlib import Path

from auditor.store import Store
from tests.render.camaudit_sample_audit import sample_report
from tests.store.store_engines import run_sql


def _setting(store: Store) -> str:
    # Read on the store's own connection: the setting is per connection.
    query = "SHOW synchronous_commit" if store.engine == "postgresql" else "PRAGMA synchronous"
    with store.snapshot("read the setting") as conn:
        return str(conn.execute(query).fetchone()[0])


def test_hosts_saved_with_relaxed_durability_are_stored_and_full_durability_returns(
    store_location: Path | str,
) -> None:
    report = sample_report()
    full = {"sqlite": "2", "postgresql": "on"}
    relaxed = {"sqlite": "1", "postgresql": "off"}
    with Store(store_location) as store:
        store.begin_audit(report.audit)
        assert _setting(store) == full[store.engine]
        with store.relaxed_durability():
            assert _setting(store) == relaxed[store.engine]
            for device in report.devices:
                store.save_device(report.audit.id, device)
        assert _setting(store) == full[store.engine]
        loaded = store.load_report(report.audit.id)
    assert [d.host.address for d in loaded.devices] == [d.host.address for d in report.devices]
    rows = run_sql(
        store_location, "SELECT COUNT(*) FROM hosts WHERE audit_id = ?", (report.audit.id,)
    )
    assert rows[0][0] == len(report.devices)
