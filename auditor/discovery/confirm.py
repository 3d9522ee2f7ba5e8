"""Does anything really answer at an address that only discovery replies named?

A UDP discovery reply's source address can be forged (issue 13: 3,000 phantom "cameras" from one
machine). A host seen only that way is confirmed when something at the address answers a unicast
exchange: a TCP connection (accepted, or refused with a reset: both come from the address) or,
on the local segment, an ARP reply (the kernel's neighbour table holds its hardware address after
any packet to it, even one a firewall then drops). A phantom answers neither.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path

from auditor.context import NetContext
from auditor.models import IPAddress

logger = logging.getLogger(__name__)

#: The calling thread's own network namespace (the lab audits from threads that entered one).
_ARP_TABLE = Path("/proc/thread-self/net/arp")
_ATF_COM = 0x2  # a completed neighbour entry (Linux include/uapi/linux/if_arp.h)


def arp_answered(address: IPAddress, table: Path = _ARP_TABLE) -> bool:
    """True if the neighbour table holds a completed entry for this IPv4 address."""
    if address.version != 4:
        return False
    try:
        lines = table.read_text(encoding="ascii", errors="replace").splitlines()[1:]
    except OSError:
        return False
    for line in lines:
        fields = line.split()
        if len(fields) >= 4 and fields[0] == str(address):
            with contextlib.suppress(ValueError):
                if int(fields[2], 16) & _ATF_COM and fields[3] != "00:00:00:00:00:00":
                    return True
    return False


def tcp_answered(ctx: NetContext, address: IPAddress, port: int) -> bool:
    """One TCP connection attempt: True if the address accepted or refused it."""
    if not ctx.allows(address):
        return False
    ctx.rate.acquire()
    try:
        with socket.create_connection((str(address), port), timeout=ctx.timeout):
            return True
    except ConnectionRefusedError:
        return True  # a reset comes from the address: something is there
    except OSError as exc:
        logger.debug("unicast check %s:%d: %s", address, port, exc)
        return False


def unicast_answer(ctx: NetContext, address: IPAddress, *, tried_tcp: bool) -> str | None:
    """How the address answered a unicast exchange ("arp", "tcp/80"), or None.

    ``tried_tcp``: a probe already tried a TCP exchange and got no answer; then only the
    neighbour table is read (that attempt resolved it), and no further traffic is sent.
    """
    if not tried_tcp and ctx.ports.ports:
        port = ctx.ports.ports[0]
        if tcp_answered(ctx, address, port):
            return f"tcp/{port}"
    return "arp" if arp_answered(address) else None
