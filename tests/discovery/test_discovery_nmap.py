"""The nmap channel: command line, a real scan of loopback listeners, and nmap missing."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.context import NetContext, RateLimiter
from auditor.discovery import DiscoveryError, discover_all
from auditor.discovery.nmap import NmapChannel, build_argv
from auditor.models import Channel
from auditor.ports import PortPlan
from auditor.scope import Scope


@pytest.fixture
def listeners() -> Iterator[list[socket.socket]]:
    socks = []
    for address, port in (("127.77.3.2", 18554), ("127.77.3.3", 18080), ("127.77.3.5", 18554)):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((address, port))
        s.listen(16)
        socks.append(s)
    yield socks
    for s in socks:
        s.close()


def ctx_for(*targets: str, excludes: tuple[str, ...] = (), rate: float | None = None) -> NetContext:
    return NetContext(
        scope=Scope.parse(list(targets), list(excludes)),
        timeout=1.0,
        rate=RateLimiter(rate),
        ports=PortPlan.from_ports([18080, 18554, 18999]),
        multicast=False,
    )


def test_argv_is_scoped_and_never_resolves() -> None:
    ctx = ctx_for("192.0.2.0/24", excludes=("192.0.2.7",), rate=50)
    scope = ctx.scope
    argv = build_argv(
        "nmap", ctx, scope.includes, scope.excludes, Path("/tmp/x.xml"), privileged=False
    )
    assert "-n" in argv and "-sT" in argv and "-sS" not in argv
    assert argv[argv.index("--exclude") + 1] == "192.0.2.7/32"
    assert argv[argv.index("--max-rate") + 1] == "50"
    assert argv[argv.index("-p") + 1] == "18080,18554,18999"
    # The targets are exactly the scope's networks, after "--" so none is read as an option.
    assert argv[argv.index("--") + 1 :] == ["192.0.2.0/24"]
    root = build_argv(
        "nmap", ctx, scope.includes, scope.excludes, Path("/tmp/x.xml"), privileged=True
    )
    assert "-sS" in root and "-sT" not in root


@pytest.mark.nmap
def test_real_scan_finds_open_ports_only_in_scope(listeners: list[socket.socket]) -> None:
    ctx = ctx_for("127.77.3.0/29", excludes=("127.77.3.5",))
    result = discover_all(ctx, ["nmap"])
    assert result.errors == ()
    found = {str(h.address): h.open_tcp_ports for h in result.hosts}
    # Loopback answers every address with RST; only hosts with an open port are reported,
    # and the excluded listener is not among them.
    assert found == {"127.77.3.2": {18554}, "127.77.3.3": {18080}}
    assert all(h.seen_by == {Channel.NMAP} for h in result.hosts)


@pytest.mark.nmap
def test_connect_scan_works_unprivileged(
    listeners: list[socket.socket], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("auditor.discovery.nmap.is_root", lambda: False)
    hosts = list(NmapChannel().discover(ctx_for("127.77.3.2")))
    assert [h.open_tcp_ports for h in hosts] == [{18554}]


def test_nmap_missing_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(DiscoveryError, match="apt-get install nmap"):
        list(NmapChannel().discover(ctx_for("127.77.3.2")))
    result = discover_all(ctx_for("127.77.3.2"), ["nmap"])
    assert result.hosts == ()
    assert result.errors[0][0] == "nmap" and "nmap is not installed" in result.errors[0][1]


def test_nmap_failure_is_reported_not_raised(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fake = tmp_path / "nmap"
    fake.write_text(
        "#!/bin/sh\necho 'You requested a scan type which requires root privileges.' >&2\nexit 1\n"
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr("auditor.discovery.nmap.is_root", lambda: False)
    with pytest.raises(DiscoveryError, match="run camaudit as root"):
        list(NmapChannel().discover(ctx_for("127.77.3.2")))


@pytest.mark.nmap
def test_ipv6_scope_runs_nmap_with_dash_6() -> None:
    s = socket.socket(socket.AF_INET6)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("::1", 18080))
    s.listen(4)
    try:
        hosts = list(NmapChannel().discover(ctx_for("::1")))
    finally:
        s.close()
    assert [(str(h.address), h.open_tcp_ports) for h in hosts] == [("::1", frozenset({18080}))]


def test_hosts_are_read_as_nmap_writes_them(tmp_path: Path) -> None:
    # Issue 16: a running nmap's XML is read for the host elements it has finished; one cut
    # at the read's end waits for the next read. A real nmap file, written in two pieces.
    from auditor.discovery.nmap import _XmlTail

    whole = (Path(__file__).parent / "assets" / "lab-loopback-sV.xml").read_bytes()
    cut = whole.index(b"<host ", whole.index(b"</host>")) + 40  # inside the second host
    out = tmp_path / "scan.xml"
    out.write_bytes(whole[:cut])
    tail = _XmlTail(out)
    first = tail.read()
    assert first is not None and [str(h.address) for h in first.hosts] == ["127.88.1.10"]
    assert tail.read() is None  # nothing new finished
    out.write_bytes(whole)
    rest = tail.read()
    assert rest is not None
    assert [str(h.address) for h in rest.hosts] == [f"127.88.1.{i}" for i in range(11, 16)]
