"""The sockets of a UDP discovery round: receive buffers, group membership, one send, and the
kernel's count of replies it dropped."""

from __future__ import annotations

import contextlib
import logging
import socket
import struct
from collections.abc import Sequence

from auditor.discovery.netif import Interface

logger = logging.getLogger(__name__)

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
BROADCAST = "255.255.255.255"
#: Linux IP_PKTINFO (typeshed lacks the constant on some platforms).
_IP_PKTINFO: int = getattr(socket, "IP_PKTINFO", 8)
#: Linux SO_RCVBUFFORCE: a receive buffer above net.core.rmem_max (CAP_NET_ADMIN only).
_SO_RCVBUFFORCE: int = getattr(socket, "SO_RCVBUFFORCE", 33)
#: Linux SO_MEMINFO (since 4.12): the socket's memory counters; the ninth is datagrams the
#: kernel dropped because the receive buffer was full.
_SO_MEMINFO: int = getattr(socket, "SO_MEMINFO", 55)
_MEMINFO = struct.Struct("=9I")


def _set_rcvbuf(sock: socket.socket, size: int, force: bool) -> None:
    if force:
        try:
            sock.setsockopt(socket.SOL_SOCKET, _SO_RCVBUFFORCE, size)
            return
        except OSError:  # not permitted: as much as net.core.rmem_max allows
            pass
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)


def open_socket(family: socket.AddressFamily, multicast: bool = False) -> socket.socket:
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


def mreqn(group: str, iface: Interface) -> bytes:
    # Linux accepts struct ip_mreqn (group, local address, ifindex) so no interface address
    # lookup is needed: the index picks the interface.
    return struct.pack("=4s4si", socket.inet_aton(group), b"\0\0\0\0", iface.index)


def group_listener(
    group: str | None, port: int, ifaces: Sequence[Interface]
) -> socket.socket | None:
    """A socket joined to ``group`` on ``port`` (devices that answer to the group, not to us)."""
    if group is None or not ifaces:
        return None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setblocking(False)
        _set_rcvbuf(sock, _RCVBUF_MULTICAST, force=True)
        sock.bind(("", port))
        for iface in ifaces:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn(group, iface))
    except OSError as exc:
        logger.debug("cannot listen on group port %d: %s", port, exc)
        sock.close()
        return None
    return sock


def send_datagram(
    sock: socket.socket, dest: tuple[object, ...], payload: bytes, iface: Interface | None
) -> bool:
    """Send one datagram; False if the kernel refused it (logged, the round goes on)."""
    try:
        if iface is not None and dest[0] == BROADCAST:
            # IP_PKTINFO picks the outgoing interface per datagram without root (SO_BINDTODEVICE
            # would need CAP_NET_RAW) and without a route to 255.255.255.255.
            pktinfo = struct.pack("=i4s4s", iface.index, b"\0\0\0\0", b"\0\0\0\0")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
            sock.sendmsg([payload], [(socket.IPPROTO_IP, _IP_PKTINFO, pktinfo)], 0, dest)
            return True
        if iface is not None and sock.family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, iface.index)
        elif iface is not None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, mreqn("0.0.0.0", iface))
        sock.sendto(payload, dest)
    except OSError as exc:
        # ENETUNREACH, EADDRNOTAVAIL (no IPv6 on the interface), ENOBUFS: one destination
        # failing must not stop the round.
        logger.debug("send to %s failed: %s", dest, exc)
        return False
    return True


def dropped(sock: socket.socket) -> int | None:
    """Datagrams the kernel dropped for ``sock`` (its receive buffer was full); None if unknown."""
    try:
        raw = sock.getsockopt(socket.SOL_SOCKET, _SO_MEMINFO, _MEMINFO.size)
    except OSError:
        return None
    if len(raw) < _MEMINFO.size:
        return None
    return int(_MEMINFO.unpack(raw)[8])
