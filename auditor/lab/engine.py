"""Runs every device of a site in one asyncio loop on one background thread.

Sockets are made by a :class:`Binder` (loopback: bind each device's 127.x address; namespace
mode: bind to the device's own interface, join multicast groups), then handed to asyncio, so
the servers never care where they run. ``stop()`` always closes everything it opened.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import socket
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from auditor.lab import registry
from auditor.lab.device import Device
from auditor.lab.httpd import MAX_HEAD
from auditor.ports import PortPlan, Role

logger = logging.getLogger(__name__)

#: The standard scan ports and their roles (what a silent host pretends to filter).
DEFAULT_ROLES = PortPlan.default().roles

#: UDP discovery ports a silent host swallows (bound, never answering, no ICMP unreachable).
SILENT_UDP = (3702, 37020, 37810, 34569, 1900, 5353)


class Binder:
    """Makes the listening sockets for a device. Loopback flavour: bind the device address."""

    def tcp(self, device: Device, port: int, backlog: int = 128) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.prepare(sock, device)
            sock.bind((device.address, port))
            sock.listen(backlog)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def udp(self, device: Device, port: int, groups: Sequence[str]) -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self.prepare(sock, device)
            sock.bind((self.udp_bind_address(device), port))
            self.join(sock, device, groups)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return sock

    def prepare(self, sock: socket.socket, device: Device) -> None:
        """Hook for namespace mode (SO_BINDTODEVICE)."""

    def udp_bind_address(self, device: Device) -> str:
        return device.address

    def join(self, sock: socket.socket, device: Device, groups: Sequence[str]) -> None:
        """Loopback mode answers unicast probes only: no multicast membership."""


def raise_fd_limit(needed: int) -> None:
    """A 250-device site holds ~2,000 sockets; lift the soft limit towards the hard one."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 256
    if soft != resource.RLIM_INFINITY and soft < want:
        target = want if hard == resource.RLIM_INFINITY else min(hard, max(want, soft))
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def site_port_plan(devices: Sequence[Device]) -> PortPlan:
    """The TCP ports in use across the site, each with the role its service speaks."""
    roles: dict[int, Role] = {}
    for device in devices:
        for kind, cfg in device.profile.services.items():
            spec = registry.KINDS.get(kind)
            if spec is None or spec.transport != "tcp" or spec.role is None:
                continue
            actual = device.port(int(cfg.get("port", spec.default_port)))
            roles.setdefault(actual, spec.role)
        if "silent" in device.profile.services:
            for std in silent_tcp_ports(device):
                roles.setdefault(device.port(std), DEFAULT_ROLES.get(std, Role.HTTP))
    return PortPlan(dict(sorted(roles.items())))


def silent_tcp_ports(device: Device) -> tuple[int, ...]:
    cfg = device.profile.services.get("silent", {})
    return tuple(int(p) for p in cfg.get("tcp", sorted(DEFAULT_ROLES)))


class SiteEngine:
    """The devices' servers, in one event loop on one daemon thread."""

    def __init__(
        self,
        devices: Sequence[Device],
        binder: Binder | None = None,
        wsd_delay: float = 0.0,
        thread_setup: Callable[[], None] | None = None,
    ) -> None:
        self.devices = list(devices)
        self.binder = binder or Binder()
        self.wsd_delay = wsd_delay
        self.thread_setup = thread_setup
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._closers: list[Callable[[], None]] = []
        self._tmp = tempfile.TemporaryDirectory(prefix="camaudit-lab-")

    # --- lifecycle ----------------------------------------------------------------------
    def start(self, timeout: float = 60.0) -> None:
        raise_fd_limit(12 * len(self.devices))
        self._thread = threading.Thread(target=self._run, name="camaudit-lab", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            self.stop()
            raise TimeoutError("lab site did not start in time")
        if self._error is not None:
            error = self._error
            self.stop()
            raise error

    def stop(self) -> None:
        loop, stop = self._loop, self._stop
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # loop already finished
                loop.call_soon_threadsafe(stop.set)
        if self._thread is not None:
            self._thread.join(30)
            self._thread = None
        self._tmp.cleanup()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            if self.thread_setup is not None:
                self.thread_setup()
            self._stop = asyncio.Event()
            loop.run_until_complete(self._start_all())
        except BaseException as exc:  # reported to the starting thread
            self._error = exc
            self._ready.set()
            self._close_all(loop)
            return
        self._ready.set()
        try:
            loop.run_until_complete(self._stop.wait())
        finally:
            self._close_all(loop)

    def _close_all(self, loop: asyncio.AbstractEventLoop) -> None:
        for close in reversed(self._closers):
            with contextlib.suppress(Exception):
                close()
        self._closers.clear()
        with contextlib.suppress(Exception):
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    # --- servers ------------------------------------------------------------------------
    async def _start_all(self) -> None:
        ctx = registry.BuildContext(workdir=Path(self._tmp.name), wsd_delay=self.wsd_delay)
        for device in self.devices:
            await self._start_device(device, ctx)

    async def _start_device(self, device: Device, ctx: registry.BuildContext) -> None:
        loop = asyncio.get_running_loop()
        for kind, cfg in device.profile.services.items():
            if kind == "silent":
                self._start_silent(device)
                continue
            spec = registry.KINDS[kind]
            port = device.port(int(cfg.get("port", spec.default_port)))
            built = registry.build(kind, device, cfg, ctx)
            if isinstance(built, registry.TcpService):
                sock = self.binder.tcp(device, port)
                server = await asyncio.start_server(
                    built.handler,
                    sock=sock,
                    ssl=built.ssl,
                    limit=MAX_HEAD,
                    ssl_handshake_timeout=10.0 if built.ssl else None,
                )
                self._closers.append(server.close)
            else:
                usock = self.binder.udp(device, port, built.groups)
                transport, _ = await loop.create_datagram_endpoint(built.protocol, sock=usock)
                self._closers.append(transport.close)

    def _start_silent(self, device: Device) -> None:
        """Ports that drop every SYN: a listener whose accept queue (backlog 0) we fill ourselves.

        Linux drops a SYN when the accept queue is full, so clients time out exactly as behind a
        DROP firewall, without root. UDP ports are bound and never answer.
        """
        # A set: on loopback 554 moves to 10554, which the default plan also lists.
        for port in sorted({device.port(std) for std in silent_tcp_ports(device)}):
            listener = self.binder.tcp(device, port, backlog=0)
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                filler.connect(listener.getsockname())
            self._closers += [listener.close, filler.close]
        cfg = device.profile.services.get("silent", {})
        for uport in sorted({device.port(int(std)) for std in cfg.get("udp", SILENT_UDP)}):
            usock = self.binder.udp(device, uport, ())
            self._closers.append(usock.close)
