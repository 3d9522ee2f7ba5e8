"""The audit as a whole: per-device results, run metadata and the report the renderers see."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NewType

from auditor.models.assessment import Audience, Exposure, Remediation, Severity, VulnFinding
from auditor.models.hosts import UDP_DISCOVERY_CHANNELS, Host
from auditor.models.identification import DeviceType, Identification
from auditor.models.observations import IPAddress, Observation, ObservationKind
from auditor.models.probing import Outcome, ProbeAttempt

AuditId = NewType("AuditId", str)

#: Observations that need no exchange with the host (the MAC a discovery reply claimed).
_NO_EXCHANGE_KINDS = frozenset(
    {ObservationKind.MAC, ObservationKind.MAC_VENDOR, ObservationKind.MAC_CLAIMED}
)


@dataclass(frozen=True, slots=True)
class DeviceResult:
    """Everything the audit learned about one host."""

    host: Host
    attempts: tuple[ProbeAttempt, ...] = ()
    identification: Identification = field(default_factory=Identification.unknown)
    exposures: tuple[Exposure, ...] = ()
    remediation: Remediation | None = None
    site: str | None = None
    """Set only in an organisation-wide report that combines several site audits."""
    vulnerabilities: tuple[VulnFinding, ...] = ()
    """Known vulnerabilities of its firmware, from the imported KEV and CVE data."""

    @property
    def fully_probed(self) -> bool:
        """No probe failed (not-run probes are fine: they did not apply or had no credentials)."""
        return not any(a.outcome is Outcome.FAILED for a in self.attempts)

    @property
    def may_be_camera(self) -> bool:
        """Identified as a video device, or of unknown type: not ruled out as a camera."""
        kind = self.identification.device_type
        return kind.is_video or kind is DeviceType.UNKNOWN

    @property
    def complete(self) -> bool:
        """Nothing the audit needed is missing: a device that is, or may be, a camera was fully
        probed. A printer or router whose web server timed out does not make an audit
        incomplete (its failed attempts are still in the report), nor does an unconfirmed host
        (not known to exist: forged discovery replies must not make every audit incomplete)."""
        return self.fully_probed or not self.may_be_camera or self.unconfirmed

    @property
    def unconfirmed(self) -> bool:
        """Seen only in UDP discovery replies, and nothing ever answered a unicast exchange at
        the address: no TCP connection (no probe reply, not even a refusal), no open port or
        ARP reply to nmap, no description fetched over HTTP. Such a host may be a forged source
        address, so nothing it claims is believed (issue 13: 3,000 phantom cameras)."""
        host = self.host
        if not host.seen_by or not host.seen_by <= UDP_DISCOVERY_CHANNELS or host.services:
            return False
        if host.mac_on_wire:
            return False  # an ARP reply (nmap saw the MAC on the wire)
        if any(o.kind is ObservationKind.UPNP_DESCRIPTION for o in host.observations):
            return False  # fetched from this address over TCP
        for attempt in self.attempts:
            if any(o.kind not in _NO_EXCHANGE_KINDS for o in attempt.observations):
                return False
            if attempt.reason is not None and attempt.reason.proves_answer:
                return False
        return True

    @property
    def observations(self) -> tuple[Observation, ...]:
        obs = list(self.host.observations)
        for attempt in self.attempts:
            obs.extend(attempt.observations)
        return tuple(obs)

    @property
    def max_severity(self) -> Severity:
        return max(
            (*(e.severity for e in self.exposures), *(v.severity for v in self.vulnerabilities)),
            default=Severity.NONE,
        )


@dataclass(frozen=True, slots=True)
class DataVersion:
    """The version and as-of date of one data set the audit relied on."""

    name: str
    version: str
    as_of: date | None = None
    source: str = ""
    stale: bool = False
    """Older than the data's maximum age (e.g. 90 days): the report flags it."""


@dataclass(frozen=True, slots=True)
class ChannelFailure:
    """A discovery channel that could not run or did not finish (nmap died, a crash)."""

    channel: str
    message: str


@dataclass(frozen=True, slots=True)
class AuditInfo:
    id: AuditId
    site: str
    started: datetime
    tool_version: str
    targets: tuple[str, ...]
    excludes: tuple[str, ...] = ()
    finished: datetime | None = None
    profile: Audience = Audience.GENERIC
    data_versions: tuple[DataVersion, ...] = ()
    ports: tuple[int, ...] = ()
    """The TCP ports scanned."""
    port_spec: str = ""
    """The port plan with roles (``PortPlan.spec()``), so that --resume probes the same way."""
    probes: tuple[str, ...] = ()
    """The probes that ran, for the report's methodology section."""
    rate: float | None = None
    """--rate (new connections per second; None: unlimited), reused by --resume."""
    timeout: float | None = None
    """--timeout in seconds, reused by --resume (None: not recorded, before schema 3)."""
    allow_large: bool = False
    allow_public: bool = False
    channel_failures: tuple[ChannelFailure, ...] = ()
    """Discovery channels that failed in the last run: hosts only they would see may be
    missing, so the audit is incomplete and ``scan --resume`` runs discovery again."""

    def __post_init__(self) -> None:
        if self.started.tzinfo is None:
            raise ValueError("started must be timezone-aware (UTC)")
        if self.finished is not None and self.finished < self.started:
            raise ValueError("an audit cannot finish before it starts")


@dataclass(frozen=True, slots=True)
class OutOfScopeReference:
    """A device pointed at an address outside the scope; recorded, never contacted."""

    address: str
    referrer: IPAddress
    via: str
    """How it was referenced, e.g. ``"onvif.xaddrs"``, ``"ssdp.location"``, ``"http.redirect"``."""


@dataclass(frozen=True, slots=True)
class AuditReport:
    """The whole audit as the renderers see it."""

    audit: AuditInfo
    devices: tuple[DeviceResult, ...] = ()
    out_of_scope: tuple[OutOfScopeReference, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def incomplete(self) -> tuple[DeviceResult, ...]:
        return tuple(d for d in self.devices if not d.complete)

    @property
    def discovery_incomplete(self) -> bool:
        """A discovery channel failed: devices only it would have found may be missing."""
        return bool(self.audit.channel_failures)

    @property
    def evidence_sha256(self) -> str:
        """One digest over every observation, in a stable order, for the report's footer."""
        h = hashlib.sha256()
        for digest in sorted(o.sha256 for d in self.devices for o in d.observations):
            h.update(digest.encode())
        return h.hexdigest()
