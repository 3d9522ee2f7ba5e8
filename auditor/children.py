"""Child processes (nmap, Chromium): their own process group, no secrets, ended with camaudit.

A child started with ``subprocess.run`` shares camaudit's process group and environment. Two
consequences the audit cannot accept: on SIGTERM camaudit exits while its nmap keeps scanning
(re-parented to PID 1, its temporary files left behind), and every child inherits
``CAMAUDIT_PASSWORD``. Here each child runs in a session of its own, is registered while it
runs, and ``terminate_all()`` (the CLI's signal handler) ends every process group at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import IO

from auditor.credentials import ENV_PASSWORD, ENV_USER

#: Variables a child never sees: the device credentials camaudit may have been given.
SECRET_ENV = frozenset({ENV_PASSWORD, ENV_USER})
#: How long a child gets to end after SIGTERM before SIGKILL.
GRACE_S = 2.0

_lock = threading.Lock()
_live: set[subprocess.Popen[bytes]] = set()


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """camaudit's environment without the credential variables, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k not in SECRET_ENV}
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str], *, timeout: float, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Run ``argv`` to completion (stdout and stderr captured, as bytes) in its own session.

    On timeout, interruption or any error the whole process group is ended before this
    returns; ``subprocess.TimeoutExpired`` is raised as by ``subprocess.run``.
    """
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(env),
        start_new_session=True,  # our terminal's Ctrl-C is ours to handle, not the child's
    )
    with _lock:
        _live.add(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        _end(proc)
        raise
    finally:
        with _lock:
            _live.discard(proc)
    return subprocess.CompletedProcess(list(argv), proc.returncode, out, err)


@contextlib.contextmanager
def started(
    argv: Sequence[str], *, stderr: IO[bytes], env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Start ``argv`` in its own session (stdout discarded, stderr to the file ``stderr``) for
    a caller that watches it run (nmap's XML, read as it is written); however the block ends,
    the process group is ended and unregistered."""
    proc = subprocess.Popen(
        list(argv),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        env=child_env(env),
        start_new_session=True,
    )
    with _lock:
        _live.add(proc)
    try:
        yield proc
    finally:
        _end(proc)
        with _lock:
            _live.discard(proc)


def terminate_all() -> None:
    """End every running child's process group (SIGTERM, then SIGKILL after GRACE_S)."""
    with _lock:
        running = list(_live)
    for proc in running:
        _end(proc)


def _end(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(GRACE_S)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(GRACE_S)
