"""What a UDP round reached: the segments its multicast went out on, and whether it lost replies.

The engine skips the directed follow-up only for hosts a complete multicast round covered; these
tests hold the two halves of "complete" on loopback (no root): a round that multicast nowhere
covers nothing, and a round whose receive buffer overflowed says so (the kernel's own count).
"""

from __future__ import annotations

import ipaddress
import os
import socket
import time
from collections.abc import Callable

import pytest

from auditor.context import NetContext
from auditor.discovery import udp, udpsock
from auditor.discovery.netif import Interface
from auditor.discovery.reach import Reach, Segment
from auditor.discovery.udp import UdpPlan, exchange
from auditor.scope import Scope
from tests.discovery.conftest import Handler, Responder

PORT = 47_911
ADDRESS = "127.77.9.5"


def test_a_segment_holds_its_own_addresses_and_link_local_ones_only_through_its_zone() -> None:
    v4 = Segment("eth0", ipaddress.ip_network("10.204.0.0/19"))
    assert v4.holds(ipaddress.ip_address("10.204.31.254"))
    assert not v4.holds(ipaddress.ip_address("10.204.32.1"))
    assert not v4.holds(ipaddress.ip_address("::ffff:10.204.0.9"))
    link = Segment("eth0", ipaddress.ip_network("fe80::/64"))
    assert link.holds(ipaddress.ip_address("fe80::1%eth0"))
    assert not link.holds(ipaddress.ip_address("fe80::1%eth1"))


def test_a_complete_round_covers_only_the_networks_of_the_version_it_sent() -> None:
    reach = Reach()
    eth0 = Interface(
        "eth0",
        2,
        (ipaddress.ip_network("10.204.0.0/19"), ipaddress.ip_network("2001:db8:1::/64")),
    )
    reach.sent_on(eth0, 4)
    inside = ipaddress.ip_address("10.204.3.4")
    assert not reach.covers(inside)  # not finished yet: it may still lose replies
    reach.finish("")
    assert reach.covers(inside)
    # The IPv6 multicast did not go out (no send succeeded): its network is not covered.
    assert not reach.covers(ipaddress.ip_address("2001:db8:1::9"))
    reach.finish("the receive buffer overflowed (3 replies dropped)")
    assert not reach.covers(inside)


def _ctx(timeout: float = 0.6) -> NetContext:
    return NetContext(scope=Scope.parse([f"{ADDRESS}/32"]), timeout=timeout, multicast=False)


def test_a_round_without_multicast_covers_nothing(
    responders: Callable[[str, int, Handler], Responder],
) -> None:
    responders(ADDRESS, PORT, lambda data, peer: [b"here"])
    reach = Reach()
    plan = UdpPlan(PORT, (b"who",), group_v4="239.255.255.250")
    replies = list(exchange(_ctx(), plan, reach=reach))
    assert [r.data for r in replies] == [b"here"]
    # Complete (nothing lost), but it went out on no segment: every host keeps its follow-up.
    assert reach.complete and reach.segments == ()
    assert not reach.covers(ipaddress.ip_address(ADDRESS))


def _burst(data: bytes, peer: tuple[str, int]) -> list[bytes]:
    return [bytes([i]) * 1200 for i in range(udp.MAX_DATAGRAMS_PER_SOURCE)]


def test_replies_the_kernel_dropped_make_the_round_incomplete(
    responders: Callable[[str, int, Handler], Responder], monkeypatch: pytest.MonkeyPatch
) -> None:
    responders(ADDRESS, PORT, _burst)
    plan = UdpPlan(PORT, (b"who",))
    # With the buffer as set for discovery, a reader that keeps up loses nothing ...
    reach = Reach()
    assert len(list(exchange(_ctx(), plan, reach=reach))) == udp.MAX_DATAGRAMS_PER_SOURCE
    assert reach.complete and reach.lost == ""
    # ... and with the smallest buffer the kernel allows, a reader that stalls on the first
    # reply loses the burst behind it, and the round says so.
    monkeypatch.setattr(udpsock, "_RCVBUF", 1)
    reach = Reach()
    got = 0
    for _ in exchange(_ctx(), plan, reach=reach):
        if not got:
            time.sleep(0.3)
        got += 1
    assert got < udp.MAX_DATAGRAMS_PER_SOURCE
    assert not reach.complete
    assert (
        reach.lost
        == f"the receive buffer overflowed ({udp.MAX_DATAGRAMS_PER_SOURCE - got} replies dropped)"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="SO_RCVBUFFORCE needs root (CAP_NET_ADMIN)")
def test_a_multicast_round_buffers_a_burst_of_thousands_of_replies() -> None:
    for family in (socket.AF_INET, socket.AF_INET6):
        with udpsock.open_socket(family, multicast=True) as sock:
            # The kernel reports twice what was granted: 16 MiB holds about 7,000 replies of
            # 1.2 KB. SO_RCVBUF alone stops at net.core.rmem_max (208 KiB by default).
            assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == 2 * (1 << 23)
