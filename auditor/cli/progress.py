"""Progress display for a running audit: a rich progress bar on a terminal, log lines otherwise.

Every stage shows its elapsed time and an estimate: discovery's from its windows, which are
known before it starts (each UDP channel listens one timeout after its last send, and the sends
are paced by --rate), probing's from the hosts done so far.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
)
from rich.text import Text

from auditor.cli.console import clean
from auditor.engine import AuditConfig, AuditObserver
from auditor.models import Channel, DeviceResult, Host

logger = logging.getLogger(__name__)

#: Scopes above this size are not probed address by address by the UDP channels (multicast
#: only; a directed follow-up only for hosts the multicast did not reach):
#: auditor.discovery.udp.DIRECTED_LIMIT.
_DIRECTED_LIMIT = 4096

#: Without a terminal, probing logs its progress at most this often.
LOG_EVERY_S = 30.0


def clock_text(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def estimate_discovery_s(config: AuditConfig) -> float | None:
    """How long discovery should take, from what is known before it starts.

    The UDP channels run at once: each sends one probe per address in scope (paced by the shared
    --rate) and then listens one timeout; in a large scope they only multicast. nmap runs beside
    them and sends at least one probe per address, at --rate (its --max-rate) or, unpaced, no
    slower than its --min-rate floor: on a large scope its sweep is the window, and a directed
    follow-up for hosts behind routers may add one more timeout after it. None when the scope
    cannot be read.
    """
    from auditor.discovery import CHANNELS
    from auditor.discovery.nmap import MIN_RATE as NMAP_MIN_RATE
    from auditor.discovery.replies import UdpChannel
    from auditor.scope import Scope

    if not config.targets:
        return None  # an import without targets: identified offline, nothing is discovered
    try:
        scope = Scope.parse(
            config.targets,
            config.excludes,
            allow_large=config.allow_large,
            allow_public=config.allow_public,
        )
    except Exception:  # an estimate must never stop an audit; the engine reports the error
        return None
    names = config.channels if config.channels is not None else tuple(CHANNELS)
    udp = sum(n in CHANNELS and issubclass(CHANNELS[Channel(n)], UdpChannel) for n in names)
    directed = scope.size <= _DIRECTED_LIMIT
    sends = scope.size * udp if directed else udp
    pacing = sends / config.rate if config.rate else 0.0
    udp_s = pacing + config.timeout
    nmap_s = 0.0
    if Channel.NMAP.value in names:
        nmap_s = scope.size / (config.rate or NMAP_MIN_RATE) + (0.0 if directed else config.timeout)
    return max(udp_s, nmap_s)


class _CountColumn(ProgressColumn):
    """ "3/14" while probing; nothing during discovery, whose total is not known ("0/?" read as
    if nothing were happening; the description counts the hosts found instead)."""

    def render(self, task: Task) -> Text:
        if task.total is None:
            return Text("")
        return Text(f"{int(task.completed)}/{int(task.total)}")


class _TimeColumn(ProgressColumn):
    """ "0:07 elapsed, ~0:05 left": from the estimate a stage started with, or its own pace.
    Short enough that the whole line fits 80 columns."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        estimate = task.fields.get("estimate")
        if task.total is not None and task.completed and task.total > task.completed:
            remaining = elapsed / task.completed * (task.total - task.completed)
            left = f", ~{clock_text(remaining)} left"
        elif estimate is not None:
            remaining = estimate - elapsed
            left = (
                f", ~{clock_text(remaining)} left"
                if remaining > 0
                else f" (estimated {clock_text(estimate)})"
            )
        else:
            left = ""
        return Text(f"{clock_text(elapsed)} elapsed{left}", style="dim")


class ProgressObserver(AuditObserver):
    """Implements the engine's observer for the CLI; safe to call from worker threads."""

    def __init__(
        self,
        console: Console,
        *,
        quiet: bool = False,
        discovery_estimate_s: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._console = console
        self._quiet = quiet
        self._live = console.is_terminal and not quiet
        self._estimate = discovery_estimate_s
        self._clock = clock
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(bar_width=16),
            _CountColumn(),
            _TimeColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._stage: tuple[str, float] | None = None
        self._started = clock()
        self._seen: set[str] = set()
        self._total: int | None = None
        self._done = 0
        self._done_at_stage = 0
        self._last_log = clock()
        self._lock = threading.Lock()

    def __enter__(self) -> ProgressObserver:
        if self._live:
            self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live:
            self._progress.stop()

    def _end_stage(self) -> None:
        if self._stage is None or self._quiet:
            return
        name, began = self._stage
        took = self._clock() - began
        self._console.print(f"camaudit: {name} took {clock_text(took)}")

    def on_stage(self, stage: str, total: int | None = None) -> None:
        with self._lock:
            if self._task is not None and self._live:
                self._progress.remove_task(self._task)
            self._end_stage()
            label = {"discovery": "Discovering hosts", "probing": "Probing hosts"}.get(
                stage, stage.capitalize()
            )
            estimate = self._estimate if stage == "discovery" else None
            # Hosts are probed while discovery still runs (issue 16): the probing total counts
            # them, and the count goes on from there rather than starting again at 0.
            if stage == "discovery":
                self._done = 0
            self._total, self._last_log = total, self._clock()
            self._done_at_stage = self._done
            self._stage = (stage, self._clock()) if stage != "report" else None
            if self._live:
                self._task = self._progress.add_task(
                    label, total=total, completed=self._done, estimate=estimate
                )
            elif not self._quiet:
                count = f" ({total} hosts)" if total is not None else ""
                about = f", about {clock_text(estimate)}" if estimate is not None else ""
                self._console.print(f"camaudit: {label.lower()}{count}{about}")

    def on_host_discovered(self, host: Host) -> None:
        with self._lock:
            self._seen.add(str(host.address))
            if self._live and self._task is not None:
                self._progress.update(
                    self._task, description=f"Discovering hosts: {len(self._seen)} found"
                )

    def on_channel_error(self, channel: str, message: str) -> None:
        self._console.print(f"[yellow]camaudit: {channel} discovery skipped:[/] {clean(message)}")

    def on_host_done(self, device: DeviceResult) -> None:
        with self._lock:
            self._done += 1
            if self._live and self._task is not None:
                self._progress.advance(self._task)
                if self._stage is not None and self._stage[0] == "discovery":
                    self._progress.update(
                        self._task,
                        description=f"Discovering hosts: {len(self._seen)} found, "
                        f"{self._done} probed",
                    )
            elif not self._quiet and self._stage is not None and self._total:
                # Without a terminal (CI, a log file): a line every LOG_EVERY_S, with the pace.
                now = self._clock()
                if now - self._last_log >= LOG_EVERY_S and self._done < self._total:
                    self._last_log = now
                    elapsed = now - self._stage[1]
                    pace = max(1, self._done - self._done_at_stage) / max(elapsed, 1e-3)
                    left = (self._total - self._done) / pace
                    self._console.print(
                        f"camaudit: probed {self._done}/{self._total} hosts, "
                        f"{clock_text(elapsed)} elapsed, ~{clock_text(left)} left"
                    )
