"""Measure one child process: wall time, CPU (user+sys) and peak RSS of its whole process tree.

``os.wait4`` returns the rusage of exactly that child, including every descendant it reaped
(camaudit's own nmap, nmap's helpers), so runs measured one after the other never mix, unlike
``RUSAGE_CHILDREN``, whose ``ru_maxrss`` is the largest child ever.
"""

from __future__ import annotations

import contextlib
import os
import signal
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Measurement:
    wall_s: float
    cpu_s: float
    """User + system time of the child and the descendants it waited for."""
    peak_rss_mb: float
    """Largest resident set of the child or any descendant it waited for."""
    returncode: int
    stderr_tail: str = ""


def run_measured(
    argv: Sequence[str],
    env: Mapping[str, str] | None = None,
    timeout: float = 3600.0,
    stdout: Path | None = None,
    cpus: set[int] | None = None,
    stdin: Path | None = None,
) -> Measurement:
    """Run ``argv`` to completion (killed at ``timeout``) and measure it."""
    preexec: Callable[[], None] | None = None
    if cpus is not None:
        pinned = set(cpus)

        def preexec() -> None:
            os.sched_setaffinity(0, pinned)

    with contextlib.ExitStack() as stack:
        out = stack.enter_context(stdout.open("wb")) if stdout else subprocess.DEVNULL
        inp = stack.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
        start = time.monotonic()
        proc = subprocess.Popen(
            list(argv),
            env=dict(env) if env is not None else None,
            stdout=out,
            stdin=inp,
            stderr=subprocess.PIPE,
            preexec_fn=preexec,
            start_new_session=True,  # so a timeout or Ctrl-C can end its whole group
        )
        try:
            stderr = _drain_and_wait(proc, timeout)
        except BaseException:
            _kill_group(proc)
            raise
        wall = time.monotonic() - start
        status, usage = proc._bench_status  # type: ignore[attr-defined]
    code = os.waitstatus_to_exitcode(status)
    tail = "\n".join(stderr.decode("utf-8", "replace").strip().splitlines()[-5:])
    return Measurement(
        wall_s=wall,
        cpu_s=usage.ru_utime + usage.ru_stime,
        # Linux reports kilobytes. NOTE: a child's ru_maxrss also counts the pre-exec copy of
        # the process that forked it, so bench/run stays a small process while it measures.
        peak_rss_mb=usage.ru_maxrss / 1024.0,
        returncode=code,
        stderr_tail=tail,
    )


def _drain_and_wait(proc: subprocess.Popen[bytes], timeout: float) -> bytes:
    """Read stderr (so the child never blocks on a full pipe), then reap it with wait4."""
    import threading

    chunks: list[bytes] = []
    assert proc.stderr is not None
    pipe = proc.stderr

    def reader() -> None:
        for block in iter(lambda: pipe.read(65536), b""):
            chunks.append(block)
            if sum(len(c) for c in chunks) > 4 << 20:
                del chunks[:-8]  # keep the end only: it says why a run failed

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            break
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.02)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc._bench_status = (status, usage)  # type: ignore[attr-defined]
    thread.join(timeout=5)
    pipe.close()
    return b"".join(chunks)


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """End the process group this harness started (never anything else)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
    except ChildProcessError:
        pass


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
