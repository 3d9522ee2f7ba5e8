"""Run the discovery channels concurrently and merge what they saw into one Host per address."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from auditor.context import NetContext
from auditor.discovery.interface import DiscoveryChannel, DiscoveryError
from auditor.discovery.replies import UdpChannel
from auditor.discovery.udp import DIRECTED_LIMIT
from auditor.models import Channel, Host, IPAddress

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    hosts: tuple[Host, ...]
    """One Host per address, merged across channels, in address order."""
    errors: tuple[tuple[str, str], ...] = ()
    """(channel, message) for each channel that could not run at all."""


def _order(host: Host) -> tuple[int, int]:
    return host.address.version, int(host.address)


def merge_hosts(hosts: Iterable[Host]) -> tuple[Host, ...]:
    """Fold sightings of the same address into one Host (``Host.merge``), in address order."""
    merged: dict[object, Host] = {}
    for host in hosts:
        known = merged.get(host.address)
        merged[host.address] = host if known is None else known.merge(host)
    return tuple(sorted(merged.values(), key=_order))


def _unseen(hosts: Iterable[Host], channel: UdpChannel) -> list[IPAddress]:
    """The first DIRECTED_LIMIT addresses (in address order) that ``channel`` has not seen and
    its multicast did not reach; kept to that many as they stream by, never the whole site."""
    out: list[IPAddress] = []
    for h in hosts:
        if channel.channel in h.seen_by or channel.reach.covers(h.address):
            continue
        out.append(h.address)
        if len(out) > 2 * DIRECTED_LIMIT:
            out = sorted(out, key=_addr_order)[:DIRECTED_LIMIT]
    return sorted(out, key=_addr_order)[:DIRECTED_LIMIT]


def _addr_order(address: IPAddress) -> tuple[int, int]:
    return address.version, int(address)


def _run_all(sink: _Sink, channels: Sequence[tuple[str, DiscoveryChannel]]) -> None:
    if not channels:
        return
    with ThreadPoolExecutor(max_workers=len(channels), thread_name_prefix="discovery") as pool:
        for name, channel in channels:
            pool.submit(sink.run, name, channel)


class _Sink:
    """Collects sightings from all channel threads and reports each one as it arrives."""

    def __init__(
        self,
        ctx: NetContext,
        on_host: Callable[[Host], None] | None,
        keep: bool = True,
        on_done: Callable[[str], None] | None = None,
    ) -> None:
        self.ctx = ctx
        self.on_host = on_host
        self.keep = keep
        """Merge the hosts here (for the result); off when the caller keeps them itself."""
        self.on_done = on_done
        self.deferred: set[str] = set()
        """Channels that report again in a follow-up round: done only after it."""
        self.lock = threading.Lock()
        self.hosts: dict[object, Host] = {}
        self.errors: list[tuple[str, str]] = []

    def done(self, name: str) -> None:
        if self.on_done is not None:
            try:
                self.on_done(name)
            except Exception:  # a caller's bookkeeping must never stop discovery
                logger.exception("on_channel_done callback failed")

    def add(self, host: Host) -> None:
        if not self.ctx.allows(host.address):
            # A channel bug must not widen the audit: the host is dropped, loudly.
            logger.warning("discovery dropped out-of-scope host %s", host.address)
            return
        if self.keep:
            with self.lock:
                known = self.hosts.get(host.address)
                self.hosts[host.address] = host if known is None else known.merge(host)
        if self.on_host is not None:
            try:
                self.on_host(host)
            except Exception:  # a progress display must never stop discovery
                logger.exception("on_host callback failed")

    def run(self, name: str, channel: DiscoveryChannel) -> None:
        try:
            for host in channel.discover(self.ctx):
                self.add(host)
        except DiscoveryError as exc:
            if self.ctx.stopping.is_set():
                return  # ended because the audit was stopped (nmap terminated): not a failure
            logger.warning("discovery channel %s did not run: %s", name, exc)
            with self.lock:
                self.errors.append((name, str(exc)))
        except Exception as exc:
            logger.exception("discovery channel %s crashed", name)
            with self.lock:
                self.errors.append((name, f"internal error: {type(exc).__name__}: {exc}"))
        finally:
            if name not in self.deferred:
                self.done(name)


def discover_all(
    ctx: NetContext,
    channels: Iterable[str | DiscoveryChannel] | None = None,
    on_host: Callable[[Host], None] | None = None,
    *,
    on_channel_done: Callable[[str], None] | None = None,
    found: Callable[[], Iterable[Host]] | None = None,
) -> DiscoveryResult:
    """Run the channels (default: every registered one) at the same time; merge their hosts.

    A channel that cannot run (nmap missing) is reported in ``errors``; the others go on.
    ``on_host`` gets each sighting as it arrives, ``on_channel_done`` each channel's name once
    it will report nothing more. With ``found`` (the hosts the caller has merged so far, e.g.
    from the store) nothing is merged here, so memory does not grow with the site, and the
    result's ``hosts`` is empty.
    """
    from auditor.discovery import CHANNELS

    picked: list[tuple[str, DiscoveryChannel]] = []
    for item in CHANNELS if channels is None else channels:
        if isinstance(item, DiscoveryChannel):
            picked.append((item.channel.value, item))
        elif item in CHANNELS:
            picked.append((item, CHANNELS[Channel(item)]()))
        else:
            raise ValueError(f"unknown discovery channel {item!r}; known: {', '.join(CHANNELS)}")
    sink = _Sink(ctx, on_host, keep=found is None, on_done=on_channel_done)
    large = ctx.scope.size > DIRECTED_LIMIT
    if large:
        sink.deferred = {name for name, ch in picked if isinstance(ch, UdpChannel)}
    _run_all(sink, picked)
    if large:
        # Too large to probe every address directly, so the UDP channels only multicast on the
        # attached segment. Hosts that other channels found where that multicast did not go
        # (nmap on a routed subnet) get a directed follow-up probe: one more window, not one per
        # host. A host on a segment the multicast went out on got the probe already; if it did
        # not answer, it does not speak the protocol, and asking again directly cost one --rate
        # token per host and channel for nothing (issue 16: 6.4 sends per on-link host). Where
        # the round may have lost replies (kernel drops, a reply cap, no multicast sent at all)
        # ``reach.covers`` is False and the follow-up goes out as before.
        follow: list[tuple[str, DiscoveryChannel]] = []
        for name, ch in picked:
            if not isinstance(ch, UdpChannel):
                continue
            if ch.reach.segments and not ch.reach.complete:
                logger.info(
                    "%s: on-link hosts it did not hear get a directed probe too: %s",
                    name,
                    ch.reach.lost,
                )
            if found is None:
                with sink.lock:
                    known: Iterable[Host] = list(sink.hosts.values())
            else:
                known = found()
            unseen = _unseen(known, ch)
            if unseen:
                follow.append((name, type(ch)(targets=unseen)))
        sink.deferred = set()
        _run_all(sink, follow)
        for name in {name for name, ch in picked if isinstance(ch, UdpChannel)} - {
            n for n, _ in follow
        }:
            sink.done(name)
    return DiscoveryResult(
        hosts=tuple(sorted(sink.hosts.values(), key=_order)),
        errors=tuple(sorted(sink.errors)),
    )
