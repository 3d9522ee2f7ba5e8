"""Identification: device types, the evidence chain and who made a device."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NewType

from auditor.models.observations import Observation

FingerprintId = NewType("FingerprintId", str)


class DeviceType(StrEnum):
    """The one vocabulary of device types: fingerprints, the store, every report and the JSON
    schema use these values and no others (older words are read through DEVICE_TYPE_ALIASES)."""

    IP_CAMERA = "ip_camera"
    NVR = "nvr"
    DVR = "dvr"
    ENCODER = "encoder"
    INTERCOM = "intercom"
    VIDEO_DEVICE = "video_device"
    """A video device whose exact role (camera, recorder) is not known."""
    CAMERA = "video_device"
    """Deprecated name of VIDEO_DEVICE (the same member), kept for code written before it."""
    PRINTER = "printer"
    ROUTER = "router"
    SERVER = "server"
    OTHER = "other"
    UNKNOWN = "unknown"

    @property
    def is_video(self) -> bool:
        return self in _VIDEO_TYPES

    @property
    def label(self) -> str:
        """The word a reader sees for it, in every human-readable format."""
        return _TYPE_LABELS[self]

    @classmethod
    def _missing_(cls, value: object) -> DeviceType | None:
        # Old words (fingerprint files, stored audits, lab profiles) keep working; they are
        # normalised here, in one place, so no report or JSON document ever carries them.
        if isinstance(value, str):
            canonical = DEVICE_TYPE_ALIASES.get(value.strip().lower())
            if canonical is not None:
                return cls(canonical)
        return None


#: Deprecated device-type words and the canonical value each now means. "camera" was the word
#: for a video device of unknown role, which read as if it were a different kind of camera
#: from "ip_camera" (issue 15): use "video_device".
DEVICE_TYPE_ALIASES: dict[str, str] = {"camera": "video_device"}

_TYPE_LABELS = {
    DeviceType.IP_CAMERA: "IP camera",
    DeviceType.NVR: "NVR",
    DeviceType.DVR: "DVR",
    DeviceType.ENCODER: "video encoder",
    DeviceType.INTERCOM: "intercom",
    DeviceType.VIDEO_DEVICE: "video device (role unknown)",
    DeviceType.PRINTER: "printer",
    DeviceType.ROUTER: "router",
    DeviceType.SERVER: "server",
    DeviceType.OTHER: "other",
    DeviceType.UNKNOWN: "unknown",
}

_VIDEO_TYPES = frozenset(
    {
        DeviceType.IP_CAMERA,
        DeviceType.NVR,
        DeviceType.DVR,
        DeviceType.ENCODER,
        DeviceType.INTERCOM,
        DeviceType.VIDEO_DEVICE,
    }
)


@dataclass(frozen=True, slots=True)
class EvidenceLink:
    """One step of an evidence chain: this observation matched that fingerprint, asserting that."""

    observation: Observation
    fingerprint_id: FingerprintId
    description: str
    asserts: tuple[tuple[str, str], ...]
    """The attributes the fingerprint asserted, e.g. ``(("hw.vendor", "Hikvision"),)``."""
    weight: float
    source: str = ""
    """Where the fingerprint's knowledge comes from (the data file's cited public source)."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.weight <= 1.0:
            raise ValueError(f"weight must be within 0..1: {self.weight}")

    @property
    def asserted(self) -> Mapping[str, str]:
        return dict(self.asserts)


@dataclass(frozen=True, slots=True)
class Component:
    """A part inside the device that matters on its own, e.g. a HiSilicon SoC."""

    kind: str
    vendor: str
    model: str | None = None
    evidence: tuple[EvidenceLink, ...] = ()

    def __post_init__(self) -> None:
        if not self.evidence:
            raise ValueError(f"component {self.vendor} {self.kind} needs evidence")


@dataclass(frozen=True, slots=True)
class Identification:
    """Who made a device and how sure we are, with the evidence chain that says why.

    ``manufacturer`` is the true maker (canonical vendor name); ``brand`` is the name the device
    presents. ``None`` for the manufacturer means we abstain: "maker unknown".
    """

    manufacturer: str | None = None
    brand: str | None = None
    model: str | None = None
    firmware: str | None = None
    serial: str | None = None
    device_type: DeviceType = DeviceType.UNKNOWN
    confidence: float = 0.0
    evidence: tuple[EvidenceLink, ...] = ()
    components: tuple[Component, ...] = ()
    oem_relabel: bool = False
    rationale: tuple[str, ...] = ()
    """Plain-language reasons, including conflicts that were resolved and why."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be within 0..1: {self.confidence}")
        claims = (self.manufacturer, self.brand, self.model, self.firmware, self.serial)
        if (any(claims) or self.device_type is not DeviceType.UNKNOWN) and not self.evidence:
            raise ValueError("an identification that claims anything needs evidence")
        if self.manufacturer is None and self.confidence > 0.0 and not self.evidence:
            raise ValueError("confidence without evidence")
        if self.oem_relabel and not (self.manufacturer and self.brand):
            raise ValueError("an OEM relabel needs both a brand and a true manufacturer")
        if self.oem_relabel and self.manufacturer == self.brand:
            raise ValueError("an OEM relabel's brand differs from its manufacturer")

    @classmethod
    def unknown(cls, rationale: Iterable[str] = ()) -> Identification:
        """Abstain: nothing known, or the evidence was too weak to name a maker."""
        return cls(rationale=tuple(rationale))

    @property
    def is_identified(self) -> bool:
        return self.manufacturer is not None
