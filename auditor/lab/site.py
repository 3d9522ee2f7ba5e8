"""Lab sites: a set of emulated devices with ground truth. Loopback mode needs no root."""

from __future__ import annotations

import errno
import ipaddress
import itertools
import logging
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Self

from auditor.lab.device import Device
from auditor.lab.engine import SiteEngine, site_port_plan
from auditor.lab.profiles import LAB_PASSWORD, LAB_USERNAME, DeviceProfile, load_profiles
from auditor.lab.snmp import LAB_COMMUNITY
from auditor.ports import PortPlan

logger = logging.getLogger(__name__)

#: About a dozen varied devices for `camaudit demo` and quick tests.
DEMO_DEVICES: tuple[str, ...] = (
    "hikvision-ipc",
    "hikvision-nvr",
    "ezviz-c6n",
    "lts-ipc",
    "annke-ipc",
    "dahua-ipc",
    "amcrest-ipc",
    "lorex-nvr",
    "uniview-ipc",
    "xiongmai-dvr",
    "hipcam-generic",
    "axis-p1375",
    "printer-hp",
    "linux-nginx",
)

#: The hostile devices of issue 9 (``load_hostile_profiles()``), for robustness tests.
HOSTILE_DEVICES: tuple[str, ...] = (
    "hostile-xml-bombs",
    "hostile-streams",
    "hostile-injection",
    "hostile-floods",
)

#: Below this, a port needs privileges; the loopback lab serves it at port + 10000.
PRIVILEGED = 1024
LOOPBACK_SHIFT = 10000
FIRST_HOST = 10


@dataclass(frozen=True, slots=True)
class GroundTruth:
    """What an emulated address really is, to score the auditor against."""

    address: str
    profile: str
    manufacturer: str | None
    brand: str | None
    model: str
    device_type: str
    mac: str
    oem_relabel: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def truth_of(device: Device) -> GroundTruth:
    p = device.profile
    return GroundTruth(
        address=device.address,
        profile=p.id,
        manufacturer=p.manufacturer,
        brand=p.brand,
        model=p.model,
        device_type=p.device_type.value,
        mac=device.mac,
        oem_relabel=p.oem_relabel,
    )


def resolve_profiles(
    devices: Sequence[str | DeviceProfile], profiles: dict[str, DeviceProfile] | None = None
) -> list[DeviceProfile]:
    known = profiles or load_profiles()
    out = []
    for item in devices:
        if isinstance(item, DeviceProfile):
            out.append(item)
        elif item in known:
            out.append(known[item])
        else:
            raise KeyError(f"unknown lab profile {item!r}; known: {', '.join(sorted(known))}")
    return out


_counter = itertools.count()


def _auto_subnets() -> list[ipaddress.IPv4Network]:
    """Candidate /24s in 127/8, derived from the pid so concurrent test runs rarely meet."""
    base = (os.getpid() * 7 + next(_counter) * 131) % (200 * 250)
    out = []
    for step in range(8):
        n = (base + step * 977) % (200 * 250)
        out.append(ipaddress.IPv4Network(f"127.{20 + n // 250}.{1 + n % 250}.0/24"))
    return out


class RunningSite:
    """What every lab site offers the auditor and the tests, whatever network it runs on.

    Subclasses set ``devices`` and ``_engine`` in ``start()``; ``stop()`` must be safe to call
    twice and after a failed start.
    """

    devices: list[Device]
    _engine: SiteEngine | None

    def start(self) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    def stop(self) -> None:
        if self._engine is not None:
            self._engine.stop()
            self._engine = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port_plan(self) -> PortPlan:
        return site_port_plan(self.devices)

    @property
    def truth(self) -> tuple[GroundTruth, ...]:
        return tuple(truth_of(d) for d in self.devices)

    @property
    def credentials(self) -> tuple[str, str]:
        return (LAB_USERNAME, LAB_PASSWORD)

    @property
    def snmp_community(self) -> str:
        """The community the site's SNMP agents accept (lab-only, published)."""
        return LAB_COMMUNITY

    @property
    def snmp_port(self) -> int:
        """The UDP port the site's SNMP agents answer on (161, or its loopback shift)."""
        for d in self.devices:
            if "snmp" in d.profile.services:
                return d.port(int(d.profile.services["snmp"].get("port", 161)))
        return 161

    def device(self, profile_id: str) -> Device:
        """The first device running ``profile_id`` (tests use it to find an address)."""
        for d in self.devices:
            if d.profile.id == profile_id:
                return d
        raise KeyError(profile_id)

    def address_of(self, profile_id: str) -> str:
        return self.device(profile_id).address


class LoopbackSite(RunningSite):
    """Devices on their own 127.x.y.z addresses, every protocol by unicast; no root needed.

    Use as a context manager; ``stop()`` always cleans up, also on exceptions and Ctrl-C.
    """

    def __init__(
        self,
        devices: Sequence[str | DeviceProfile],
        clock_skew: float | None = None,
        subnet: str | None = None,
        profiles: dict[str, DeviceProfile] | None = None,
        wsd_delay: float = 0.0,
    ) -> None:
        self.profiles = resolve_profiles(devices, profiles)
        if len(self.profiles) > 254 - FIRST_HOST:
            raise ValueError("a loopback site holds at most 244 devices (one /24)")
        self.clock_skew = clock_skew
        self.wsd_delay = wsd_delay
        self._subnets = [ipaddress.IPv4Network(subnet)] if subnet else _auto_subnets()
        self.subnet = self._subnets[0]
        self.devices: list[Device] = []
        self._engine: SiteEngine | None = None

    # --- layout -------------------------------------------------------------------------
    def _layout(self, net: ipaddress.IPv4Network) -> list[Device]:
        hosts = list(itertools.islice(net.hosts(), FIRST_HOST - 1, None))
        # An address in 127/8 but outside this /24: where "outside" devices point.
        outside = str(ipaddress.IPv4Address(int(net.network_address) + 256 + 254))
        devices = []
        for index, (profile, addr) in enumerate(zip(self.profiles, hosts, strict=False)):
            ports = {p: (p + LOOPBACK_SHIFT if p < PRIVILEGED else p) for p in _all_ports(profile)}
            skew = profile.clock_skew if self.clock_skew is None else self.clock_skew
            devices.append(Device(profile, index + 1, str(addr), ports, skew, outside))
        return devices

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> LoopbackSite:
        last: OSError | None = None
        for net in self._subnets:
            self.subnet = net
            self.devices = self._layout(net)
            engine = SiteEngine(self.devices, wsd_delay=self.wsd_delay)
            try:
                engine.start()
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                last = exc
                logger.debug("lab subnet %s busy, trying another", net)
                continue
            self._engine = engine
            logger.info("lab site up: %d devices on %s", len(self.devices), net)
            return self
        raise OSError(errno.EADDRINUSE, f"no free loopback subnet for the lab: {last}")

    # --- what the auditor needs -----------------------------------------------------------
    @property
    def targets(self) -> tuple[str, ...]:
        return tuple(d.address for d in self.devices)

    @property
    def outside_address(self) -> str:
        return self.devices[0].outside_address if self.devices else ""

    def state(self) -> dict[str, Any]:
        """Addresses, ports and ground truth, JSON-ready (the loopback twin of `lab status`)."""
        return {
            "subnet": str(self.subnet),
            "ports": {str(p): r.value for p, r in self.port_plan.roles.items()},
            "credentials_username": LAB_USERNAME,
            "devices": [t.to_dict() for t in self.truth],
        }


def _all_ports(profile: DeviceProfile) -> set[int]:
    from auditor.lab import registry
    from auditor.lab.engine import DEFAULT_ROLES, SILENT_UDP

    ports: set[int] = set()
    for kind, cfg in profile.services.items():
        if kind == "silent":
            ports.update(int(p) for p in cfg.get("tcp", sorted(DEFAULT_ROLES)))
            ports.update(int(p) for p in cfg.get("udp", SILENT_UDP))
            continue
        ports.add(int(cfg.get("port", registry.KINDS[kind].default_port)))
    if profile.onvif is not None:
        ports.add(int(profile.onvif.get("port", 80)))
    return ports
