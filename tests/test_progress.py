"""Progress for a running audit (issue 15): every stage shows elapsed time and an estimate."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

from rich.console import Console
from rich.progress import Progress

from auditor.cli.progress import (
    ProgressObserver,
    _CountColumn,
    _TimeColumn,
    estimate_discovery_s,
)
from auditor.engine import AuditConfig


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _config(target: str, rate: float | None, tmp_path: Path) -> AuditConfig:
    return AuditConfig(targets=(target,), db_path=tmp_path / "x.db", timeout=2.0, rate=rate)


def test_discovery_estimate_comes_from_its_windows_and_the_rate(tmp_path: Path) -> None:
    # Unpaced: every channel sends at once and listens one timeout.
    assert estimate_discovery_s(_config("127.0.0.0/28", None, tmp_path)) == 2.0
    small = estimate_discovery_s(_config("127.0.0.0/28", 10.0, tmp_path))
    big = estimate_discovery_s(_config("127.0.0.0/27", 10.0, tmp_path))
    assert small is not None and big is not None
    # Paced sends grow with the scope: twice the addresses, twice the sending time.
    assert small > 2.0
    assert abs((big - 2.0) - 2 * (small - 2.0)) < 1e-9
    # A large scope's window is nmap's paced sweep of every address (a sparse /16 at 250/s: at
    # least 262 s), not the UDP channels' few multicast sends.
    large = _config("10.0.0.0/16", 250.0, tmp_path)
    large = dataclasses.replace(large, allow_large=True)
    wide = estimate_discovery_s(large)
    assert wide is not None and 65536 / 250.0 <= wide <= 65536 / 250.0 + 2 * 2.0
    # A scope the engine would refuse gives no estimate, and no crash.
    assert estimate_discovery_s(_config("not-an-address", None, tmp_path)) is None


def test_log_lines_give_the_estimate_and_what_each_stage_took() -> None:
    buf = io.StringIO()
    clock = FakeClock()
    console = Console(file=buf, force_terminal=False, width=120)
    with ProgressObserver(console, discovery_estimate_s=12.0, clock=clock) as obs:
        obs.on_stage("discovery")
        clock.now += 75
        obs.on_stage("probing", 14)
        clock.now += 3
        obs.on_stage("report")
    lines = buf.getvalue().splitlines()
    assert lines == [
        "camaudit: discovering hosts, about 0:12",
        "camaudit: discovery took 1:15",
        "camaudit: probing hosts (14 hosts)",
        "camaudit: probing took 0:03",
        "camaudit: report",
    ]


def test_the_live_column_shows_elapsed_and_time_left() -> None:
    clock = FakeClock()
    progress = Progress(get_time=clock)
    column = _TimeColumn()
    # Discovery: no host count, so the estimate it started with counts down.
    discovery = progress.add_task("Discovering hosts", total=None, estimate=12.0)
    progress.start_task(discovery)
    clock.now += 5
    text = column.render(progress.tasks[0]).plain
    assert text == "0:05 elapsed, ~0:07 left"
    clock.now += 10
    assert column.render(progress.tasks[0]).plain == "0:15 elapsed (estimated 0:12)"
    # Probing: the pace so far gives the time left.
    probing = progress.add_task("Probing hosts", total=10)
    clock.now += 20
    progress.update(probing, completed=4)
    assert column.render(progress.tasks[1]).plain == "0:20 elapsed, ~0:30 left"


def test_discovery_shows_no_meaningless_count() -> None:
    progress = Progress()
    column = _CountColumn()
    progress.add_task("Discovering hosts: 3 found", total=None)
    probing = progress.add_task("Probing hosts", total=14)
    progress.update(probing, completed=3)
    assert column.render(progress.tasks[0]).plain == ""  # was "0/?" for the whole discovery
    assert column.render(progress.tasks[1]).plain == "3/14"


def test_without_a_terminal_long_probing_logs_its_pace() -> None:
    buf = io.StringIO()
    clock = FakeClock()
    console = Console(file=buf, force_terminal=False, width=120)
    with ProgressObserver(console, clock=clock) as obs:
        obs.on_stage("probing", 10)
        for _ in range(4):
            clock.now += 10
            obs.on_host_done(None)  # type: ignore[arg-type]
    lines = buf.getvalue().splitlines()
    # One line after 30 s (3 hosts), then nothing until another 30 s have passed.
    assert lines == [
        "camaudit: probing hosts (10 hosts)",
        "camaudit: probed 3/10 hosts, 0:30 elapsed, ~1:10 left",
    ]
