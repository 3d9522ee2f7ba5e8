"""``bench/run store`` (second table): the peak memory of `camaudit report AUDIT -f json -o FILE`
(and ``-f csv``) on an SQLite store of 2,000 and of 20,000 devices (issue 16).

The JSON and CSV reports are written from the store device by device, so the peak does not grow
with the audit. Measured on a 2-core machine with GNU time (2026-12-05, these stores), before
(the whole report loaded, then laid out as one value) and after: JSON 165 -> 60 MB at 2,000
devices and 1,040 -> 62 MB at 20,000 (331 MB of JSON, byte for byte the same); CSV 178 -> 60 MB
and 1,175 -> 62 MB.

The devices are bench/store.py's: the report tests' sample audit replicated to each size, saved
one transaction each. `report` re-assesses every device with the data in use (an empty data
folder here: the shipped data).
The child's peak RSS is read by GNU time when installed (bench.central), else by wait4.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from auditor.store import Store
from bench import table
from bench.central import _measured
from bench.sitebench import camaudit_command
from bench.store import sample

SIZES = (2_000, 20_000)
FORMATS = ("json", "csv")


@dataclass(frozen=True, slots=True)
class ReportRss:
    devices: int
    fmt: str
    wall_s: float
    peak_rss_mb: float
    size_mb: float
    ok: bool
    """camaudit exited 0 and wrote the report."""


def build_store(where: Path, devices: int) -> str:
    """An SQLite store holding one audit of ``devices`` devices; the audit's id."""
    report = sample(devices)
    with Store(where) as store:
        store.begin_audit(report.audit)
        # Rows a rerun of the benchmark makes again: no flush per host.
        with store.relaxed_durability():
            for device in report.devices:
                store.save_device(report.audit.id, device)
        store.save_out_of_scope(report.audit.id, report.out_of_scope)
        if report.audit.finished is not None:
            store.finish_audit(report.audit.id, report.audit.finished, report.notes)
    return str(report.audit.id)


def measure(where: Path, audit_id: str, fmt: str, out: Path, data_dir: Path) -> ReportRss:
    argv = [*camaudit_command(), "-q", "--data-dir", str(data_dir), "report", audit_id]
    m = _measured([*argv, "--db", str(where), "-f", fmt, "-o", str(out)])
    size = out.stat().st_size if out.exists() else 0
    devices = int(where.stem.rsplit("-", 1)[-1])
    ok = m.returncode == 0 and size > 0
    return ReportRss(devices, fmt, m.wall_s, m.peak_rss_mb, size / 1e6, ok)


def run(
    sizes: tuple[int, ...] = SIZES, progress: Callable[[str], None] = lambda _: None
) -> list[ReportRss]:
    results = []
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-report-") as tmp:
        work = Path(tmp)
        data_dir = work / "data"
        data_dir.mkdir()
        for n in sizes:
            progress(f"report peak RSS: saving {n:,} devices ...")
            where = work / f"store-{n}.db"
            audit_id = build_store(where, n)
            for fmt in FORMATS:
                out = work / f"report-{n}.{fmt}"
                results.append(measure(where, audit_id, fmt, out, data_dir))
                out.unlink(missing_ok=True)
            for leftover in work.glob(f"store-{n}.db*"):
                os.unlink(leftover)
    return results


def table_text(results: list[ReportRss]) -> str:
    rows = [
        [
            f"{r.devices:,}",
            r.fmt.upper(),
            f"{r.wall_s:.1f} s",
            f"{r.size_mb:.0f} MB",
            f"{r.peak_rss_mb:.0f} MB",
            "yes" if r.ok else "NO",
        ]
        for r in results
    ]
    return table.render(
        "report from the store: `camaudit report AUDIT -f json|csv -o FILE` on SQLite (written "
        "device by device)",
        rows,
        ("devices", "format", "wall", "report", "peak RSS", "written"),
    )


if __name__ == "__main__":
    print(table_text(run(progress=print)))
