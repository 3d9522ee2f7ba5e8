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
import struct
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from auditor.context import NetContext
from auditor.discovery.netif import Interface, scoped_interfaces
from auditor.models import IPAddress
from auditor.scope import Network, normalise_address

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
#: Receive buffer of a directed-probe socket (each carries a bounded share of the sends).
_RCVBUF = 1 << 22
#: Receive buffer of the sockets a multicast round's replies come to. One multicast probe makes
#: every device on the segment answer at once; what does not fit while the reader parses is
#: dropped by the kernel (``Reach`` notices). A reply of 1.2 KB takes 2,304 bytes of buffer, so
#: net.core.rmem_max's default (208 KiB, doubled by the kernel) holds about 185 replies; this
#: (16 MiB once doubled) about 7,000: every reply of a round at the source cap (1,024 devices
#: answering WS-Discovery's two probes, each sent twice) even if the reader stalls. Asked with
#: SO_RCVBUFFORCE where permitted (root, CAP_NET_ADMIN): SO_RCVBUF stops at rmem_max. Memory is
#: only taken while replies wait to be read.
_RCVBUF_MULTICAST = 1 << 23
_RETRY_PAUSE = 0.5
#: Bytes of directed probes per sending socket (well under the default 208 KiB send buffer).
_SOCKET_BUDGET = 64 * 1024
_BROADCAST = "255.255.255.255"
#: Linux IP_PKTINFO (typeshed lacks the constant on some platforms).
_IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)
#: Linux SO_RCVBUFFORCE: a receive buffer above net.core.rmem_max (CAP_NET_ADMIN only).
_SO_RCVBUFFORCE: int = getattr(socket, "SO_RCVBUFFORCE", 33)
#: Linux SO_MEMINFO (since 4.12): the socket's memory counters; the ninth is datagrams the
#: kernel dropped because the receive buffer was full.
_SO_MEMINFO: int = getattr(socket, "SO_MEMINFO", 55)
_MEMINFO = struct.Struct("=9I")


@dataclass(frozen=True, slots=True)
class Segment:
    """An interface network that a round's multicast or broadcast went out on."""

    interface: str
    network: Network

    def holds(self, address: IPAddress) -> bool:
        if address.version != self.network.version or address not in self.network:
            return False
        # A link-local address is on this segment only through its own interface (its zone).
        return not address.is_link_local or address.version == 4 or _zone(address) == self.interface


def _zone(address: IPAddress) -> str | None:
    return address.scope_id if isinstance(address, ipaddress.IPv6Address) else None


class Reach:
    """What one multicast round reached, filled in by ``exchange`` as it runs.

    ``covers(address)`` is True for an address on a segment where the round's multicast or
    broadcast went out, when every reply that came back was read: the device got the probe, so
    if it stayed silent, a directed probe would only repeat the question. Anything else (no
    multicast sent, a failed send, a reply cap reached, the kernel dropping replies, a stopped
    round) leaves the address uncovered, and the directed follow-up goes to it as before.
    """

    def __init__(self) -> None:
        self._segments: dict[Segment, None] = {}
        self.complete = False
        """The round ran its whole window and lost no reply that reached this host."""
        self.lost = "the round did not finish"
        """Why the round is not complete (for the log), empty when it is."""

    def sent_on(self, iface: Interface, version: int) -> None:
        for net in iface.networks:
            if net.version == version:
                self._segments.setdefault(Segment(iface.name, net), None)

    @property
    def segments(self) -> tuple[Segment, ...]:
        return tuple(self._segments)

    def finish(self, lost: str) -> None:
        self.lost = lost
        self.complete = not lost

    def covers(self, address: IPAddress) -> bool:
        return self.complete and any(s.holds(address) for s in self._segments)


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


def _set_rcvbuf(sock: socket.socket, size: int, force: bool) -> None:
    if force:
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size)
            return
        except OSError:  # not permitted: as much as net.core.rmem_max allows
            pass
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def _open(family: socket.AddressFamily, multicast: bool = False) -> socket.socket:
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setblocking(False)
    if multicast:
        _set_rcvbuf(sock, _RCVBUF_MULTICAST, force=True)
    else:
        _set_rcvbuf(sock, _RCVBUF, force=False)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind(("::", 0))
    else:
        sock.bind(("0.0.0.0", 0))
    return sock


def _mreqn(group: str, iface: Interface) -> bytes:
    # Linux accepts struct ip_mreqn (group, local address, ifindex) so no interface address
    # lookup is needed: the index picks the interface.
    return struct.pack("=4s4si", socket.inet_aton(group), b"\0\0\0\0", iface.index)


def _group_listener(plan: UdpPlan, ifaces: Sequence[Interface]) -> socket.socket | None:
    if plan.group_v4 is None or not ifaces:
        return None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setblocking(False)
        _set_rcvbuf(sock, _RCVBUF_MULTICAST, force=True)
        sock.bind(("", plan.port))
        for iface in ifaces:
            with contextlib.suppress(OSError):
                sock.setsockopt(
                    socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, _mreqn(plan.group_v4, iface)
                )
    except OSError as exc:
        logger.debug("cannot listen on group port %d: %s", plan.port, exc)
        sock.close()
        return None
    return sock


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
                    yield v4, (_BROADCAST, plan.port), payload, iface
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


def _send(
    sock: socket.socket, dest: tuple[object, ...], payload: bytes, iface: Interface | None
) -> bool:
    """Send one datagram; False if the kernel refused it (logged, the round goes on)."""
    try:
        if iface is not None and dest[0] == _BROADCAST:
            # IP_PKTINFO picks the outgoing interface per datagram without root (SO_BINDTODEVICE
            # would need CAP_NET_RAW) and without a route to 255.255.255.255.
            pktinfo = struct.pack("=i4s4s", iface.index, b"\0\0\0\0", b"\0\0\0\0")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.sendmsg([payload], [(socket.IPPROTO_IP, _IP_PKTINFO, pktinfo)], 0, dest)
            return True
        if iface is not None and sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, iface.index)
        elif iface is not None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, _mreqn("0.0.0.0", iface))
        sock.sendto(payload, dest)
    except OSError as exc:
        # ENETUNREACH, EADDRNOTAVAIL (no IPv6 on the interface), ENOBUFS: one destination
        # failing must not stop the round.
        logger.debug("send to %s failed: %s", dest, exc)
        return False
    return True


def _dropped(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for ``sock`` (its receive buffer was full); None if unknown."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, _SO_MEMINFO, _MEMINFO.size)
    except OSError:
        return None
    if len(raw) < _MEMINFO.size:
        return None
    return int(_MEMINFO.unpack(raw)[8])


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
        counts = [_dropped(sock) for sock in self.socks]
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
                sock = self.stack.enter_context(_open(family))
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
        if _send(sock, dest, payload, iface) and iface is not None and reach is not None:
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
        v4 = stack.enter_context(_open(socket.AF_INET, multicast=bool(ifaces.get(4))))
        socks = [v4]
        v6: socket.socket | None = None
        try:
            v6 = stack.enter_context(_open(socket.AF_INET6, multicast=bool(ifaces.get(6))))
            socks.append(v6)
        except OSError as exc:  # IPv6 disabled on this host: IPv4 discovery still runs
            logger.debug("no IPv6 socket: %s", exc)
        listener = _group_listener(plan, ifaces.get(4, ())) if plan.listen_group else None
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
