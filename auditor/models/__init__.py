"""The domain model: frozen, typed values that flow from one pipeline stage to the next.

scope -> discovery (Host) -> probes (ProbeAttempt with Observations) -> identification
(Identification with an evidence chain) -> assessment (Exposure, Remediation) -> report
(AuditReport).

Every value is immutable; stages build new values (``dataclasses.replace``) rather than mutate.
Invariants that a report relies on are checked in ``__post_init__``, so an invalid value
cannot exist. One module per stage; this package re-exports every public name, so callers
import from ``auditor.models`` and never from a submodule.
"""

from auditor.models.assessment import (
    Audience,
    Exposure,
    ExposureStatus,
    InstrumentId,
    Remediation,
    RemediationAction,
    Severity,
    VulnFinding,
    VulnStatus,
)
from auditor.models.hosts import UDP_DISCOVERY_CHANNELS, Channel, Host, Service
from auditor.models.identification import (
    DEVICE_TYPE_ALIASES,
    Component,
    DeviceType,
    EvidenceLink,
    FingerprintId,
    Identification,
)
from auditor.models.observations import IPAddress, Observation, ObservationKind, normalise_mac
from auditor.models.probing import Outcome, ProbeAttempt, Reason
from auditor.models.report import (
    AuditId,
    AuditInfo,
    AuditReport,
    ChannelFailure,
    DataVersion,
    DeviceResult,
    OutOfScopeReference,
)

__all__ = [
    "DEVICE_TYPE_ALIASES",
    "UDP_DISCOVERY_CHANNELS",
    "AuditId",
    "AuditInfo",
    "AuditReport",
    "Audience",
    "Channel",
    "ChannelFailure",
    "Component",
    "DataVersion",
    "DeviceResult",
    "DeviceType",
    "EvidenceLink",
    "Exposure",
    "ExposureStatus",
    "FingerprintId",
    "Host",
    "IPAddress",
    "Identification",
    "InstrumentId",
    "Observation",
    "ObservationKind",
    "OutOfScopeReference",
    "Outcome",
    "ProbeAttempt",
    "Reason",
    "Remediation",
    "RemediationAction",
    "Service",
    "Severity",
    "VulnFinding",
    "VulnStatus",
    "normalise_mac",
]
