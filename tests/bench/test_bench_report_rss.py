"""The report benchmark (bench/report_rss.py) runs camaudit on a store it builds and reads the
child's peak RSS; tiny stores here (the real sizes are minutes, in bench/run store)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import report_rss
from bench.sitebench import camaudit_command


def test_the_report_benchmark_writes_each_format_and_measures_it() -> None:
    results = report_rss.run(sizes=(12, 40))
    assert [(r.devices, r.fmt) for r in results] == [
        (12, "json"), (12, "csv"), (40, "json"), (40, "csv")
    ]  # fmt: skip
    assert all(r.ok and r.peak_rss_mb > 10 and r.size_mb > 0 for r in results), results
    sizes = {(r.devices, r.fmt): r.size_mb for r in results}
    assert sizes[(40, "json")] > sizes[(12, "json")] * 2  # every device is in the report
    text = report_rss.table_text(results)
    assert "40" in text and "peak RSS" in text and "NO" not in text


def test_its_store_holds_the_devices_the_report_lists(tmp_path: Path) -> None:
    import subprocess

    where = tmp_path / "store-25.db"
    audit_id = report_rss.build_store(where, 25)
    out = tmp_path / "r.json"
    done = subprocess.run(
        [*camaudit_command(), "-q", "report", audit_id, "--db", str(where), "-f", "json",
         "-o", str(out)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert json.loads(out.read_text("utf-8"))["summary"]["devices"] == 25
