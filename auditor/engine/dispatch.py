"""Probe each host as soon as it is ready, while discovery still runs (issue 16).

A host is ready when the port scan has reported it (its open ports) or when no port scan is
pending; the dispatcher reads ready hosts from the store in the order they became ready, never
holding the site in memory. Sightings that arrive while a host is being probed are merged in
before its evidence-gated probes run (``hostaudit.EVIDENCE_GATED``); the few that arrive after a
host was saved send it through the probes once more when discovery is over.

Waiting for a channel frees the host's worker slot: at most ``workers`` hosts are probed at a
time, and up to as many more may sit waiting for a channel's window to end.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from auditor.context import NetContext
from auditor.discovery.udp import DIRECTED_LIMIT
from auditor.engine.config import AuditObserver
from auditor.engine.feed import DiscoveryFeed
from auditor.engine.hostaudit import HostAuditor
from auditor.models import (
    AuditInfo,
    Channel,
    DeviceResult,
    Host,
    Observation,
    OutOfScopeReference,
    Reason,
)
from auditor.ports import Role
from auditor.store import Store
from auditor.store.sightings import Sightings

logger = logging.getLogger(__name__)

#: Camera-platform discovery protocols (Hikvision SADP, Dahua DHIP, Xiongmai XMEye): a device
#: that answers them is a camera or recorder, so an ONVIF service is likely (a heuristic for how
#: long to wait, not evidence of one), and WS-Discovery may still announce its XAddrs.
CAMERA_CHANNELS = frozenset({Channel.SADP, Channel.DHIP, Channel.XMEYE})

#: How long a host's ONVIF probe may wait for the WS-Discovery round when its sends are paced
#: by --rate (in ``timeout``s, plus a second): one collection window after its last send.
WSD_WAIT_FACTOR = 2.0
#: Unpaced, every WS-Discovery Probe is sent at once, and a silent address gets its second
#: Probe after ``udp._RETRY_PAUSE`` (0.5 s). A target service answers within APP_MAX_DELAY
#: (the protocol constant, 500 ms: OASIS WS-Discovery 1.1, docs.oasis-open.org/ws-dd/discovery/
#: 1.1/os/wsdd-discovery-1.1-spec-os.html; its use is described in Microsoft's MS-PCCRD 3.2.2,
#: learn.microsoft.com/en-us/openspecs/windows_protocols/ms-pccrd), so by
#: this many seconds after the channel started, a device that will answer has answered. One
#: that answers later is not lost: a sighting after a host's probes read it sends the host
#: through them once more when discovery is over.
WSD_REPLY_S = 1.25
#: How long a host SSDP saw waits for the description behind its LOCATION (fetched by the SSDP
#: channel after its window: one more bounded exchange).
SSDP_WAIT_FACTOR = 3.0
#: Seconds between looks at the store for newly ready hosts, while nothing finishes.
POLL_S = 0.05


@dataclass
class Dispatch:
    """One run of the dispatcher; the engine builds it and calls ``run``."""

    ctx: NetContext
    feed: DiscoveryFeed
    book: Sightings
    hosts: HostAuditor
    store: Store
    info: AuditInfo
    observer: AuditObserver
    stop: threading.Event
    references: Callable[[Host], Sequence[OutOfScopeReference]]

    def __post_init__(self) -> None:
        self._active = threading.Semaphore(max(1, self.ctx.workers))
        self._store_lock = threading.Lock()
        self._saved = 0
        """Hosts saved in this run (a late sighting's second pass not counted again)."""

    # -- waits -----------------------------------------------------------------------------

    def _looks_onvif(self, host: Host, evidence: tuple[Observation, ...]) -> bool:
        """Might WS-Discovery still bring this host's ONVIF XAddrs?

        Evidence, not a port alone: port 80 is open on printers, routers and NAS boxes too,
        and waiting for them would hold their ONVIF probe to the window for nothing. A host
        waits when a camera-platform channel saw it, when it has a port the plan gives the
        ONVIF role (8899, 2020: ONVIF-only ports), or when the anonymous probes' evidence
        already names a video device (its HTTP pages, RTSP, banners).
        """
        if host.seen_by & CAMERA_CHANNELS:
            return True
        if host.open_tcp_ports & set(self.ctx.ports.ports_for(Role.ONVIF)):
            return True
        seen = host.observations + evidence
        return self.hosts.tools.identifier.identify(seen).device_type.is_video

    def _waits(self, host: Host, evidence: tuple[Observation, ...]) -> list[tuple[Channel, float]]:
        feed, timeout = self.feed, self.ctx.timeout
        out: list[tuple[Channel, float]] = []
        if Channel.SSDP in host.seen_by and feed.running(Channel.SSDP):
            # SSDP fetches the description behind LOCATION after its window: the maker and
            # model it names feed the credential gate (probes.access) and identification.
            out.append((Channel.SSDP, SSDP_WAIT_FACTOR * timeout + 1.0))
        if Channel.WS_DISCOVERY not in host.seen_by and feed.running(Channel.WS_DISCOVERY):
            window = WSD_WAIT_FACTOR * timeout + 1.0
            if self.ctx.rate.per_second is None:
                left = feed.started + WSD_REPLY_S - time.monotonic()
            elif self.ctx.scope.size > DIRECTED_LIMIT:
                # A large scope's first round is multicast only (a few sends, at once): its
                # window runs from the start; the directed follow-up comes after the port scan.
                left = feed.started + window - time.monotonic()
            else:
                left = window  # paced directed sends: this host's Probe may have gone late
            # The evidence is weighed only when there is still time to wait for (it costs an
            # identification).
            if left > 0 and self._looks_onvif(host, evidence):
                out.append((Channel.WS_DISCOVERY, left))
        return out

    # -- one host --------------------------------------------------------------------------

    def _one(self, ready: Host, again: bool = False) -> DeviceResult | None:
        address = str(ready.address)
        used = [0]

        def refresh(host: Host, evidence: tuple[Observation, ...]) -> Host:
            waits = self._waits(host, evidence)
            if waits:
                self._active.release()  # waiting is not probing: another host may probe
                try:
                    for channel, seconds in waits:
                        self.feed.wait_for(channel, seconds)
                finally:
                    self._active.acquire()
            fresh, used[0] = self.book.current(address)
            return fresh or host

        self._active.acquire()
        try:
            fresh, used[0] = self.book.current(address)
            device = self.hosts.audit(fresh or ready, refresh)
        finally:
            self._active.release()
        if any(a.reason is Reason.INTERRUPTED for a in device.attempts):
            # Stopped mid-host: not saved, so `scan --resume` probes it again from the start
            # (a saved host counts as done, and would stay half-probed for good).
            return None
        refs = self.references(device.host)
        with self._store_lock:  # one writer at a time; each host is its own transaction
            self.store.save_device(self.info.id, device, refs)
            self._saved += 0 if again else 1
        self.book.mark_probed(address, used[0], device.unconfirmed)
        if not again:
            self.observer.on_host_done(device)
        return device

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> None:
        """Probe hosts as they become ready until discovery is over and none is left; then,
        once, the hosts a late sighting changed after their probes had read them."""
        limit = 2 * max(1, self.ctx.workers)  # probing, plus as many waiting for a channel
        pending: set[Future[DeviceResult | None]] = set()
        cursor, announced = 0, False
        late: Iterator[Host] | None = None
        with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="probe") as pool:
            try:
                while not self.stop.is_set():
                    self.book.flush_due()
                    # Read before the store: the feed sets it after its last write, so a query
                    # made after it sees every sighting.
                    finished = self.feed.finished.is_set()
                    if finished and not announced:
                        announced = True
                        self._announce()
                    room = limit - len(pending)
                    if late is None:
                        batch = self.book.ready(cursor, room) if room > 0 else []
                        for sighting in batch:
                            cursor = sighting.seq
                            pending.add(pool.submit(self._one, sighting.host))
                        if finished and not batch and not pending:
                            stale = list(self.book.stale())
                            if stale:
                                logger.info(
                                    "%d host(s) sighted again after their probes: probed again",
                                    len(stale),
                                )
                            late = iter(stale)
                            continue
                    else:
                        for host in itertools.islice(late, max(0, room)):
                            pending.add(pool.submit(self._one, host, True))
                        if not pending:
                            break
                    if not pending:
                        self.feed.finished.wait(POLL_S)
                        continue
                    done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                    for fut in done:
                        fut.result()  # a store error must stop the audit, not vanish
            except BaseException:
                self.stop.set()
                for fut in pending:
                    fut.cancel()
                raise

    def _announce(self) -> None:
        """Discovery is over: the number of hosts this run probes is known now (those it
        probed while discovery ran, and those left)."""
        with self._store_lock:
            total = self._saved + self.book.unsaved()
        self.observer.on_stage("probing", total)
