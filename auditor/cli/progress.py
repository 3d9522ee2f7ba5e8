"""Progress display for a running audit: a rich progress bar on a terminal, log lines otherwise."""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
)

from auditor.cli.console import clean
from auditor.engine import AuditObserver
from auditor.models import DeviceResult, Host

logger = logging.getLogger(__name__)


class ProgressObserver(AuditObserver):
    """Implements the engine's observer for the CLI; safe to call from worker threads."""

    def __init__(self, console: Console, *, quiet: bool = False) -> None:
        self._console = console
        self._quiet = quiet
        self._live = console.is_terminal and not quiet
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            console=console,
            transient=True,
        )
        self._task: TaskID | None = None
        self._seen: set[str] = set()
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

    def on_stage(self, stage: str, total: int | None = None) -> None:
        with self._lock:
            if self._task is not None and self._live:
                self._progress.remove_task(self._task)
            label = {"discovery": "Discovering hosts", "probing": "Probing hosts"}.get(
                stage, stage.capitalize()
            )
            if self._live:
                self._task = self._progress.add_task(label, total=total)
            elif not self._quiet:
                count = f" ({total} hosts)" if total is not None else ""
                self._console.print(f"camaudit: {label.lower()}{count}")

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
            if self._live and self._task is not None:
                self._progress.advance(self._task)
