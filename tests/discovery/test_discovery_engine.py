"""discover_all: channels run at once, merge per address, failures become errors not crashes."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from ipaddress import ip_address

import pytest

from auditor.context import NetContext
from auditor.discovery import DiscoveryChannel, DiscoveryError, discover_all
from auditor.models import Channel, Host
from auditor.scope import Scope
from tests.discovery.conftest import Handler, Responder


class _Meeting(DiscoveryChannel):
    """A channel that waits, inside ``discover``, until every other one has started too: run one
    after another, the first would wait for the rest forever (the barrier breaks instead)."""

    channel = Channel.SADP

    def __init__(self, address: str, barrier: threading.Barrier) -> None:
        self.address, self.barrier = address, barrier

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        self.barrier.wait(timeout=30)  # raises BrokenBarrierError if the others never come
        yield Host(ip_address(self.address), seen_by=frozenset({self.channel}))


class _Broken(DiscoveryChannel):
    channel = Channel.DHIP

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        yield Host(ip_address("192.0.2.7"), seen_by=frozenset({self.channel}))
        raise RuntimeError("boom")


class _Refusing(DiscoveryChannel):
    channel = Channel.NMAP

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        yield from ()  # a generator, like every channel: it fails when iterated
        raise DiscoveryError("nmap is not installed")


class _Stray(DiscoveryChannel):
    channel = Channel.SSDP

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        yield Host(ip_address("198.51.100.1"), seen_by=frozenset({self.channel}))


def ctx() -> NetContext:
    return NetContext(scope=Scope.parse(["192.0.2.0/24"]), multicast=False)


def test_channels_run_concurrently_and_merge() -> None:
    meeting = threading.Barrier(3)
    seen: list[str] = []
    lock = threading.Lock()

    def on_host(host: Host) -> None:
        with lock:
            seen.append(str(host.address))

    result = discover_all(
        ctx(),
        [
            _Meeting("192.0.2.5", meeting),
            _Meeting("192.0.2.5", meeting),
            _Meeting("192.0.2.6", meeting),
        ],
        on_host,
    )
    # All three were inside discover() at once (else the barrier broke and each one failed).
    assert result.errors == ()
    assert not meeting.broken
    assert [str(h.address) for h in result.hosts] == ["192.0.2.5", "192.0.2.6"]
    assert sorted(seen) == ["192.0.2.5", "192.0.2.5", "192.0.2.6"]


def test_failures_are_errors_and_strays_are_dropped() -> None:
    result = discover_all(ctx(), [_Broken(), _Refusing(), _Stray()])
    assert [str(h.address) for h in result.hosts] == ["192.0.2.7"]  # kept what came before
    errors = dict(result.errors)
    assert errors["nmap"] == "nmap is not installed"
    assert "RuntimeError" in errors["dhip"]
    assert "ssdp" not in errors


def test_callback_failure_does_not_stop_discovery() -> None:
    def bad(host: Host) -> None:
        raise ValueError("display broke")

    result = discover_all(ctx(), [_Broken()], bad)
    assert len(result.hosts) == 1


def test_an_unknown_channel_name_is_refused_naming_the_registered_ones() -> None:
    # (The registry against the Channel enum: tests/test_registries.py.)
    with pytest.raises(ValueError, match="unknown discovery channel 'telepathy'; known: nmap, "):
        discover_all(ctx(), ["telepathy"])
    with pytest.raises(ValueError, match="unknown discovery channel 'import-csv'"):
        discover_all(ctx(), ["import-csv"])  # a Channel, but not a discovery channel


def test_loopback_scope_multicasts_nowhere() -> None:
    from auditor.discovery.netif import scoped_interfaces

    # Whatever interfaces this host has, none but lo carries 127/8, and lo is never used.
    assert scoped_interfaces(Scope.parse(["127.0.0.0/8"], allow_large=True)) == {4: (), 6: ()}


@pytest.mark.nmap
def test_large_scope_follow_up_probes_hosts_found_by_nmap(
    responders: Callable[[str, int, Handler], Responder],
) -> None:
    import socket

    from auditor.discovery import sadp
    from auditor.ports import PortPlan

    reply = b"<ProbeMatch><Types>inquiry</Types><MAC>c4-2f-90-00-00-05</MAC></ProbeMatch>"
    with_tcp = responders("127.77.8.5", sadp.PORT, lambda d, p: [reply])
    udp_only = responders("127.77.8.6", sadp.PORT, lambda d, p: [reply])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.77.8.5", 18090))
    listener.listen(4)
    try:
        # 8,192 addresses: too many for a directed sweep, so SADP has nothing to send to at
        # first; nmap finds 127.77.8.5 by its open port, and SADP follows up on it alone.
        scope = Scope.parse(["127.77.0.0/19"])
        ctx = NetContext(
            scope=scope, timeout=0.5, multicast=False, ports=PortPlan.from_ports([18090])
        )
        result = discover_all(ctx, ["nmap", "sadp"])
    finally:
        listener.close()
    (host,) = result.hosts
    assert str(host.address) == "127.77.8.5"
    assert {c.value for c in host.seen_by} == {"nmap", "sadp"} and host.mac == "c4:2f:90:00:00:05"
    assert with_tcp.received and udp_only.received == []
