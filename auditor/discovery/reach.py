"""What one multicast round reached: the segments its sends went out on, and whether every
reply that came back was read (issue 16: the directed follow-up goes only where it did not)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from auditor.discovery.netif import Interface
from auditor.models import IPAddress
from auditor.scope import Network


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
