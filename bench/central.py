"""The central store at organisation scale: collectors pushing at once, and the organisation view.

1. 20 collectors (`camaudit push` processes, one SQLite store each) push one audit of 2,000
   devices each at the same time into one PostgreSQL database: the time until the last one is
   done, and a check that every row arrived once (per audit and table, central counts equal local
   counts; the unique (audit, address) key forbids a second copy of a host).
2. Four more rounds give 100 audits of 2,000 devices (20 sites x 5 audits, each round's devices a
   little different, so the trend moves); then `camaudit report --all-sites` renders the
   organisation view from the central store, as console text and as HTML: wall time and the peak
   RSS of the camaudit process, read by GNU time (the aggregation runs in the server; its memory is
   PostgreSQL's work_mem, not camaudit's).

The devices are a real loopback audit of every lab profile (bench.micro.capture_report),
replicated to 2,000 addresses; each round rotates which profile sits at which address and leaves
out a different slice of the profiles. The PostgreSQL cluster is the distribution's server in a
temporary folder (tests/pgcluster.py), with fsync on.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import psycopg

from auditor.models import AuditId, AuditReport
from auditor.store import Store
from auditor.store.central import install
from auditor.store.push import HOST_TABLES
from bench import table
from bench.measure import Measurement, run_measured
from bench.sitebench import camaudit_command

COLLECTORS = 20
ROUNDS = 5
DEVICES = 2000
#: Per audit: rows that must arrive once each.
_COUNTED = ("hosts", *HOST_TABLES)


@dataclass(frozen=True, slots=True)
class PushRound:
    collectors: int
    devices_each: int
    wall_s: float
    """From the first push starting to the last one done."""
    slowest_s: float
    max_rss_mb: float
    failures: int
    exact: bool
    """Every audit's rows arrived, once each (central counts equal the local ones)."""


@dataclass(frozen=True, slots=True)
class CentralResult:
    first: PushRound
    later: list[PushRound]
    audits: int
    hosts: int
    report_console: Measurement
    report_html: Measurement
    html_kb: float
    repush_s: float
    repush_changed: bool


def variant(base: AuditReport, round_no: int, devices: int = DEVICES) -> AuditReport:
    """``devices`` devices from the captured ones: rotated by round, one profile left out."""
    pool = list(base.devices)
    if len(pool) > 2:
        del pool[round_no % len(pool)]
    net = ipaddress.IPv4Network("10.100.0.0/16")
    out = []
    for i in range(devices):
        d = pool[(i + round_no) % len(pool)]
        out.append(dataclasses.replace(d, host=dataclasses.replace(d.host, address=net[1 + i])))
    return dataclasses.replace(base, devices=tuple(out))


def _save(path: Path, report: AuditReport) -> None:
    with Store(path) as store:
        store.begin_audit(report.audit)
        for d in report.devices:
            store.save_device(report.audit.id, d)
        store.save_out_of_scope(report.audit.id, report.out_of_scope)
        if report.audit.finished is not None:
            store.finish_audit(report.audit.id, report.audit.finished, report.notes)


def _site_copy(base_db: Path, target: Path, audit_id: str, site: str, days: int) -> None:
    """The round's store as another site's: same rows, that site's audit id, name and date."""
    shutil.copyfile(base_db, target)
    with sqlite3.connect(target) as conn:
        row = conn.execute("SELECT id, started, finished FROM audits").fetchone()
        old, started, finished = row
        from datetime import datetime

        shift = timedelta(days=days)
        start = (datetime.fromisoformat(started) + shift).isoformat()
        end = None if finished is None else (datetime.fromisoformat(finished) + shift).isoformat()
        conn.execute(
            "UPDATE audits SET id = ?, site = ?, started = ?, finished = ? WHERE id = ?",
            (audit_id, site, start, end, old),
        )
        conn.execute("UPDATE hosts SET audit_id = ? WHERE audit_id = ?", (audit_id, old))
        conn.execute("UPDATE out_of_scope SET audit_id = ? WHERE audit_id = ?", (audit_id, old))


def _local_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]) for t in _COUNTED}


def _central_counts(url: str, audit_id: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        out = {}
        for t in _COUNTED:
            q = (
                "SELECT count(*) FROM hosts WHERE audit_id = %s"
                if t == "hosts"
                else f"SELECT count(*) FROM {t} x JOIN hosts h ON h.id = x.host_id "
                "WHERE h.audit_id = %s"
            )
            row = conn.execute(q, (audit_id,)).fetchone()
            out[t] = int(row[0]) if row else -1
        return out


#: GNU time (Debian: apt-get install time) reports a child's peak RSS from a small parent. A
#: child's ru_maxrss as seen by wait4 here would include this harness's own pages, copied at fork.
_TIME = "/usr/bin/time"
_RSS_MARK = "camaudit-peak-rss-kb="


def _timed_argv(argv: list[str]) -> list[str]:
    if os.access(_TIME, os.X_OK):
        return [_TIME, "-f", f"{_RSS_MARK}%M", *argv]
    return argv


def _rss_mb(stderr: str, fallback_mb: float) -> float:
    for line in reversed(stderr.splitlines()):
        if line.startswith(_RSS_MARK):
            return int(line[len(_RSS_MARK) :]) / 1024.0
    return fallback_mb


def _measured(argv: list[str], stdout: Path | None = None) -> Measurement:
    m = run_measured(_timed_argv(argv), stdout=stdout)
    return dataclasses.replace(m, peak_rss_mb=_rss_mb(m.stderr_tail, m.peak_rss_mb))


def _push_all(stores: list[tuple[Path, str]], url: str, devices: int) -> PushRound:
    """Start every collector's push at once; wait for all; measure each (wait4)."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    start = time.monotonic()
    procs = []
    for path, _ in stores:
        argv = _timed_argv([*camaudit_command(), "push", "--to", url, "--db", str(path)])
        procs.append(
            subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        )
    slowest, rss, failures = 0.0, 0.0, 0
    for proc in procs:
        assert proc.stderr is not None
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        slowest = max(slowest, time.monotonic() - start)
        rss = max(rss, _rss_mb(err.decode("utf-8", "replace"), usage.ru_maxrss / 1024.0))
        if proc.returncode != 0:
            failures += 1
            print(err.decode("utf-8", "replace")[-500:])
    wall = time.monotonic() - start
    exact = all(_central_counts(url, audit_id) == _local_counts(path) for path, audit_id in stores)
    return PushRound(len(stores), devices, wall, slowest, rss, failures, exact)


def run(
    progress: Callable[[str], None],
    base: AuditReport | None = None,
    *,
    collectors: int = COLLECTORS,
    rounds_n: int = ROUNDS,
    devices: int = DEVICES,
) -> CentralResult:
    from bench.micro import capture_report
    from tests.pgcluster import running_cluster

    if base is None:
        progress("central: capturing a real loopback audit of every lab profile ...")
        base = capture_report()
    with (
        tempfile.TemporaryDirectory(prefix="camaudit-bench-central-") as tmp,
        running_cluster(settings={"fsync": "on", "synchronous_commit": "on"}) as cluster,
    ):
        work = Path(tmp)
        url = cluster.create_database("central")
        Store(url).close()
        with psycopg.connect(url, autocommit=True) as conn:
            install(conn)
        rounds: list[PushRound] = []
        for r in range(rounds_n):
            report = variant(base, r, devices)
            info = dataclasses.replace(report.audit, id=AuditId(f"round{r}"))
            report = dataclasses.replace(report, audit=info)
            progress(f"central: round {r + 1}/{rounds_n}: saving {devices} devices locally ...")
            base_db = work / f"round{r}.db"
            _save(base_db, report)
            del report  # the harness stays small
            stores = []
            for s in range(collectors):
                target = work / f"site{s:02d}-round{r}.db"
                audit_id = f"2026{r + 1:02d}01T0900Z-site{s:02d}"
                _site_copy(base_db, target, audit_id, f"Store {s + 1:02d}", 30 * r)
                stores.append((target, audit_id))
            progress(f"central: round {r + 1}/{rounds_n}: {collectors} pushes at once ...")
            rounds.append(_push_all(stores, url, devices))
            for target, _ in stores:
                target.unlink()
        progress("central: pushing one site again (nothing may change) ...")
        with psycopg.connect(url) as conn:
            before = conn.execute("SELECT count(*) FROM observations").fetchone()
        again = work / "again.db"
        _site_copy(work / "round0.db", again, "20260101T0900Z-site00", "Store 01", 0)
        t0 = time.monotonic()
        m = _measured([*camaudit_command(), "push", "--to", url, "--db", str(again)])
        repush_s = time.monotonic() - t0
        with psycopg.connect(url) as conn:
            after = conn.execute("SELECT count(*) FROM observations").fetchone()
            audits = conn.execute("SELECT count(*) FROM audits").fetchone()
            hosts = conn.execute("SELECT count(*) FROM hosts").fetchone()
        progress("central: report --all-sites over the central store ...")
        console = _measured(
            [*camaudit_command(), "report", "--all-sites", "--db", url, "-o", "-"],
            stdout=work / "org.txt",
        )
        html_path = work / "org.html"
        html = _measured(
            [*camaudit_command(), "report", "--all-sites", "--db", url, "-f", "html", "-o",
             str(html_path)]
        )  # fmt: skip
        for name, meas in (("console", console), ("html", html), ("re-push", m)):
            if meas.returncode != 0:
                raise RuntimeError(f"central: {name} failed: {meas.stderr_tail}")
        return CentralResult(
            first=rounds[0],
            later=rounds[1:],
            audits=int(audits[0]) if audits else 0,
            hosts=int(hosts[0]) if hosts else 0,
            report_console=console,
            report_html=html,
            html_kb=html_path.stat().st_size / 1024 if html_path.exists() else 0.0,
            repush_s=repush_s,
            repush_changed=before != after or m.returncode != 0,
        )


def render(r: CentralResult) -> str:
    f = r.first
    later = max((p.wall_s for p in r.later), default=float("nan"))
    rows = [
        [f"{f.collectors} pushes at once, {f.devices_each:,} devices each: wall",
         f"{f.wall_s:.1f} s", "", ""],
        ["  every row arrived once (central = local, per audit and table)",
         "yes" if f.exact and not f.failures else f"NO ({f.failures} failed)",
         "nothing lost or duplicated", table.verdict(f.exact and not f.failures)],
        ["  peak RSS of one push process", f"{f.max_rss_mb:.0f} MB", "", ""],
        [f"  later rounds (slowest of {len(r.later)})", f"{later:.1f} s", "",
         table.verdict(all(p.exact and not p.failures for p in r.later))],
        [f"push of an audit already there ({f.devices_each:,} hosts)", f"{r.repush_s:.1f} s",
         "changes nothing", table.verdict(not r.repush_changed)],
        [f"report --all-sites, console ({r.audits} audits, {r.hosts:,} hosts)",
         f"{r.report_console.wall_s:.1f} s", "< 30 s",
         table.verdict(r.report_console.wall_s < 30)],
        ["  peak RSS", f"{r.report_console.peak_rss_mb:.0f} MB", "< 500 MB",
         table.verdict(r.report_console.peak_rss_mb < 500)],
        [f"report --all-sites, HTML ({r.html_kb:.0f} KB)", f"{r.report_html.wall_s:.1f} s",
         "< 30 s", table.verdict(r.report_html.wall_s < 30)],
        ["  peak RSS", f"{r.report_html.peak_rss_mb:.0f} MB", "< 500 MB",
         table.verdict(r.report_html.peak_rss_mb < 500)],
    ]  # fmt: skip
    return table.render(
        f"central: {f.collectors} collectors x {len(r.later) + 1} rounds into one PostgreSQL store "
        "(fsync on, Unix socket)",
        rows,
        ("measure", "result", "target", "verdict"),
    )
