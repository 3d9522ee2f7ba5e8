"""The local interfaces that multicast discovery is sent from (Linux: /sys/class/net)."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_IFF_UP = 0x1
_IFF_LOOPBACK = 0x8
_IFF_MULTICAST = 0x1000
_SYS_NET = Path("/sys/class/net")


@dataclass(frozen=True, slots=True)
class Interface:
    name: str
    index: int


def _flags(name: str) -> int | None:
    try:
        return int((_SYS_NET / name / "flags").read_text().strip(), 16)
    except (OSError, ValueError):
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
        # Without /sys (unusual), fall back to "every non-lo interface" rather than none.
        if flags is None:
            if name != "lo":
                out.append(Interface(name, index))
            continue
        if flags & _IFF_UP and flags & _IFF_MULTICAST and not flags & _IFF_LOOPBACK:
            out.append(Interface(name, index))
    return tuple(out)
