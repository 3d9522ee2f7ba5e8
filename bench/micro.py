"""Micro-benchmarks on real lab data: identification throughput and report rendering.

Both start from one loopback audit of every shipped profile (no root, loopback only), so the
observations and devices are what camaudit really collects, not invented strings.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.identify import Identifier
from auditor.lab import LoopbackSite, load_profiles
from auditor.models import AuditReport, Observation
from auditor.render import Detail, FormatName, RenderOptions, renderer
from auditor.render.pdf_format import find_chromium
from bench.measure import median, run_measured
from bench.sites import SILENT


def capture_report(devices: Sequence[str] | None = None) -> AuditReport:
    """Audit a loopback site of every answering profile (credentialed) and return the report."""
    names = (
        list(devices) if devices is not None else sorted(p for p in load_profiles() if p != SILENT)
    )
    with (
        tempfile.TemporaryDirectory(prefix="camaudit-bench-capture-") as tmp,
        LoopbackSite(names) as site,
    ):
        user, password = site.credentials
        config = AuditConfig(
            targets=site.targets,
            db_path=Path(tmp) / "capture.db",
            site="bench capture (loopback lab)",
            ports=site.port_plan,
            timeout=2.0,
            credentials=CredentialStore(default=Credential(user, Secret(password))),
            multicast=False,
        )
        return Auditor(config).run()


@contextmanager
def one_core() -> Iterator[int]:
    """Pin this process to one CPU (the last one) for the block."""
    before = os.sched_getaffinity(0)
    cpu = max(before)
    os.sched_setaffinity(0, {cpu})
    try:
        yield cpu
    finally:
        os.sched_setaffinity(0, before)


@dataclass(frozen=True, slots=True)
class IdentifyResult:
    records: int
    observations: int
    direct_obs_per_s: float
    """Identifier.identify in this process, on one core, median of the runs."""
    cli_obs_per_s: float
    """`camaudit identify` end to end (start-up and database load included), one core."""
    cli_wall_s: float
    cli_observations: int


def _records(report: AuditReport) -> list[tuple[Observation, ...]]:
    return [d.observations for d in report.devices if d.observations]


def bench_identify(report: AuditReport, runs: int, seconds: float = 2.0) -> IdentifyResult:
    records = _records(report)
    per_pass = sum(len(r) for r in records)
    identifier = Identifier.default()
    identifier.identify(records[0])  # warm: imports, lazy compiles
    rates = []
    with one_core():
        for _ in range(runs):
            done = 0
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                for obs in records:
                    identifier.identify(obs)
                done += per_pass
            rates.append(done / (time.perf_counter() - start))
    # The CLI path: JSON Lines on stdin, one record per device, enough for ~10 s of work.
    reps = max(1, int(5000 * 10 / max(1, per_pass)))
    lines = [
        json.dumps({"observations": [{"kind": o.kind.value, "value": o.value} for o in r]})
        for r in records
    ]
    cli_rates, cli_walls = [], []
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-identify-") as tmp:
        src = Path(tmp) / "observations.jsonl"
        src.write_text("\n".join(lines * reps) + "\n", encoding="utf-8")
        from bench.sitebench import camaudit_command

        cpu = max(os.sched_getaffinity(0))
        for _ in range(runs):
            m = run_measured([*camaudit_command(), "identify"], stdin=src, cpus={cpu})
            if m.returncode != 0:
                raise RuntimeError(f"camaudit identify failed: {m.stderr_tail}")
            cli_walls.append(m.wall_s)
            cli_rates.append(per_pass * reps / m.wall_s)
    return IdentifyResult(
        records=len(records),
        observations=per_pass,
        direct_obs_per_s=median(rates),
        cli_obs_per_s=median(cli_rates),
        cli_wall_s=median(cli_walls),
        cli_observations=per_pass * reps,
    )


def replicate(report: AuditReport, count: int) -> AuditReport:
    """``count`` devices: the captured ones repeated, each copy with its own address."""
    base = list(report.devices)
    net = ipaddress.IPv4Network("10.100.0.0/16")
    devices = []
    for i in range(count):
        d = base[i % len(base)]
        addr = net.network_address + 1 + i
        devices.append(replace(d, host=replace(d.host, address=addr)))
    return replace(report, devices=tuple(devices))


@dataclass(frozen=True, slots=True)
class RenderResult:
    devices: int
    seconds: dict[str, float]
    """Format (and detail) -> median seconds to render (in memory)."""
    sizes: dict[str, int]
    summary_pdf_pages: int | None = None
    """Pages of the summary-detail PDF (None: no PDF engine installed)."""


def pdf_pages(pdf: bytes) -> int:
    """Page objects in a PDF (Chromium writes one /Type /Page per page, uncompressed)."""
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


def bench_render(report: AuditReport, count: int, runs: int) -> RenderResult:
    big = replicate(report, count)
    seconds: dict[str, float] = {}
    sizes: dict[str, int] = {}
    cases = (
        ("html", FormatName.HTML, Detail.STANDARD),
        ("html-summary", FormatName.HTML, Detail.SUMMARY),
        ("html-full", FormatName.HTML, Detail.FULL),
        ("json", FormatName.JSON, Detail.STANDARD),
    )
    for key, fmt, detail in cases:
        times = []
        for _ in range(runs):
            r = renderer(fmt, RenderOptions(detail=detail))
            start = time.perf_counter()
            data = r.render(big)
            times.append(time.perf_counter() - start)
            sizes[key] = len(data)
        seconds[key] = median(times)
    pages = None
    if find_chromium() is not None:
        start = time.perf_counter()
        pdf = renderer(FormatName.PDF, RenderOptions(detail=Detail.SUMMARY)).render(big)
        seconds["pdf-summary"] = time.perf_counter() - start
        sizes["pdf-summary"] = len(pdf)
        pages = pdf_pages(pdf)
    return RenderResult(count, seconds, sizes, pages)


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


if __name__ == "__main__":  # quick manual check
    rep = capture_report()
    print(bench_identify(rep, 1, 1.0), file=sys.stderr)
    print(bench_render(rep, 2000, 1), file=sys.stderr)
