"""The local interfaces that multicast discovery is sent from.

Flags come from the SIOCGIFFLAGS ioctl, not /sys/class/net: sysfs shows the network namespace it
was mounted in, while a socket sees the namespace of the calling thread (the lab and containers
run discovery in a namespace entered with setns).
"""

from __future__ import annotations

import fcntl
import logging
import socket
import struct
from dataclasses import dataclass

logger = logging.getLogger(__name__)

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000
_SIOCGIFFLAGS = 0x8913


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    index: int


def _flags(name: str) -> int | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            req = struct.pack("16sH14s", name.encode()[:15], 0, b"")
            return int(struct.unpack_from("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, req))[1])
    except (OSError, ValueError, struct.error):
        return None


def multicast_interfaces(names: tuple[str, ...] = ()) -> tuple[Interface, ...]:
    """The interfaces to send multicast on: the named ones, or every up non-loopback one.

    A named interface that does not exist is skipped with a warning rather than failing the
    whole channel: the user may have listed an interface of another host in a shared config.
    """
    try:
        table = {n: i for i, n in socket.if_nameindex()}
    except OSError:
        return ()
    if names:
        picked = []
        for name in names:
            if name in table:
                picked.append(Interface(name, table[name]))
            else:
                logger.warning("interface %s does not exist; not sending discovery on it", name)
        return tuple(picked)
    out = []
    for name, index in sorted(table.items(), key=lambda item: item[1]):
        flags = _flags(name)
        # If the flags cannot be read (unusual), fall back to "every non-lo interface".
        if flags is None:
            if name != "lo":
                out.append(Interface(name, index))
            continue
        if flags & _IFF_UP and flags & _IFF_MULTICAST and not flags & _IFF_LOOPBACK:
            out.append(Interface(name, index))
    return tuple(out)
