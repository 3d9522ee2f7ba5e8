"""Device profiles: what one emulated device model answers on each protocol, as reviewed data.

A profile is a YAML file in ``auditor/lab/profiles/``. Every vendor string in it (Server header,
realm, title, model pattern) names its public source in the file's ``sources`` block; values that
had to be made up (serials, UUIDs, MAC suffixes) are templated and visibly synthetic ("LAB").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from auditor.errors import DataFileError
from auditor.models import DeviceType

PROFILE_DIR = Path(__file__).with_name("profiles")

#: The one credential pair the lab's credentialed devices accept. Lab-only, never a real default.
LAB_USERNAME = "admin"
LAB_PASSWORD = "camaudit-lab-Pa55"

#: Services a profile may declare; each maps to a server in ``auditor.lab.registry``.
SERVICE_KINDS = frozenset(
    {
        "http",
        "https",
        "onvif_http",
        "rtsp",
        "hik_sdk",
        "dahua_sdk",
        "dvrip",
        "telnet",
        "ssh",
        "ftp",
        "wsd",
        "sadp",
        "dhip",
        "xm_discovery",
        "ssdp",
        "mdns",
        "snmp",
        "silent",
    }
)

_OUI = re.compile(r"^[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}$")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,40}$")


@dataclass(frozen=True, slots=True)
class DeviceProfile:
    """One device model, as loaded from its YAML file (read-only)."""

    id: str
    manufacturer: str | None
    """The true maker (canonical short name, e.g. "Hikvision"), or None when unknowable."""
    brand: str | None
    """The brand the device presents (web UI, ONVIF Manufacturer)."""
    model: str
    device_type: DeviceType
    oem_relabel: bool
    mac_oui: str
    serial: str
    """Serial template; ``${index5}`` makes it unique per device in a site."""
    firmware: str
    services: Mapping[str, Mapping[str, Any]]
    sources: Mapping[str, str]
    credentials: tuple[str, str] | None = None
    """This device's own (username, password) when it does not take the lab's (synthetic)."""
    onvif: Mapping[str, Any] | None = None
    """The ONVIF device service, served on the HTTP service whose port is ``onvif.port``."""
    clock_skew: float = 0.0
    """Seconds the device clock is ahead of real UTC (negative: behind)."""
    description: str = ""
    path: Path = field(default=PROFILE_DIR)

    @property
    def tcp_ports(self) -> tuple[int, ...]:
        """Standard TCP ports the device listens on (before any loopback shift)."""
        ports = {
            int(cfg["port"])
            for kind, cfg in self.services.items()
            if kind in _TCP_KINDS and "port" in cfg
        }
        return tuple(sorted(ports))


_TCP_KINDS = frozenset(
    {"http", "https", "onvif_http", "rtsp", "hik_sdk", "dahua_sdk", "dvrip", "telnet", "ssh", "ftp"}
)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({str(k): _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _require(path: Path, data: Mapping[str, Any], key: str, kind: type) -> Any:
    if key not in data:
        raise DataFileError(path, f"missing required key {key!r}")
    value = data[key]
    if not isinstance(value, kind):
        raise DataFileError(path, f"{key!r} must be a {kind.__name__}")
    return value


def _credentials(path: Path, value: object) -> tuple[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(
        isinstance(value.get(k), str) for k in ("username", "password")
    ):
        raise DataFileError(path, "credentials must have a username and a password")
    return (value["username"], value["password"])


def parse_profile(path: Path, data: object) -> DeviceProfile:
    """Validate one loaded YAML document and build its profile."""
    if not isinstance(data, dict):
        raise DataFileError(path, "a profile must be a mapping")
    pid = _require(path, data, "id", str)
    if not _ID.match(pid) or pid != path.stem:
        raise DataFileError(path, f"id {pid!r} must be lower-case and equal the file name")
    truth = _require(path, data, "truth", dict)
    sources = _require(path, data, "sources", dict)
    if not sources:
        raise DataFileError(path, "a profile must cite at least one source")
    services = _require(path, data, "services", dict)
    for kind, cfg in services.items():
        if kind not in SERVICE_KINDS:
            raise DataFileError(path, f"unknown service {kind!r}")
        if cfg is not None and not isinstance(cfg, dict):
            raise DataFileError(path, f"service {kind!r} must be a mapping")
    oui = str(data.get("mac_oui", "")).lower()
    if not _OUI.match(oui):
        raise DataFileError(path, f"mac_oui {oui!r} must look like 'c4:2f:90'")
    try:
        device_type = DeviceType(_require(path, truth, "device_type", str))
    except ValueError:
        raise DataFileError(path, f"unknown device_type {truth.get('device_type')!r}") from None
    return DeviceProfile(
        id=pid,
        manufacturer=truth.get("manufacturer"),
        brand=truth.get("brand"),
        model=str(_require(path, truth, "model", str)),
        device_type=device_type,
        oem_relabel=bool(truth.get("oem_relabel", False)),
        mac_oui=oui,
        serial=str(data.get("serial", "LAB${index6}")),
        firmware=str(data.get("firmware", "")),
        services=_freeze({k: (v or {}) for k, v in services.items()}),
        sources=_freeze({str(k): str(v) for k, v in sources.items()}),
        credentials=_credentials(path, data.get("credentials")),
        onvif=_freeze(data["onvif"]) if isinstance(data.get("onvif"), dict) else None,
        clock_skew=float(data.get("clock_skew", 0.0)),
        description=str(data.get("description", "")),
        path=path,
    )


def load_profile_file(path: Path) -> DeviceProfile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataFileError(path, f"cannot read profile: {exc}") from None
    return parse_profile(path, data)


HOSTILE_DIR = PROFILE_DIR / "hostile"


def load_hostile_profiles() -> dict[str, DeviceProfile]:
    """The hostile devices of issue 9 (kept apart: a normal site never loads them)."""
    return load_profiles(HOSTILE_DIR)


def load_profiles(directory: Path | None = None) -> dict[str, DeviceProfile]:
    """Every profile in ``directory`` (default: the shipped ones), keyed by id."""
    folder = directory or PROFILE_DIR
    profiles: dict[str, DeviceProfile] = {}
    for path in sorted(folder.glob("*.yaml")):
        profile = load_profile_file(path)
        profiles[profile.id] = profile
    if not profiles:
        raise DataFileError(folder, "no device profiles found")
    return profiles
