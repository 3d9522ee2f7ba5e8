"""Namespace mode: a real L2 site where every device has its own address and its own MAC.

Layout (all names start with ``ca-<tag>-``; nothing is created in the host's namespace)::

    ca-<tag>-a (auditor)          ca-<tag>-s (site)
      ca-a0 ──veth── ca-ap ─┐
                            ca-br0 ── ca-pb ──veth── ca-p0 ─┬─ macvlan ca-d1 (MAC, IP of device 1)
      ca-<tag>-r (router)   │                               ├─ macvlan ca-d2 ...
      ca-r0 ──veth── ca-rp ─┘
      ca-r1 ──veth── ca-rq ── ca-br1 ── ca-qb ──veth── ca-q0 ── macvlans of the routed subnet

Devices are macvlans (bridge mode) in one site namespace, served by one asyncio thread whose
sockets are bound to each device's interface (SO_BINDTODEVICE), so replies leave with the right
MAC. ``arp_ignore=1``/``arp_announce=2`` stop ARP flux: only the interface owning an address
answers ARP for it. Multicast discovery works for real: each device's UDP socket joins the
groups on its own interface.
"""

from __future__ import annotations

import ipaddress
import itertools
import logging
import os
import random
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

from auditor.errors import ConfigError
from auditor.lab import nsutil, topology
from auditor.lab.device import Device
from auditor.lab.engine import SiteEngine
from auditor.lab.profiles import LAB_USERNAME, DeviceProfile, load_profiles
from auditor.lab.site import RunningSite, resolve_profiles

logger = logging.getLogger(__name__)
T = TypeVar("T")

_tags = itertools.count()


#: Profiles a ``count=N`` site cycles through (every shipped profile, in a stable order).
def default_mix(profiles: dict[str, DeviceProfile]) -> list[str]:
    return sorted(profiles)


def _outside(nets: Sequence[ipaddress.IPv4Network]) -> str:
    for candidate in ("192.0.2.254", "198.51.100.254", "203.0.113.254", "10.255.255.254"):
        addr = ipaddress.IPv4Address(candidate)
        if not any(addr in net for net in nets):
            return candidate
    return "10.255.255.254"


class NamespaceSite(RunningSite):
    """A site in network namespaces (root only). Use as a context manager, or start()/stop()."""

    def __init__(
        self,
        devices: Sequence[str | DeviceProfile] | None = None,
        count: int | None = None,
        subnet: str = "192.0.2.0/24",
        routed_subnet: str | None = None,
        routed_devices: Sequence[str | DeviceProfile] = (),
        sparse: bool = False,
        tag: str | None = None,
        clock_skew: float | None = None,
        wsd_delay: float = 0.0,
        profiles: dict[str, DeviceProfile] | None = None,
        seed: int = 1,
        static_arp: bool | None = None,
    ) -> None:
        known = profiles or load_profiles()
        if devices is None:
            if count is None:
                raise ValueError("give devices=[...] or count=N")
            mix = default_mix(known)
            devices = [mix[i % len(mix)] for i in range(count)]
        self.profiles = resolve_profiles(devices, known)
        self.routed_profiles = resolve_profiles(routed_devices, known) if routed_devices else []
        self.subnet = ipaddress.IPv4Network(subnet)
        self.routed_subnet = ipaddress.IPv4Network(routed_subnet) if routed_subnet else None
        for net in (self.subnet, self.routed_subnet):
            # Even inside namespaces, plan only documentation/private space: an address that
            # exists elsewhere must never be confused with a lab device.
            if net is not None and not (net.is_private and not net.is_loopback):
                raise ValueError(f"{net} is not a private or documentation range")
        if self.routed_profiles and self.routed_subnet is None:
            self.routed_subnet = ipaddress.IPv4Network("198.51.100.0/24")
        self.sparse = sparse
        self.clock_skew = clock_skew
        self.wsd_delay = wsd_delay
        self.seed = seed
        #: Permanent neighbour entries for the auditor's side of a big site: the kernel's ARP
        #: table is shared by all namespaces and capped (gc_thresh3, 1,024 by default), while
        #: permanent entries do not count. nmap -sn still ARPs for real (raw frames).
        self.static_arp = (
            len(self.profiles) + len(self.routed_profiles) > 400
            if static_arp is None
            else static_arp
        )
        self.tag = tag or f"t{os.getpid() % 100000}{next(_tags)}"
        # Namespace names are file names under /run/netns (interface names inside are fixed).
        self.prefix = nsutil.lab_prefix(self.tag)
        # The roles are nsutil.ROLES, which `lab down` deletes by exact name.
        self.site_netns = f"{self.prefix}s"
        self.auditor_netns = f"{self.prefix}a"
        self.router_netns = f"{self.prefix}r"
        self.auditor_interface = "ca-a0"
        self.routed_gateway = ""
        self.devices: list[Device] = []
        self._engine: SiteEngine | None = None
        self._plan()

    # --- address plan -------------------------------------------------------------------
    def _plan(self) -> None:
        hosts = self.subnet.num_addresses - 2
        n = len(self.profiles)
        if n + 2 > hosts:
            raise ValueError(f"{n} devices do not fit in {self.subnet}")
        first = self.subnet.network_address + 1
        self.auditor_address = str(first)
        self.router_address = str(self.subnet.broadcast_address - 1)
        reserved = {int(first), int(self.subnet.broadcast_address - 1)}
        if self.sparse:
            rng = random.Random(self.seed)
            pool = range(int(first) + 1, int(self.subnet.broadcast_address) - 1)
            picks = sorted(rng.sample(pool, n))
        else:
            start = int(first) + (9 if n + 10 < hosts else 1)
            picks = [a for a in range(start, start + n + 2) if a not in reserved][:n]
        nets = [self.subnet] + ([self.routed_subnet] if self.routed_subnet else [])
        outside = _outside(nets)
        skew = self.clock_skew
        self.devices = []
        for i, (profile, addr) in enumerate(zip(self.profiles, picks, strict=True)):
            dev = Device(
                profile,
                i + 1,
                str(ipaddress.IPv4Address(addr)),
                {},
                profile.clock_skew if skew is None else skew,
                outside,
            )
            dev.interface = f"ca-d{i + 1}"
            self.devices.append(dev)
        if self.routed_subnet is not None:
            self.routed_gateway = str(self.routed_subnet.network_address + 1)
            rhosts = list(itertools.islice(self.routed_subnet.hosts(), 9, None))
            base = len(self.devices)
            for j, (profile, raddr) in enumerate(zip(self.routed_profiles, rhosts, strict=False)):
                dev = Device(
                    profile,
                    base + j + 1,
                    str(raddr),
                    {},
                    profile.clock_skew if skew is None else skew,
                    outside,
                )
                dev.interface = f"ca-d{base + j + 1}"
                dev.extra["routed"] = True
                self.devices.append(dev)

    # --- build and tear down --------------------------------------------------------------
    def start(self) -> NamespaceSite:
        nsutil.require_root()
        if nsutil.lab_namespaces(self.prefix):
            raise ConfigError(
                f"namespaces {self.prefix}* already exist; run `camaudit lab down --tag "
                f"{self.tag}` or pick another tag"
            )
        try:
            topology.build(self)
            self._engine = SiteEngine(
                self.devices,
                topology.NetnsBinder(),
                self.wsd_delay,
                thread_setup=lambda: nsutil.enter(self.site_netns),
            )
            self._engine.start(timeout=300)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        super().stop()
        nsutil.delete_namespaces(self.prefix)

    # --- what the auditor needs -------------------------------------------------------------
    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(d.address for d in self.devices if not d.extra.get("routed"))

    @property
    def routed_targets(self) -> tuple[str, ...]:
        return tuple(d.address for d in self.devices if d.extra.get("routed"))

    def run_in_auditor(
        self, argv: Sequence[str], **kwargs: Any
    ) -> subprocess.CompletedProcess[str]:
        """Run a command in the auditor namespace (``ip netns exec``); output as text."""
        kwargs.setdefault("capture_output", True)
        kwargs.setdefault("text", True)
        kwargs.setdefault("timeout", 300)
        return subprocess.run(
            ["ip", "netns", "exec", self.auditor_netns, *argv], check=False, **kwargs
        )

    @contextmanager
    def in_auditor_netns(self) -> Iterator[None]:
        """This thread (and threads it starts) runs inside the auditor namespace."""
        with nsutil.entered(self.auditor_netns):
            yield

    def call_in_auditor(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn`` on a fresh thread inside the auditor namespace and return its result."""
        box: dict[str, Any] = {}

        def target() -> None:
            try:
                nsutil.enter(self.auditor_netns)
                box["value"] = fn(*args, **kwargs)
            except BaseException as exc:  # handed back to the caller
                box["error"] = exc

        thread = threading.Thread(target=target, name="camaudit-lab-auditor")
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        result: T = box["value"]
        return result

    def state(self) -> dict[str, Any]:
        """What `lab status` shows: names, addresses and ground truth (JSON-ready)."""
        return {
            "tag": self.tag,
            "prefix": self.prefix,
            "site_netns": self.site_netns,
            "auditor_netns": self.auditor_netns,
            "auditor_interface": self.auditor_interface,
            "auditor_address": self.auditor_address,
            "subnet": str(self.subnet),
            "routed_subnet": str(self.routed_subnet) if self.routed_subnet else None,
            "router_netns": self.router_netns if self.routed_subnet else None,
            "credentials_username": LAB_USERNAME,
            "devices": [t.to_dict() for t in self.truth],
        }
