"""Imported hosts identified offline: an import without targets contacts nothing (issue 13).

No discovery channel runs and no probe is sent; every probe is recorded as not run, and each
host goes straight from the import file through identification and assessment into the store,
one transaction per host, as it is read. Nothing is collected first, so a 50,000-host nmap XML
is imported in the memory of one host (issue 16).

The engine calls ``identify_offline`` when an audit has no targets, with the store and what it
needs from the engine (its identify-and-assess step for one host, the probe names).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Container, Iterable, Sequence, Sized
from dataclasses import dataclass

from auditor import redact
from auditor.models import AuditId, DeviceResult, Host, Outcome, ProbeAttempt, Reason
from auditor.store import Store

#: Why every probe of an offline import is not run (shown per host in the full report).
OFFLINE_DETAIL = "imported without targets: identified offline, never contacted"


@dataclass(frozen=True)
class OfflineImport:
    """What identifying imported hosts offline needs; built by the engine once per audit."""

    probes: Sequence[str]
    """The audit's probe names: each is recorded as not run for every host."""
    finish: Callable[[DeviceResult], DeviceResult]
    """Identify and assess one host (the engine's own step, the same as for a probed host)."""
    secrets: redact.Redactor
    """The user's credentials, taken out of every value before it is named or stored."""
    detail: str = OFFLINE_DETAIL


def not_run(probes: Sequence[str], detail: str = OFFLINE_DETAIL) -> tuple[ProbeAttempt, ...]:
    """The attempts an offline host records: every probe, not run, and why."""
    return tuple(
        ProbeAttempt(name, Outcome.NOT_RUN, reason=Reason.NOT_APPLICABLE, detail=detail)
        for name in probes
    )


def identify_offline(
    hosts: Iterable[Host],
    run: OfflineImport,
    store: Store,
    audit_id: AuditId,
    *,
    done: Container[str] = frozenset(),
    stop: threading.Event | None = None,
    on_done: Callable[[DeviceResult], None] | None = None,
) -> int:
    """Identify, assess and save each host as ``hosts`` yields it; return how many were saved.

    ``hosts`` is iterated once, lazily; each host is saved in ``store`` under ``audit_id`` in a
    transaction of its own. A host whose address is in ``done`` (saved by the run being
    resumed) is passed over. When ``stop`` is set, the host in hand is finished and the rest
    are left for a resume.
    """
    # Frozen values: every host shares one tuple of attempts (it is the same for all of them).
    attempts = not_run(run.probes, run.detail)
    saved = 0
    # Each host is one transaction, not flushed to disk one by one: the file is still there
    # to be read again by `scan --resume` if a power cut undoes the last few.
    with store.relaxed_durability():
        for host in hosts:
            if stop is not None and stop.is_set():
                break
            if str(host.address) in done:
                continue
            device = redact.device(run.secrets, DeviceResult(host=host, attempts=attempts))
            device = run.finish(device)
            store.save_device(audit_id, device)
            saved += 1
            if on_done is not None:
                on_done(device)
    return saved


def count(hosts: Iterable[Host], done: Container[str] = frozenset()) -> int | None:
    """How many hosts an offline import will save, when known without reading them (a sized
    collection, such as ``ImportedHosts``); None for a lazy one."""
    if not isinstance(hosts, Sized):
        return None
    total = len(hosts)
    if isinstance(done, Sized):
        total -= len(done)
    return max(0, total)
