"""Discovered hosts: the channels that report them, their services, and merging two sightings."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import StrEnum

from auditor.models.observations import IPAddress, Observation, ObservationKind, normalise_mac


class Channel(StrEnum):
    """The discovery channels that can report a host."""

    NMAP = "nmap"
    WS_DISCOVERY = "ws-discovery"
    SADP = "sadp"
    DHIP = "dhip"
    XMEYE = "xmeye"
    SSDP = "ssdp"
    MDNS = "mdns"
    IMPORT_NMAP = "import-nmap"
    IMPORT_CSV = "import-csv"
    TARGET = "target"
    """Listed as a single target by the user; probed even if no channel answered."""
    UNICAST = "unicast-check"
    """A host seen only in discovery replies answered camaudit's own unicast check (a TCP
    answer, even a refusal, or an ARP reply): it exists at that address (issue 13)."""


#: Channels that see a host only in a UDP discovery reply (multicast, broadcast or directed): its
#: source address is not authenticated, so anyone on the segment can forge it (issue 13).
UDP_DISCOVERY_CHANNELS = frozenset(
    {Channel.WS_DISCOVERY, Channel.SADP, Channel.DHIP, Channel.XMEYE, Channel.SSDP, Channel.MDNS}
)


@dataclass(frozen=True, slots=True)
class Service:
    """An open port and what a port scanner said about it."""

    port: int
    protocol: str = "tcp"
    name: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    device_type: str | None = None
    tunnel: str | None = None
    cpes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")
        if self.protocol not in ("tcp", "udp"):
            raise ValueError(f"protocol must be tcp or udp: {self.protocol!r}")


@dataclass(frozen=True, slots=True)
class Host:
    """A device address and what discovery learned about it, merged across channels."""

    address: IPAddress
    mac: str | None = None
    mac_vendor: str | None = None
    services: tuple[Service, ...] = ()
    seen_by: frozenset[Channel] = frozenset()
    endpoint_ids: frozenset[str] = frozenset()
    """WS-Discovery endpoint references and vendor discovery UUIDs tied to this address."""
    observations: tuple[Observation, ...] = ()
    """Evidence that discovery itself carried (SADP model and serial, ProbeMatch XML, ...)."""
    mac_on_wire: bool = False
    """The MAC was seen on the wire (ARP, the neighbour table, nmap), not claimed in a payload."""

    def __post_init__(self) -> None:
        # Accept the string form from parsers and the store.
        object.__setattr__(self, "address", ipaddress.ip_address(self.address))
        if self.mac is not None:
            object.__setattr__(self, "mac", normalise_mac(self.mac))
        ports = [(s.protocol, s.port) for s in self.services]
        if len(ports) != len(set(ports)):
            raise ValueError(f"duplicate service entries for {self.address}")

    @property
    def open_tcp_ports(self) -> frozenset[int]:
        return frozenset(s.port for s in self.services if s.protocol == "tcp")

    def merge(self, other: Host) -> Host:
        """Fold another sighting of the same address into this one.

        A later channel may add a MAC, ports and evidence; nothing already known is dropped.
        Conflicting MACs: the MAC seen on the wire (ARP, nmap) beats one a payload claims (SADP,
        DHIP, mDNS TXT...), else the first one stays; the losing MAC is kept as a
        ``mac.claimed`` observation, so the disagreement is evidence in the report.
        """
        if other.address != self.address:
            raise ValueError(f"cannot merge {other.address} into {self.address}")
        services = {(s.protocol, s.port): s for s in self.services}
        for s in other.services:
            known = services.get((s.protocol, s.port))
            # Prefer the richer description of a port (e.g. nmap -sV over a bare open port).
            if known is None or (known.product is None and s.product is not None):
                services[(s.protocol, s.port)] = s
        seen_obs = {o.sha256 for o in self.observations}
        extra = tuple(o for o in other.observations if o.sha256 not in seen_obs)
        winner, loser = self, other
        if self.mac is None or (other.mac_on_wire and not self.mac_on_wire and other.mac):
            winner, loser = other, self
        conflict = _mac_conflict(winner, loser)
        return Host(
            address=self.address,
            mac=winner.mac or loser.mac,
            mac_vendor=(winner.mac_vendor if winner.mac else loser.mac_vendor)
            or (loser.mac_vendor if loser.mac == winner.mac else None),
            services=tuple(sorted(services.values(), key=lambda s: (s.protocol, s.port))),
            seen_by=self.seen_by | other.seen_by,
            endpoint_ids=self.endpoint_ids | other.endpoint_ids,
            observations=self.observations + extra + conflict,
            mac_on_wire=winner.mac_on_wire if winner.mac else loser.mac_on_wire,
        )


def _mac_conflict(winner: Host, loser: Host) -> tuple[Observation, ...]:
    """The losing MAC of a merge, as evidence; nothing when both agree or one has none."""
    if not (winner.mac and loser.mac) or winner.mac == loser.mac:
        return ()
    times = [o.observed_at for o in (*loser.observations, *winner.observations)]
    if not times:
        return ()  # no time to stamp it with: nothing observed it but the Host itself
    channels = ",".join(sorted(str(c) for c in loser.seen_by)) or "discovery"
    return (Observation(ObservationKind.MAC_CLAIMED, loser.mac, channels, min(times)),)
