"""The audit store on each engine: save 2,000 devices (one transaction each, as a scan does), read
the audit back, list the audits.

The devices are the report tests' sample audit (five devices with their probe attempts, evidence
chains, exposures and a hostile device's odd text), replicated with their own addresses. SQLite is
a file in a temporary folder (WAL, synchronous=FULL); PostgreSQL is a throwaway cluster of the
distribution's server (tests/pgcluster.py) with fsync on, so both pay for durability alike, over
its Unix socket.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from auditor.models import AuditReport
from auditor.store import Store
from bench import table
from bench.micro import replicate

DEVICES = 2000


@dataclass(frozen=True, slots=True)
class StoreBenchResult:
    engine: str
    devices: int
    save_s: float
    load_s: float
    list_s: float
    exact: bool
    """The audit read back equals the one saved."""


def sample(devices: int = DEVICES) -> AuditReport:
    from tests.render.camaudit_sample_audit import sample_report

    return replicate(sample_report(), devices)


def _timed(fn: Callable[[], object]) -> tuple[float, object]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def measure(engine: str, where: Path | str, report: AuditReport) -> StoreBenchResult:
    audit_id = report.audit.id

    def save() -> None:
        with Store(where) as store:
            store.begin_audit(report.audit)
            for device in report.devices:
                store.save_device(audit_id, device)
            store.save_out_of_scope(audit_id, report.out_of_scope)
            if report.audit.finished is not None:
                store.finish_audit(audit_id, report.audit.finished, report.notes)

    save_s, _ = _timed(save)
    with Store(where, read_only=True) as store:
        load_s, loaded = _timed(lambda: store.load_report(audit_id))
        list_s, _ = _timed(store.list_audits)
    return StoreBenchResult(engine, len(report.devices), save_s, load_s, list_s, loaded == report)


@contextmanager
def _postgres() -> Iterator[str | None]:
    from tests.pgcluster import running_cluster, unavailable_reason

    if unavailable_reason() is not None:
        yield None
        return
    with running_cluster(durable=True) as cluster:
        yield cluster.create_database("bench")


def bench_store(devices: int = DEVICES) -> list[StoreBenchResult]:
    """Each engine in turn (PostgreSQL only where its server is installed)."""
    report = sample(devices)
    results = []
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-store-") as tmp:
        results.append(measure("sqlite", Path(tmp) / "bench.db", report))
    with _postgres() as url:
        if url is not None:
            results.append(measure("postgresql", url, report))
    return results


def store_table(results: list[StoreBenchResult]) -> str:
    rows = [
        [
            r.engine,
            f"{r.save_s:.1f} s ({r.devices / r.save_s:.0f} devices/s)",
            f"{r.load_s:.2f} s",
            f"{r.list_s * 1000:.0f} ms",
            "yes" if r.exact else "NO",
        ]
        for r in results
    ]
    n = results[0].devices if results else DEVICES
    return table.render(
        f"store: {n:,} devices (the sample audit, replicated) saved one transaction each, "
        "then read back",
        rows,
        ("engine", "save", "read the audit", "list audits", "read back exactly"),
    )


if __name__ == "__main__":
    print(store_table(bench_store()))
