"""One UDP request/reply round for a discovery channel: send, then collect for a bounded window.

Every channel that speaks UDP (WS-Discovery, SADP, DHIP, Xiongmai, SSDP, mDNS) shares this: the
probes go to the multicast group on each interface that carries an in-scope network and, for a
small scope, directed to every in-scope address, which is how devices on other subnets are
reached. Replies are read while sending, so a /24 costs one window, not one window per host.
"""

from __future__ import annotations

import contextlib
import ipaddress
import itertools
import logging
import selectors
import socket
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.context import NetContext
from auditor.discovery.netif import Interface, scoped_interfaces
from auditor.discovery.reach import Reach
from auditor.discovery.udpsock import (
    BROADCAST,
    dropped,
    group_listener,
    open_socket,
    send_datagram,
)
from auditor.models import IPAddress
from auditor.scope import normalise_address

logger = logging.getLogger(__name__)

#: Scopes up to this size get a directed probe to every address (issue 4: "small scopes").
DIRECTED_LIMIT = 4096
#: A device may answer a few times (two probe types, each interface); more is a flood.
MAX_DATAGRAMS_PER_SOURCE = 16
#: Distinct source addresses one channel accepts in one round. A UDP source address is not
#: authenticated: one machine on the segment forged 3,000 in-scope sources in 0.2 s (issue 13),
#: so a per-source cap alone bounds nothing. Beyond this, replies from new sources are dropped
#: and the audit notes it; a real device past the cap is still found by nmap and probed.
MAX_SOURCES_PER_ROUND = 1024
#: Hard ceiling on everything one channel reads in one round (a few replies per source).
MAX_DATAGRAMS = 8 * MAX_SOURCES_PER_ROUND
MAX_DATAGRAM_BYTES = 65_535
_RETRY_PAUSE = 0.5
#: Bytes of directed probes per sending socket (well under the default 208 KiB send buffer).
_SOCKET_BUDGET = 64 * 1024


@dataclass(frozen=True, slots=True)
class Datagram:
    """One reply as it arrived: who sent it, from which port, the bytes and when."""

    source: IPAddress
    port: int
    data: bytes
    received_at: datetime


@dataclass(frozen=True, slots=True)
class UdpPlan:
    """Where a channel's probes go: one port, its multicast groups and the payloads to send."""

    port: int
    payloads: tuple[bytes, ...]
    group_v4: str | None = None
    group_v6: str | None = None
    listen_group: bool = False
    """Also bind the group port and join the group: some devices (SADP) answer to the group."""
    broadcast: bool = False
    """Also send to 255.255.255.255 on each interface (Xiongmai devices listen for broadcast)."""
    repeats: int = 2
    """Multicast sends per payload and interface (UDP may drop one; WS-Discovery repeats too)."""


def directed_targets(ctx: NetContext) -> list[IPAddress]:
    """Every in-scope address when the scope is small enough to probe each one directly."""
    if ctx.scope.size > DIRECTED_LIMIT:
        return []
    return list(ctx.scope.addresses())


_Send = tuple[socket.socket, tuple[object, ...], bytes, Interface | None]


def _multicast_sends(
    plan: UdpPlan,
    ifaces: dict[int, tuple[Interface, ...]],
    v4: socket.socket,
    v6: socket.socket | None,
) -> Iterator[_Send]:
    for _ in range(plan.repeats):
        for payload in plan.payloads:
            for iface in ifaces.get(4, ()):
                if plan.group_v4:
                    yield v4, (plan.group_v4, plan.port), payload, iface
                if plan.broadcast:
                    yield v4, (BROADCAST, plan.port), payload, iface
            for iface in ifaces.get(6, ()):
                if plan.group_v6 and v6 is not None:
                    yield v6, (plan.group_v6, plan.port, 0, iface.index), payload, iface


def _directed_sends(
    plan: UdpPlan, ctx: NetContext, targets: Sequence[IPAddress], pool: _SocketPool
) -> Iterator[_Send]:
    for addr in targets:
        # Checked again here, not only when the list was made: the scope is the last word.
        if not ctx.allows(addr):
            continue
        for payload in plan.payloads:
            sock = pool.get(socket.AF_INET6 if addr.version == 6 else socket.AF_INET, len(payload))
            if sock is not None:
                yield sock, (str(addr), plan.port), payload, None


class _Collector:
    """Reads replies, keeping only in-scope sources and at most a few datagrams from each."""

    def __init__(self, ctx: NetContext, socks: Sequence[socket.socket]) -> None:
        self.ctx = ctx
        self.selector = selectors.DefaultSelector()
        self.socks: list[socket.socket] = []
        for sock in socks:
            self.add(sock)
        self.per_source: Counter[IPAddress] = Counter()
        self.total = 0
        self.dropped = 0
        self.over_source_cap = 0
        """Replies dropped because the round already had MAX_SOURCES_PER_ROUND sources."""

    def add(self, sock: socket.socket) -> None:
        self.selector.register(sock, selectors.EVENT_READ)
        self.socks.append(sock)

    def kernel_drops(self) -> int | None:
        """Replies the kernel dropped on this round's sockets so far; None if it cannot tell."""
        counts = [dropped(sock) for sock in self.socks]
        return None if None in counts else sum(c for c in counts if c is not None)

    def drain(self, timeout: float) -> Iterator[Datagram]:
        for key, _ in self.selector.select(timeout):
            sock: socket.socket = key.fileobj  # type: ignore[assignment]
            while self.total < MAX_DATAGRAMS:
                try:
                    data, peer = sock.recvfrom(MAX_DATAGRAM_BYTES)
                except (BlockingIOError, InterruptedError):
                    break
                except OSError as exc:  # ICMP port unreachable surfaces as ECONNREFUSED
                    logger.debug("receive error: %s", exc)
                    break
                got = self._accept(data, peer)
                if got is not None:
                    yield got

    def _accept(self, data: bytes, peer: tuple[object, ...]) -> Datagram | None:
        try:
            source = normalise_address(ipaddress.ip_address(str(peer[0])))
            if source.version == 6 and source.is_link_local and len(peer) > 3 and peer[3]:
                # Keep the zone: a link-local address is only reachable through its interface.
                zone = socket.if_indextoname(int(peer[3]))  # type: ignore[call-overload]
                source = ipaddress.ip_address(f"{peer[0]}%{zone}")
        except (ValueError, OSError):
            return None
        if self.per_source[source] >= MAX_DATAGRAMS_PER_SOURCE:
            # A flooding source is already in scope and capped: the cheapest check first.
            self.dropped += 1
            return None
        if not self.ctx.allows(source):
            # A reply from outside the scope (multicast reaches the whole segment): not ours to
            # audit, and never contacted.
            self.dropped += 1
            return None
        if self.per_source[source] >= MAX_DATAGRAMS_PER_SOURCE:
            self.dropped += 1
            return None
        if source not in self.per_source and len(self.per_source) >= MAX_SOURCES_PER_ROUND:
            self.dropped += 1
            self.over_source_cap += 1
            return None
        self.per_source[source] += 1
        self.total += 1
        return Datagram(source, int(peer[1]), data, datetime.now(UTC))  # type: ignore[call-overload]


class _SocketPool:
    """Sockets for directed probes, each carrying a bounded share of the bytes.

    A datagram to an address whose neighbour entry is still being resolved (ARP) stays charged
    to the sending socket's buffer until resolution fails, about 3 s later; directed probes to
    a /24 of mostly empty addresses would fill one socket's buffer, and every later send (also
    to real devices) would fail with EAGAIN. Spreading the sends over sockets avoids that.
    """

    def __init__(self, stack: contextlib.ExitStack, collector: _Collector) -> None:
        self.stack = stack
        self.collector = collector
        self.current: dict[int, tuple[socket.socket, int]] = {}

    def get(self, family: socket.AddressFamily, nbytes: int) -> socket.socket | None:
        sock, used = self.current.get(family, (None, 0))
        if sock is None or used + nbytes > _SOCKET_BUDGET:
            try:
                sock = self.stack.enter_context(open_socket(family))
            except OSError as exc:  # no IPv6 here, or out of descriptors
                logger.debug("no socket for directed probes: %s", exc)
                return None
            self.collector.add(sock)
            used = 0
        self.current[family] = (sock, used + nbytes)
        return sock


def _lost(collector: _Collector, stopped: bool) -> str:
    """Why some reply of the round may not have been read ("" if every one was)."""
    if stopped:
        return "the audit was stopped"
    if collector.over_source_cap or collector.total >= MAX_DATAGRAMS:
        return "a reply cap was reached"
    drops = collector.kernel_drops()
    if drops is None:
        return "the kernel does not report dropped replies"
    if drops:
        return f"the receive buffer overflowed ({drops:,} replies dropped)"
    return ""


#: How often a collection window looks at the audit's stop request.
_STOP_POLL_S = 0.25


def _send_all(
    ctx: NetContext, sends: Iterable[_Send], collector: _Collector, reach: Reach | None = None
) -> Iterator[Datagram]:
    for sock, dest, payload, iface in sends:
        ctx.rate.acquire()
        if ctx.stopping.is_set():  # a stopped audit sends nothing more (no 1,000-address tail)
            return
        if send_datagram(sock, dest, payload, iface) and iface is not None and reach is not None:
            reach.sent_on(iface, 6 if sock.family == socket.AF_INET6 else 4)
        yield from collector.drain(0)


def exchange(
    ctx: NetContext,
    plan: UdpPlan,
    window: float | None = None,
    targets: Sequence[IPAddress] | None = None,
    channel: str = "",
    reach: Reach | None = None,
) -> Iterator[Datagram]:
    """Send the plan's probes; yield in-scope replies until ``window`` s after the last send.

    With ``targets``, only those addresses get directed probes and nothing is multicast (the
    follow-up round for hosts found by other channels in a scope too large to probe whole).
    ``reach`` is told where the multicast went out and whether any reply was lost.
    """
    wait = ctx.timeout if window is None else window
    # Multicast only where an in-scope network is attached: elsewhere it would reach devices
    # outside the audit (and a loopback-only scope multicasts nowhere).
    multicast = ctx.multicast and targets is None
    ifaces = scoped_interfaces(ctx.scope, ctx.interfaces) if multicast else {}
    with contextlib.ExitStack() as stack:
        v4 = stack.enter_context(open_socket(socket.AF_INET, multicast=bool(ifaces.get(4))))
        socks = [v4]
        v6: socket.socket | None = None
        try:
            v6 = stack.enter_context(open_socket(socket.AF_INET6, multicast=bool(ifaces.get(6))))
            socks.append(v6)
        except OSError as exc:  # IPv6 disabled on this host: IPv4 discovery still runs
            logger.debug("no IPv6 socket: %s", exc)
        listener = (
            group_listener(plan.group_v4, plan.port, ifaces.get(4, ()))
            if plan.listen_group
            else None
        )
        if listener is not None:
            stack.enter_context(listener)
            socks.append(listener)
        collector = _Collector(ctx, socks)
        stack.callback(collector.selector.close)
        targets = directed_targets(ctx) if targets is None else targets[:DIRECTED_LIMIT]
        pool = _SocketPool(stack, collector)
        first = itertools.chain(
            _multicast_sends(plan, ifaces, v4, v6), _directed_sends(plan, ctx, targets, pool)
        )
        yield from _send_all(ctx, first, collector, reach)
        if targets and ctx.rate.per_second is None:
            # A second directed pass to the addresses that stayed silent: an unpaced first
            # burst can lose datagrams while the kernel resolves a neighbour (its queue is
            # small), which hits whole subnets behind one router. Under --rate the sends are
            # paced already, and a second pass would double the time the limit costs.
            pause = time.monotonic() + min(_RETRY_PAUSE, wait / 3)
            while (left := pause - time.monotonic()) > 0:
                yield from collector.drain(left)
            silent = [a for a in targets if a not in collector.per_source]
            yield from _send_all(ctx, _directed_sends(plan, ctx, silent, pool), collector)
        end = time.monotonic() + wait
        stopped = False
        while (left := end - time.monotonic()) > 0 and collector.total < MAX_DATAGRAMS:
            if ctx.stopping.is_set():
                stopped = True
                break
            yield from collector.drain(min(left, _STOP_POLL_S))
        if reach is not None:
            reach.finish(_lost(collector, stopped or ctx.stopping.is_set()))
        if collector.dropped:
            logger.debug(
                "port %d: dropped %d replies (out of scope or flood)", plan.port, collector.dropped
            )
        name = channel or f"udp/{plan.port}"
        if collector.over_source_cap:
            ctx.note_discovery_cap(
                name,
                "sources",
                f"{name}: reply cap reached: {MAX_SOURCES_PER_ROUND:,} source addresses accepted "
                f"in one round, {collector.over_source_cap:,} replies from further sources "
                "dropped (a flood, possibly from forged addresses); devices past the cap are "
                "still found by the other channels",
            )
        if collector.total >= MAX_DATAGRAMS:
            ctx.note_discovery_cap(
                name,
                "replies",
                f"{name}: reply cap reached: {MAX_DATAGRAMS:,} replies read in one round; the "
                "rest of the round was not read",
            )
