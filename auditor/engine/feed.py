"""Discovery on a thread of its own, streaming each sighting into the store (issue 16).

The channels and the imported hosts report into ``Sightings``; the engine probes each host as
soon as it is ready there. What the probes may wait for is said here: which channel is still
running, and when the port scan is over.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from auditor.context import NetContext
from auditor.discovery import discover_all
from auditor.discovery.interface import DiscoveryChannel
from auditor.engine.config import AuditObserver
from auditor.models import Channel, ChannelFailure, Host
from auditor.store.sightings import Sightings

logger = logging.getLogger(__name__)


def channel_name(item: str | DiscoveryChannel) -> str:
    return item.channel.value if isinstance(item, DiscoveryChannel) else item


class DiscoveryFeed:
    """Runs the channels and reads the imports into the sightings, in the background."""

    def __init__(
        self,
        ctx: NetContext,
        channels: Sequence[str | DiscoveryChannel],
        imported: Iterable[Host],
        book: Sightings,
        observer: AuditObserver,
    ) -> None:
        self.ctx = ctx
        self.channels = tuple(channels)
        self.imported = imported
        self.book = book
        self.observer = observer
        self._running = {channel_name(c): threading.Event() for c in self.channels}
        self.finished = threading.Event()
        self.failures: tuple[ChannelFailure, ...] = ()
        self.error: BaseException | None = None
        """What ended discovery abnormally (a store error): the engine raises it."""
        self._threads: list[threading.Thread] = []
        self._closer: threading.Thread | None = None
        self.started = time.monotonic()
        """When the channels were started (monotonic)."""

    @property
    def scans_ports(self) -> bool:
        """A port scan runs: hosts wait for its sighting (their open ports) to be probed."""
        return Channel.NMAP.value in self._running

    def start(self) -> DiscoveryFeed:
        self.started = time.monotonic()
        self.book.round_started(datetime.now(UTC))
        self._threads = [
            threading.Thread(target=self._guard, args=(self._discover,), name="discovery-feed"),
            threading.Thread(target=self._guard, args=(self._import,), name="import-feed"),
        ]
        for t in self._threads:
            t.start()
        self._closer = threading.Thread(target=self._close_when_done, name="discovery-end")
        self._closer.start()
        return self

    def running(self, channel: Channel) -> bool:
        """Is ``channel`` part of this discovery and may it still report a host?"""
        done = self._running.get(channel.value)
        return done is not None and not done.is_set()

    def wait_for(self, channel: Channel, seconds: float) -> None:
        """Wait until ``channel`` will report nothing more, ``seconds`` at most, or a stop."""
        done = self._running.get(channel.value)
        end = time.monotonic() + seconds
        while done is not None and not done.is_set() and not self.ctx.stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                return
            done.wait(min(left, 0.05))

    def join(self, seconds: float) -> bool:
        """Wait for discovery to end (after a stop); True when it has, and nothing will write
        to the sightings any more."""
        if self._closer is None:
            # A stop landed while the threads were being started: any that did start still
            # writes to the sightings when it ends, so the caller must leave them open.
            return False
        return self.finished.wait(seconds)

    # -- threads ---------------------------------------------------------------------------

    def _guard(self, work: Callable[[], None]) -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - handed to the engine's thread
            logger.debug("discovery feed ended by %r", exc)
            self.error = self.error or exc
            self.ctx.stopping.set()

    def _import(self) -> None:
        for host in self.imported:
            if self.ctx.stopping.is_set():
                return
            self.book.add(host)

    def _on_host(self, host: Host) -> None:
        self.book.add(host)
        self.observer.on_host_discovered(host)

    def _channel_done(self, name: str) -> None:
        if name == Channel.NMAP.value:
            self.book.ports_known()
        done = self._running.get(name)
        if done is not None:
            done.set()

    def _discover(self) -> None:
        if not self.channels:
            return
        result = discover_all(
            self.ctx,
            channels=self.channels,
            on_host=self._on_host,
            on_channel_done=self._channel_done,
            found=self.book.hosts,
        )
        for channel, message in result.errors:
            logger.warning("discovery channel %s did not run: %s", channel, message)
            self.observer.on_channel_error(channel, message)
        self.failures = tuple(ChannelFailure(c, m) for c, m in result.errors)

    def _close_when_done(self) -> None:
        for t in self._threads:
            if t.ident is not None:
                t.join()
        try:
            for done in self._running.values():
                done.set()
            if self.error is None:
                if self.ctx.stopping.is_set():
                    # Stopped: keep what was seen; the resumed audit's port scan decides the rest.
                    self.book.flush()
                else:
                    self.book.ports_known()  # also writes what is buffered
                    self.book.round_finished(datetime.now(UTC))
        except BaseException as exc:  # noqa: BLE001 - handed to the engine's thread
            self.error = self.error or exc
        finally:
            self.finished.set()
