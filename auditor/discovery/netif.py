"""The local interfaces that multicast discovery is sent from, and the networks on each.

Multicast goes only out of interfaces that carry an in-scope network: a probe on any other
interface would reach devices nobody asked to audit. Addresses come from getifaddrs(3) and flags
from it too (not /sys/class/net, which shows the namespace sysfs was mounted in, while a socket
call sees the namespace of the calling thread; the lab enters namespaces with setns).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import ipaddress
import logging
import socket
from collections.abc import Iterable
from dataclasses import dataclass

from auditor.scope import Network, Scope, is_link_local, zone_of

logger = logging.getLogger(__name__)

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    index: int
    networks: tuple[Network, ...] = ()
    flags: int = 0

    def carries(self, scope: Scope, version: int) -> bool:
        """True if a network of this IP version on the interface overlaps the scope.

        Every interface has fe80::/64: a link-local target is carried only by its own
        interface (its zone), never by all of them.
        """
        return any(
            net.version == version
            and net.overlaps(inc)
            and (not is_link_local(inc) or zone_of(inc) == self.name)
            for net in self.networks
            for inc in scope.includes
            if inc.version == version
        )


class _Sockaddr(ctypes.Structure):
    _fields_ = [("family", ctypes.c_ushort), ("data", ctypes.c_ubyte * 14)]


class _Sockaddr6(ctypes.Structure):
    _fields_ = [
        ("family", ctypes.c_ushort),
        ("port", ctypes.c_ushort),
        ("flowinfo", ctypes.c_uint32),
        ("addr", ctypes.c_ubyte * 16),
        ("scope_id", ctypes.c_uint32),
    ]


class _Ifaddrs(ctypes.Structure):
    pass


_Ifaddrs._fields_ = [
    ("next", ctypes.POINTER(_Ifaddrs)),
    ("name", ctypes.c_char_p),
    ("flags", ctypes.c_uint),
    ("addr", ctypes.POINTER(_Sockaddr)),
    ("netmask", ctypes.POINTER(_Sockaddr)),
    ("broadaddr", ctypes.POINTER(_Sockaddr)),
    ("data", ctypes.c_void_p),
]


def _ip(ptr: ctypes._Pointer[_Sockaddr]) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    if not ptr:
        return None
    family = ptr.contents.family
    if family == socket.AF_INET:
        return ipaddress.IPv4Address(bytes(ptr.contents.data[2:6]))
    if family == socket.AF_INET6:
        six = ctypes.cast(ptr, ctypes.POINTER(_Sockaddr6)).contents
        return ipaddress.IPv6Address(bytes(six.addr))
    return None


def _read_ifaddrs() -> dict[str, tuple[int, list[Network]]]:
    """Flags and networks per interface name, from getifaddrs(3)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    head = ctypes.POINTER(_Ifaddrs)()
    if libc.getifaddrs(ctypes.byref(head)) != 0:
        raise OSError(ctypes.get_errno(), "getifaddrs failed")
    out: dict[str, tuple[int, list[Network]]] = {}
    try:
        node = head
        while node:
            item = node.contents
            name = (item.name or b"").decode(errors="replace")
            flags, nets = out.setdefault(name, (int(item.flags), []))
            addr, mask = _ip(item.addr), _ip(item.netmask)
            if addr is not None and mask is not None and addr.version == mask.version:
                prefix = bin(int(mask)).count("1")
                nets.append(ipaddress.ip_network(f"{addr}/{prefix}", strict=False))
            node = item.next
    finally:
        libc.freeifaddrs(head)
    return out


def local_interfaces() -> tuple[Interface, ...]:
    try:
        table = {n: i for i, n in socket.if_nameindex()}
        found = _read_ifaddrs()
    except OSError as exc:
        logger.warning("cannot list network interfaces: %s", exc)
        return ()
    return tuple(
        Interface(name, index, tuple(found.get(name, (0, []))[1]), found.get(name, (0, []))[0])
        for name, index in sorted(table.items(), key=lambda item: item[1])
    )


def multicast_interfaces(names: Iterable[str] = ()) -> tuple[Interface, ...]:
    """The named interfaces, or every up non-loopback multicast one (before the scope filter)."""
    ifaces = local_interfaces()
    wanted = tuple(names)
    if wanted:
        known = {i.name for i in ifaces}
        for name in wanted:
            if name not in known:
                logger.warning("interface %s does not exist; no discovery is sent on it", name)
        return tuple(i for i in ifaces if i.name in wanted)
    return tuple(
        i
        for i in ifaces
        if i.flags & _IFF_UP and i.flags & _IFF_MULTICAST and not i.flags & _IFF_LOOPBACK
    )


def scoped_interfaces(scope: Scope, names: Iterable[str] = ()) -> dict[int, tuple[Interface, ...]]:
    """Per IP version, the multicast interfaces that carry an in-scope network."""
    candidates = multicast_interfaces(names)
    out = {v: tuple(i for i in candidates if i.carries(scope, v)) for v in (4, 6)}
    skipped = [i.name for i in candidates if not (i.carries(scope, 4) or i.carries(scope, 6))]
    if skipped:
        logger.info("no multicast discovery on %s: no in-scope network there", ", ".join(skipped))
    return out
