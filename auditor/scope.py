"""The audit scope: which addresses camaudit may contact. Every component asks it before sending.

Targets and exclusions accept CIDRs (``192.0.2.0/24``), ranges (``192.0.2.10-192.0.2.20`` or
``192.0.2.10-20``), single addresses, IPv6 in the same forms, and ``@file`` lists (one entry per
line, ``#`` comments). Names are refused on purpose: resolving them would send DNS queries and
could silently widen the scope.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from auditor.errors import ScopeError
from auditor.models import IPAddress

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: A scope larger than this needs --allow-large-scope (the issue's "more than a /16").
LARGE_SCOPE = 2**16

# Address space that is not routed on the public internet. A target outside all of these is
# "public" and needs --allow-public: scanning someone else's network by a typo is the accident
# this guard exists for.
_NON_PUBLIC = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "100.64.0.0/10",
        "192.0.2.0/24",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "198.18.0.0/15",
        "::1/128",
        "fc00::/7",
        "fe80::/10",
        "2001:db8::/32",
    )
)


_LINK_LOCAL = ipaddress.IPv6Network("fe80::/10")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_COMPATIBLE = ipaddress.IPv6Network("::/96")


def normalise_address(addr: IPAddress) -> IPAddress:
    """The IPv4 address behind an IPv4-mapped (``::ffff:a.b.c.d``) or IPv4-compatible
    (``::a.b.c.d``) IPv6 address; any other address unchanged (a zone kept).

    Both forms reach the IPv4 host on a dual-stack system, so a scope that compared them as
    IPv6 let ``::ffff:10.88.0.14`` past ``--exclude 10.88.0.14`` (issue 13).
    """
    if not isinstance(addr, ipaddress.IPv6Address):
        return addr
    if addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    bare = ipaddress.IPv6Address(int(addr))  # without the zone
    if bare in _COMPATIBLE and int(bare) > 1:  # :: and ::1 are not IPv4 addresses
        return ipaddress.IPv4Address(int(bare))
    return addr


def parse_address(text: str) -> IPAddress:
    """An address as written (brackets and a zone allowed), normalised: ValueError otherwise."""
    return normalise_address(ipaddress.ip_address(text.strip().strip("[]")))


def _normalise_network(net: Network) -> Network:
    if isinstance(net, ipaddress.IPv6Network) and net.prefixlen >= 96:
        for prefix in (_MAPPED, _COMPATIBLE):
            if net.subnet_of(prefix) and (prefix is _MAPPED or int(net.network_address) > 1):
                low = int(net.network_address) & 0xFFFFFFFF
                return ipaddress.IPv4Network((low, net.prefixlen - 96))
    return net


def zone_of(net: Network) -> str | None:
    """The interface a link-local network was given with (``fe80::1%eth0``), else None."""
    return net.network_address.scope_id if isinstance(net, ipaddress.IPv6Network) else None


def _bare(net: Network) -> Network:
    return ipaddress.ip_network((int(net.network_address), net.prefixlen)) if zone_of(net) else net


def is_link_local(net: Network) -> bool:
    bare = _bare(net)
    return isinstance(bare, ipaddress.IPv6Network) and bare.subnet_of(_LINK_LOCAL)


def _with_zone(net: Network, zone: str) -> Network:
    return ipaddress.IPv6Network(f"{_bare(net).network_address}%{zone}/{net.prefixlen}")


def _zoned(net: Network, interfaces: Sequence[str]) -> Network:
    """A link-local target with the one interface it is reached through; a usage error if none.

    ``fe80::1`` exists on every link: without a zone, multicast discovery went out of every
    interface the machine has (issue 13), and directed traffic cannot be routed at all.
    """
    if not is_link_local(net):
        return _bare(net)  # a zone on a global address means nothing
    zone = zone_of(net)
    if zone is None:
        if len(interfaces) != 1:
            bare = _bare(net)
            shown = bare.network_address if bare.num_addresses == 1 else bare
            raise ScopeError(
                f"link-local target {shown} needs an interface: write it with a zone "
                f"({bare.network_address}%eth0) or pass --interface once"
                + (f" (given: {', '.join(interfaces)})" if interfaces else "")
            )
        zone = interfaces[0]
    try:
        socket.if_nametoindex(zone)
    except OSError:
        raise ScopeError(
            f"link-local target {_bare(net).network_address}: no interface {zone!r} on this machine"
        ) from None
    return _with_zone(net, zone)


def _parse_range(text: str) -> list[Network]:
    start_text, _, end_text = text.partition("-")
    start = parse_address(start_text)
    end_text = end_text.strip()
    if isinstance(start, ipaddress.IPv4Address) and end_text.isdigit():
        # Short form 192.0.2.10-20: the end replaces the last octet.
        end: IPAddress = ipaddress.IPv4Address(".".join([*start_text.split(".")[:3], end_text]))
    else:
        end = parse_address(end_text)
    if type(start) is not type(end):
        raise ValueError("range mixes IPv4 and IPv6")
    if int(end) < int(start):
        raise ValueError("range ends before it starts")
    return list(ipaddress.summarize_address_range(start, end))


def parse_target(text: str) -> list[Network]:
    """Parse one target or exclusion entry (not ``@file``) into networks."""
    entry = text.strip()
    if not entry:
        raise ScopeError("empty target")
    try:
        if "/" in entry:
            return [_normalise_network(ipaddress.ip_network(entry, strict=False))]
        # A zone may hold a dash (fe80::1%ca-a0): that is an address, not a range.
        if "-" in entry and "%" not in entry.split("-", 1)[0]:
            return _parse_range(entry)
        return [ipaddress.ip_network(parse_address(entry))]
    except ValueError as exc:
        raise ScopeError(
            f"cannot parse target {entry!r}: {exc}. Use an address, a CIDR (192.0.2.0/24), a range "
            "(192.0.2.10-20) or @file; host names are not resolved"
        ) from None


#: A target list is addresses and networks, one a line: 4 MiB is ~250,000 lines.
MAX_TARGET_FILE_BYTES = 4 * 2**20


def expand_entries(entries: Iterable[str]) -> list[str]:
    """Expand ``@file`` entries into the lines of that file (comments and blanks dropped)."""
    out: list[str] = []
    for entry in entries:
        if entry.startswith("@"):
            path = Path(entry[1:])
            try:
                with path.open("rb") as fh:
                    raw = fh.read(MAX_TARGET_FILE_BYTES + 1)
                text = raw.decode("utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ScopeError(f"cannot read target list {path}: {exc}") from None
            if len(raw) > MAX_TARGET_FILE_BYTES:
                # /dev/zero, a log file given by mistake: refuse before it exhausts memory.
                raise ScopeError(
                    f"target list {path} is larger than {MAX_TARGET_FILE_BYTES // 2**20} MiB; "
                    "give addresses, CIDRs or ranges, one a line"
                )
            for line in text.splitlines():
                line = line.split("#", 1)[0].strip()
                if line:
                    out.append(line)
        else:
            out.append(entry)
    return out


def _is_public(net: Network) -> bool:
    net = _bare(net)
    return not any(net.version == n.version and net.subnet_of(n) for n in _NON_PUBLIC)  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Scope:
    """The set of addresses in the audit: included networks minus excluded ones."""

    includes: tuple[Network, ...]
    excludes: tuple[Network, ...] = ()
    skipped: frozenset[IPAddress] | None = None
    """Network and broadcast addresses of the IPv4 CIDRs the user gave, which are not probed.
    Listed addresses and ranges are probed whole even when they collapse into a network
    (192.0.2.16-31 becomes 192.0.2.16/28, yet .16 and .31 were asked for). None: every
    included network's edges are skipped (a Scope built without ``parse``)."""
    _zoned: tuple[tuple[Network, str | None], ...] = field(
        init=False, repr=False, compare=False, default=()
    )
    """Each include without its zone, and the zone: worked out once, as discovery asks the
    scope about every datagram of a flood."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "_zoned", tuple((_bare(n), zone_of(n)) for n in self.includes))

    @classmethod
    def parse(
        cls,
        targets: Iterable[str],
        excludes: Iterable[str] = (),
        *,
        allow_large: bool = False,
        allow_public: bool = False,
        interfaces: Sequence[str] = (),
    ) -> Scope:
        """``interfaces`` (--interface) gives link-local targets written without a zone theirs;
        a link-local target needs one or the other."""
        inc = [_zoned(n, interfaces) for e in expand_entries(targets) for n in parse_target(e)]
        # An exclusion holds on every link: its zone, if any, is dropped (the safe direction).
        exc = [_bare(n) for e in expand_entries(excludes) for n in parse_target(e)]
        if not inc:
            raise ScopeError("no targets given")
        scope = cls(
            includes=tuple(_collapse(inc)),
            excludes=tuple(_collapse(exc)),
            skipped=_cidr_edges(expand_entries(targets)),
        )
        scope.check_guards(allow_large=allow_large, allow_public=allow_public)
        return scope

    def check_guards(self, *, allow_large: bool, allow_public: bool) -> None:
        size = self.size
        if size > LARGE_SCOPE and not allow_large:
            raise ScopeError(
                f"the scope holds {size:,} addresses, more than a /16 ({LARGE_SCOPE:,}); "
                "pass --allow-large-scope if that is intended"
            )
        public = [str(n) for n in self.includes if _is_public(n)]
        if public and not allow_public:
            raise ScopeError(
                f"public address space in scope: {', '.join(public[:5])}; camaudit audits your own "
                "network, pass --allow-public only with written authorisation"
            )

    @property
    def size(self) -> int:
        """Addresses included (an upper bound: exclusions are not subtracted)."""
        return sum(n.num_addresses for n in self.includes)

    def __contains__(self, address: object) -> bool:
        try:
            addr = normalise_address(ipaddress.ip_address(address))  # type: ignore[arg-type]
        except ValueError:
            return False
        zone = addr.scope_id if isinstance(addr, ipaddress.IPv6Address) else None
        if zone:
            addr = ipaddress.IPv6Address(int(addr))
        if any(addr in n for n in self.excludes):
            return False
        # A link-local target is on one link: the same address heard on another is not it.
        return any(addr in net and not (zone and own and zone != own) for net, own in self._zoned)

    def addresses(self) -> Iterator[IPAddress]:
        """Every address to probe, in order, skipping exclusions and the network/broadcast
        addresses of IPv4 CIDRs the user gave."""
        skipped = self.skipped
        if skipped is None:
            skipped = frozenset(
                a
                for n in self.includes
                if n.version == 4 and n.prefixlen < 31
                for a in (n.network_address, n.broadcast_address)
            )
        for net in self.includes:
            zone = zone_of(net)
            for addr in _bare(net):
                if addr in skipped:
                    continue
                if not any(addr in n for n in self.excludes):
                    if zone:  # link-local: reachable only through its interface
                        addr = ipaddress.IPv6Address(f"{addr}%{zone}")
                    yield addr

    def with_zone(self, address: IPAddress) -> IPAddress:
        """A link-local address without a zone (as nmap reports it) given the zone of the target
        that holds it, so it can be reached and merges with what discovery saw on that link."""
        if not isinstance(address, ipaddress.IPv6Address) or address.scope_id:
            return address
        for net, zone in self._zoned:
            if zone and address in net:
                return ipaddress.IPv6Address(f"{address}%{zone}")
        return address

    def describe(self) -> tuple[str, ...]:
        return tuple(str(n) for n in self.includes)


def _cidr_edges(entries: list[str]) -> frozenset[IPAddress]:
    """Network/broadcast addresses of the IPv4 CIDR entries, unless an entry lists them."""
    edges: set[IPAddress] = set()
    listed: list[Network] = []
    for entry in entries:
        nets = parse_target(entry)
        if "/" not in entry:
            listed.extend(nets)
            continue
        for n in nets:
            if n.version == 4 and n.prefixlen < 31:
                edges.update((n.network_address, n.broadcast_address))
    return frozenset(a for a in edges if not any(a in n for n in listed))


def _collapse(nets: list[Network]) -> list[Network]:
    v4 = [n for n in nets if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in nets if isinstance(n, ipaddress.IPv6Network) and not zone_of(n)]
    out: list[Network] = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    # collapse_addresses drops zones (and would merge fe80::1%eth0 with fe80::1%eth1): per zone.
    zones = sorted({z for n in nets if (z := zone_of(n))})
    for zone in zones:
        same = [cast(ipaddress.IPv6Network, _bare(n)) for n in nets if zone_of(n) == zone]
        out += [_with_zone(n, zone) for n in ipaddress.collapse_addresses(same)]
    return out
