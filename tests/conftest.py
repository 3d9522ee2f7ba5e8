"""Shared pytest configuration: markers skip, with a clear reason, where a tool is missing."""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import NoReturn

import pytest

from auditor.context import NetContext
from auditor.discovery.interface import DiscoveryChannel
from auditor.models import Channel, Host, Observation, ObservationKind, Service
from auditor.probes import Probe
from auditor.probes.interface import ProbeName

# The PostgreSQL fixtures are shared by every folder that needs a real server.
from tests.pgcluster import (  # noqa: F401
    pg_cluster,
    pg_database,
    skip_postgres_items,
    store_location,
)


def _netns_available() -> str | None:
    """Return None when network namespaces can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root for ip netns (runs in CI, which is root)"
    if shutil.which("ip") is None:
        return "needs iproute2 (apt-get install iproute2)"
    probe = "camaudit-probe-ns"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.decode(errors='replace').strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    netns_reason: str | None = None
    netns_checked = False
    nmap_missing = shutil.which("nmap") is None
    for item in items:
        if "netns" in item.keywords:
            if not netns_checked:
                netns_reason = _netns_available()
                netns_checked = True
            if netns_reason:
                item.add_marker(pytest.mark.skip(reason=netns_reason))
        if "nmap" in item.keywords and nmap_missing:
            item.add_marker(pytest.mark.skip(reason="needs nmap (apt-get install nmap)"))
    skip_postgres_items(items)


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_folder():
    """No test reads the data bundles installed on this machine: an empty data folder for all.

    World-readable, outside pytest's root-only folder, so that the tests that run camaudit as an
    ordinary user can read it too (an unreadable data folder is an error, never skipped).
    """
    folder = tempfile.mkdtemp(prefix="camaudit-test-data-")
    os.chmod(folder, 0o755)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAMAUDIT_DATA_DIR", folder)
        yield
    shutil.rmtree(folder, ignore_errors=True)


# -- fakes for engine tests (issue 19): a probe and a discovery channel that send nothing ------


class FakeProbe(Probe):
    """A probe that answers from a script: each call is recorded, may take ``delay`` seconds,
    may run ``hook`` (e.g. stop the audit on one host), and reports one observation (none when
    ``value`` is empty)."""

    def __init__(
        self,
        name: str,
        delay: float = 0.0,
        hook: Callable[[Host], None] | None = None,
        kind: ObservationKind = ObservationKind.HTTP_HEADER,
        value: str = "Server: fake",
    ) -> None:
        self.name = ProbeName(name)  # type: ignore[misc]  # the ClassVar, per instance
        self.delay = delay
        self.hook = hook
        self.kind = kind
        self.value = value
        self.calls: list[Host] = []
        self._lock = threading.Lock()

    @property
    def addresses(self) -> list[str]:
        with self._lock:
            return [str(h.address) for h in self.calls]

    def run(self, host: Host, ctx: NetContext) -> Iterable[Observation]:
        with self._lock:
            self.calls.append(host)
        if self.hook is not None:
            self.hook(host)
        if self.delay:
            time.sleep(self.delay)
        if not self.value:
            return []  # the device said nothing (no answer to this question)
        return [Observation(self.kind, self.value, self.name, datetime.now(UTC), port=80)]


class FakeChannel(DiscoveryChannel):
    """A discovery channel that reports scripted hosts: ``delay`` seconds before each, and
    (with ``hold``) stays open until the event is set, like a channel waiting out its window."""

    def __init__(
        self,
        hosts: Iterable[Host],
        channel: Channel = Channel.NMAP,
        delay: float = 0.0,
        hold: threading.Event | None = None,
    ) -> None:
        self.channel = channel  # type: ignore[misc]
        self.hosts = tuple(hosts)
        self.delay = delay
        self.hold = hold
        self.finished = threading.Event()

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        try:
            for host in self.hosts:
                if self.delay:
                    time.sleep(self.delay)
                yield host
            while self.hold is not None and not self.hold.wait(0.02):
                if ctx.stopping.is_set():
                    return
        finally:
            self.finished.set()


def fake_host(address: str, channel: Channel = Channel.NMAP, ports: Iterable[int] = (80,)) -> Host:
    """A host as a port scan reports it: the address, its open ports, the channel."""
    return Host(
        ipaddress.ip_address(address),
        services=tuple(Service(p) for p in ports),
        seen_by=frozenset({channel}),
    )


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[object, ...]]:
    """Any attempt to open a socket fails the test (and is listed): the engine tests run on
    fakes alone."""
    attempts: list[tuple[object, ...]] = []

    def refuse(*args: object, **kwargs: object) -> NoReturn:
        attempts.append(args)
        raise AssertionError(f"a socket was opened: {args}")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "socketpair", refuse)
    return attempts
