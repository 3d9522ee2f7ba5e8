"""One emulated device at run time: a profile bound to an address, a MAC, a serial and a clock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from string import Template
from typing import Any

from auditor.lab.profiles import LAB_PASSWORD, LAB_USERNAME, DeviceProfile

#: uuid5 namespace for the lab's synthetic endpoint ids (itself derived from a lab-only name).
_LAB_NS = uuid.uuid5(uuid.NAMESPACE_URL, "urn:camaudit:lab")


@dataclass(frozen=True, slots=True)
class Received:
    """One request a device received, as its own log would keep it: tests prove from the lab
    side what the auditor sent (which credentials went where, how many logins failed)."""

    protocol: str
    """``http`` (also ONVIF over HTTP) or ``dvrip``."""
    port: int
    request: str
    """The request line (``GET /ISAPI/System/deviceInfo``) or the DVRIP message."""
    authorization: str = ""
    """What the client presented: the Authorization header, ``wsse <user>`` for a
    WS-UsernameToken, ``dvrip <user> <hash>`` for a DVRIP login; empty when nothing."""
    login: str = "none"
    """``none`` (no credential presented), ``accepted`` or ``refused``."""


@dataclass
class Device:
    """A running device's identity. Values in profiles are templates over :meth:`facts`."""

    profile: DeviceProfile
    index: int
    address: str
    ports: Mapping[int, int]
    """Standard port -> port served (the same in namespace mode; +10000 below 1024 on loopback)."""
    clock_skew: float = 0.0
    outside_address: str = "192.0.2.254"
    """An address outside the site, for profiles whose XAddrs/LOCATION point out of scope."""
    username: str = LAB_USERNAME
    password: str = LAB_PASSWORD
    interface: str | None = None
    """Namespace mode: the device's own interface; sockets are bound to it."""
    extra: dict[str, Any] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    """Every request the servers saw, in order (bounded: MAX_RECEIVED)."""

    def record(self, entry: Received) -> None:
        if len(self.received) < MAX_RECEIVED:
            self.received.append(entry)

    @property
    def failed_logins(self) -> int:
        return sum(1 for r in self.received if r.login == "refused")

    def __post_init__(self) -> None:
        if self.profile.credentials is not None:
            self.username, self.password = self.profile.credentials

    @property
    def mac(self) -> str:
        # The suffix is synthetic: 0x1a (lab) then the index, so MACs are unique within a site.
        suffix = 0x1A0000 + self.index
        tail = ":".join(f"{(suffix >> s) & 0xFF:02x}" for s in (16, 8, 0))
        return f"{self.profile.mac_oui}:{tail}"

    @property
    def uuid(self) -> str:
        return str(uuid.uuid5(_LAB_NS, f"{self.profile.id}/{self.index}"))

    @property
    def serial(self) -> str:
        return Template(self.profile.serial).safe_substitute(
            index=str(self.index),
            index5=f"{self.index:05d}",
            index6=f"{self.index:06d}",
            # Axis serial numbers are the MAC address (research fingerprinting.md §2).
            mac_plain_upper=self.mac.replace(":", "").upper(),
        )

    def port(self, standard: int) -> int:
        return self.ports.get(standard, standard)

    def now(self) -> datetime:
        """The device's own clock (UTC), skewed as configured."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_skew)

    def facts(self) -> dict[str, str]:
        mac = self.mac
        facts = {
            "address": self.address,
            "outside": self.outside_address,
            "mac": mac,
            "mac_upper": mac.upper(),
            "mac_dash": mac.replace(":", "-"),
            "mac_plain": mac.replace(":", ""),
            "mac_plain_upper": mac.replace(":", "").upper(),
            "serial": self.serial,
            "uuid": self.uuid,
            "uuid_upper": self.uuid.upper(),
            # Hikvision's ISAPI Digest realm is a 24-hex-digit device id (hikvision_next#50).
            "hexid": self.uuid.replace("-", "")[:24],
            "model": self.profile.model,
            "brand": self.profile.brand or "",
            "firmware": self.profile.firmware,
            "index": str(self.index),
            "index5": f"{self.index:05d}",
            "boot_time": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(_BOOT)),
        }
        for std, actual in self.ports.items():
            facts[f"port_{std}"] = str(actual)
        for std in self.profile.tcp_ports:
            facts.setdefault(f"port_{std}", str(std))
        # host:port as a URL authority, ":80" omitted the way devices print it.
        http = self.port(80)
        facts["http_authority"] = self.address if http == 80 else f"{self.address}:{http}"
        return facts

    def render(self, template: str, **extra: str) -> str:
        # string.Template (``${serial}``), not str.format: bodies hold JSON, CSS and JS braces.
        if "$" not in template:
            return template
        facts = self.facts()
        facts.update(extra)
        return Template(template).safe_substitute(facts)


_BOOT = time.time()
#: Requests a device keeps in its log; a flood test must not grow the lab's memory without end.
MAX_RECEIVED = 20_000
