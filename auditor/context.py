"""What every network-facing stage receives: the scope, time limits, rate limit and credentials.

It is injected, never imported globally, so a probe or discovery channel can be run against the
lab or a scripted peer in tests, and so the scope check cannot be skipped by accident.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from auditor.credentials import CredentialStore, LoginLedger
from auditor.models import IPAddress, OutOfScopeReference
from auditor.ports import PortPlan
from auditor.redact import Redactor
from auditor.scope import Scope

#: Per-probe cap on bytes read from a device (README: resource bounds).
MAX_READ_BYTES = 1 << 20
#: Out-of-scope references kept per referring device, and in all (a flood names many).
MAX_REFS_PER_REFERRER = 32
MAX_REFS = 8192
#: At most this many (channel, source) pairs of refused discovery replies are noted.
MAX_HOSTILE_NOTES = 100

_waited = threading.local()


def rate_waited() -> float:
    """Seconds this thread has spent waiting for --rate tokens so far.

    Deadlines subtract it: the wait is camaudit pacing itself, not the device being slow. With
    ``--rate 8`` and 64 workers a token can take seconds, and charging that to the exchange's
    deadline failed healthy devices with "no complete reply within 6.0 s" (issue 13).
    """
    total: float = getattr(_waited, "total", 0.0)
    return total


class RateLimiter:
    """A token bucket shared by all threads: at most ``rate`` new exchanges per second."""

    def __init__(self, rate: float | None, stop: threading.Event | None = None) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive")
        self._rate = rate
        #: Set when the audit is stopped: waiting for a token ends at once.
        self._stop = stop
        self._lock = threading.Lock()
        self._next = time.monotonic()

    @property
    def per_second(self) -> float | None:
        """The configured rate (None: unlimited), e.g. for nmap's --max-rate."""
        return self._rate

    def acquire(self) -> None:
        if self._rate is None:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + 1.0 / self._rate
        delay = slot - now
        if delay > 0:
            if self._stop is not None:
                self._stop.wait(delay)
            else:
                time.sleep(delay)
            # What was really waited (a stop ends the wait early).
            _waited.total = rate_waited() + min(delay, time.monotonic() - now)


@dataclass
class NetContext:
    """Shared, thread-safe runtime settings for discovery and probes."""

    scope: Scope
    timeout: float = 3.0
    """Seconds for any single socket operation (connect, read, a UDP collection window)."""
    rate: RateLimiter = field(default_factory=lambda: RateLimiter(None))
    credentials: CredentialStore = field(default_factory=CredentialStore.empty)
    ports: PortPlan = field(default_factory=PortPlan.default)
    interfaces: tuple[str, ...] = ()
    """Interfaces for multicast/broadcast discovery; empty means every up, non-loopback one."""
    multicast: bool = True
    """Send multicast/broadcast discovery (off for loopback-only sites: unicast probes only)."""
    stopping: threading.Event = field(default_factory=threading.Event)
    """Set when the audit is asked to stop (SIGINT/SIGTERM): channels send nothing more."""
    max_read_bytes: int = MAX_READ_BYTES
    workers: int = 64
    logins: LoginLedger = field(default_factory=LoginLedger)
    """Refused logins per device and credential set, shared by every probe and port."""
    redactor: Redactor | None = None
    """Takes the credentials out of device text; built from ``credentials`` when not given."""
    snmp_port: int = 161
    """UDP port the SNMP probe asks (161 on real networks)."""
    _refs: dict[OutOfScopeReference, None] = field(default_factory=dict)
    _refs_per_referrer: dict[IPAddress, int] = field(default_factory=dict)
    _refs_dropped: int = 0
    _hostile: dict[tuple[str, str], tuple[int, str]] = field(default_factory=dict)
    _caps: dict[tuple[str, str], str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        if self.redactor is None:
            self.redactor = Redactor(self.credentials.all())
            # An SNMP community is a password too: a device echoing it must not store it.
            for community in self.credentials.snmp_communities():
                self.redactor.add_digest_secret(community.reveal())

    @property
    def secrets(self) -> Redactor:
        """The redactor (always set after construction)."""
        assert self.redactor is not None
        return self.redactor

    def allows(self, address: object) -> bool:
        return address in self.scope

    def refuse(self, address: str, referrer: IPAddress, via: str) -> None:
        """Record a device-supplied address outside the scope; it is never contacted."""
        with self._lock:
            ref = OutOfScopeReference(address=address, referrer=referrer, via=via)
            if ref in self._refs:
                return
            # Bounded like discovery itself: a flood of replies naming outside addresses must
            # not grow the audit without limit (issue 13); what was left out is noted.
            mine = self._refs_per_referrer.get(referrer, 0)
            if mine >= MAX_REFS_PER_REFERRER or len(self._refs) >= MAX_REFS:
                self._refs_dropped += 1
                return
            self._refs_per_referrer[referrer] = mine + 1
            self._refs[ref] = None

    @property
    def out_of_scope(self) -> tuple[OutOfScopeReference, ...]:
        with self._lock:
            return tuple(self._refs)

    def note_hostile_reply(self, channel: str, source: str, reason: str) -> None:
        """Count a discovery reply refused as an attack (per channel and source, bounded)."""
        with self._lock:
            key = (channel, source)
            count, first = self._hostile.get(key, (0, reason[:160]))
            if count or len(self._hostile) < MAX_HOSTILE_NOTES:
                self._hostile[key] = (count + 1, first)

    def note_discovery_cap(self, channel: str, cap: str, message: str) -> None:
        """Record that a discovery channel hit a cap, and what was dropped (for the notes).

        Kept per channel and kind of cap, the first message of each (later rounds say the same).
        """
        with self._lock:
            self._caps.setdefault((channel, cap), message)

    @property
    def discovery_caps(self) -> tuple[str, ...]:
        with self._lock:
            notes = [m for _, m in sorted(self._caps.items())]
            if self._refs_dropped:
                notes.append(
                    f"Out-of-scope references: {self._refs_dropped:,} more were not recorded "
                    f"(at most {MAX_REFS_PER_REFERRER} per device and {MAX_REFS:,} in all)."
                )
            return tuple(notes)

    @property
    def hostile_replies(self) -> tuple[str, ...]:
        """One note line per (channel, source) that sent a refused reply, for the report."""
        with self._lock:
            items = sorted(self._hostile.items())
        return tuple(
            f"{channel}: {n} {'reply' if n == 1 else 'replies'} from {source} refused: {why}"
            for (channel, source), (n, why) in items
        )
