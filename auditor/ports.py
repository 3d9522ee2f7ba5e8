"""Which TCP ports to scan, and what each one is expected to speak.

Probes pick their ports from the plan, not from constants, so a site that runs RTSP on 10554, or
the unprivileged loopback lab that moves port 80 to 10080, is probed exactly like a standard one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    HTTP = "http"
    HTTPS = "https"
    RTSP = "rtsp"
    HIK_SDK = "hik-sdk"
    """Hikvision's private SDK/control port (8000)."""
    DAHUA_SDK = "dahua-sdk"
    """Dahua's private DVRIP/SDK port (37777)."""
    DVRIP = "dvrip"
    """Xiongmai NETIP/DVRIP (34567)."""
    ONVIF = "onvif"
    """An HTTP port dedicated to the ONVIF device service (some cameras use 8899 or 2020)."""
    SSH = "ssh"
    TELNET = "telnet"
    FTP = "ftp"


# Sources: ../shared/research/protocols.md (sections 2-5) and fingerprinting.md; nmap's
# nmap-service-probes names 8000 (Hikvision IPCam control), 37777 (Dahua), 34567 (H264DVR).
_DEFAULT: dict[int, Role] = {
    # Recog ftp_banners.xml: Axis, D-Link DCS and Vivotek cameras name model and firmware in
    # their FTP greeting (rapid7/recog@14fa1a7211e7fb5707c7a1b421a07d6c2cf4eec5).
    21: Role.FTP,
    22: Role.SSH,
    23: Role.TELNET,
    80: Role.HTTP,
    81: Role.HTTP,
    88: Role.HTTP,
    443: Role.HTTPS,
    554: Role.RTSP,
    2020: Role.ONVIF,
    # fingerprinting.md (Cameradar): camera RTSP on 554, 5554 and 8554.
    5554: Role.RTSP,
    # UniFi Video / Protect: web UI 7080 and 7443, RTSP 7447 (AlexxIT/go2rtc#2071;
    # https://help.ubnt.com/hc/en-us/articles/217875218-UniFi-Video-Ports-Used).
    7080: Role.HTTP,
    7443: Role.HTTPS,
    7447: Role.RTSP,
    8000: Role.HIK_SDK,
    8080: Role.HTTP,
    8081: Role.HTTP,
    8443: Role.HTTPS,
    8554: Role.RTSP,
    8899: Role.ONVIF,
    10554: Role.RTSP,
    34567: Role.DVRIP,
    37777: Role.DAHUA_SDK,
}


@dataclass(frozen=True, slots=True)
class PortPlan:
    """TCP ports to scan, each with the role a probe should assume for it."""

    roles: Mapping[int, Role] = field(default_factory=lambda: MappingProxyType(dict(_DEFAULT)))

    @classmethod
    def default(cls) -> PortPlan:
        return cls()

    @classmethod
    def from_ports(cls, ports: Iterable[int]) -> PortPlan:
        """A user's --ports list: known ports keep their role, others are assumed HTTP."""
        return cls(MappingProxyType({p: _DEFAULT.get(p, Role.HTTP) for p in ports}))

    @classmethod
    def parse(cls, text: str) -> PortPlan:
        """Parse ``80,443,8000-8010,7443/https,10554/rtsp``: a port or range, optionally with the
        role it speaks; without one a known port keeps its usual role and others are HTTP.

        Raises ValueError with a message naming the bad part.
        """
        roles: dict[int, Role] = {}
        for raw in text.split(","):
            part = raw.strip()
            if not part:
                continue
            number, _, role_text = part.partition("/")
            role: Role | None = None
            if role_text:
                try:
                    role = Role(role_text.strip().lower())
                except ValueError:
                    known = ", ".join(r.value for r in Role)
                    raise ValueError(f"unknown role {role_text!r} in {part!r} ({known})") from None
            try:
                lo_text, _, hi_text = number.partition("-")
                lo = int(lo_text)
                hi = int(hi_text) if hi_text else lo
            except ValueError:
                raise ValueError(f"not a port or port range: {part!r}") from None
            if not 1 <= lo <= hi <= 65535:
                raise ValueError(f"ports must be within 1-65535: {part!r}")
            for port in range(lo, hi + 1):
                roles[port] = role or _DEFAULT.get(port, Role.HTTP)
        if not roles:
            raise ValueError("empty port list")
        return cls(MappingProxyType(dict(sorted(roles.items()))))

    def spec(self) -> str:
        """The plan as text that ``parse`` reads back exactly (kept with an audit for resume)."""
        return ",".join(f"{port}/{role.value}" for port, role in sorted(self.roles.items()))

    @property
    def ports(self) -> tuple[int, ...]:
        return tuple(sorted(self.roles))

    def role(self, port: int) -> Role | None:
        return self.roles.get(port)

    def ports_for(self, *roles: Role) -> tuple[int, ...]:
        return tuple(sorted(p for p, r in self.roles.items() if r in roles))
