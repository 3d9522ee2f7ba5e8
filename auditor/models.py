"""The domain model: frozen, typed values that flow from one pipeline stage to the next.

scope -> discovery (Host) -> probes (ProbeAttempt with Observations) -> identification
(Identification with an evidence chain) -> assessment (Exposure, Remediation) -> report
(AuditReport).

Every value is immutable; stages build new values (``dataclasses.replace``) rather than mutate.
Invariants that a report relies on are checked in ``__post_init__``, so an invalid value
cannot exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import Enum, StrEnum
from typing import NewType

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
FingerprintId = NewType("FingerprintId", str)
InstrumentId = NewType("InstrumentId", str)
AuditId = NewType("AuditId", str)

_MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


def normalise_mac(text: str) -> str:
    """Return a MAC as lower-case colon-separated hex; accept ``-``, ``.`` and bare forms.

    Raises ValueError for anything that is not 48 bits of hex, so a hostile device field
    never becomes a MAC by accident.
    """
    digits = re.sub(r"[^0-9a-fA-F]", "", text)
    if len(digits) != 12 or len(text) > 17:
        raise ValueError(f"not a MAC address: {text!r}")
    digits = digits.lower()
    return ":".join(digits[i : i + 2] for i in range(0, 12, 2))


class ObservationKind(StrEnum):
    """What an observed string is; fingerprint files declare the kind they match.

    The names are the public contract of `camaudit identify` (JSON Lines in) and of the
    fingerprint files (`matches:`); add members, never rename them.
    """

    HTTP_SERVER = "http.server"
    HTTP_TITLE = "http.title"
    HTTP_WWW_AUTHENTICATE = "http.www_authenticate"
    HTTP_BODY = "http.body"
    HTTP_FAVICON_MD5 = "http.favicon_md5"
    HTTP_HEADER = "http.header"
    HTTP_CLUE = "http.clue"
    RTSP_SERVER = "rtsp.server"
    RTSP_WWW_AUTHENTICATE = "rtsp.www_authenticate"
    RTSP_SDP = "rtsp.sdp"
    TLS_SUBJECT = "tls.subject"
    TLS_ISSUER = "tls.issuer"
    TLS_SAN = "tls.san"
    TLS_VALIDITY = "tls.validity"
    ONVIF_DEVICE_INFORMATION = "onvif.device_information"
    ONVIF_SCOPES = "onvif.scopes"
    ONVIF_PROBE_MATCH = "onvif.probe_match"
    ONVIF_SYSTEM_DATE_TIME = "onvif.system_date_time"
    ONVIF_SERVICES = "onvif.services"
    ONVIF_CLOCK_SKEW = "onvif.clock_skew"
    ONVIF_NETWORK_INTERFACES = "onvif.network_interfaces"
    SADP_PROBE_MATCH = "sadp.probe_match"
    DHIP_REPLY = "dhip.reply"
    XMEYE_REPLY = "xmeye.reply"
    ISAPI_DEVICE_INFO = "isapi.device_info"
    DAHUA_SYSTEM_INFO = "dahua.system_info"
    AXIS_DEVICE_INFO = "axis.device_info"
    DVRIP_SYSTEM_INFO = "dvrip.system_info"
    DVRIP_BANNER = "dvrip.banner"
    MAC = "mac"
    MAC_CLAIMED = "mac.claimed"
    """A MAC that a discovery payload claims and the MAC seen on the wire contradicts."""
    MAC_VENDOR = "mac.vendor"
    SSH_BANNER = "ssh.banner"
    TELNET_BANNER = "telnet.banner"
    FTP_BANNER = "ftp.banner"
    SNMP_SYSDESCR = "snmp.sysdescr"
    SNMP_SYSOBJECTID = "snmp.sysobjectid"
    """The sysObjectID (1.3.6.1.2.1.1.2.0) as a dotted OID, e.g. ``1.3.6.1.4.1.368.4``."""
    SIP_USER_AGENT = "sip.user_agent"
    DHCP_VENDOR_CLASS = "dhcp.vendor_class"
    UPNP_SERVER = "upnp.server"
    UPNP_DESCRIPTION = "upnp.description"
    MDNS_SERVICE = "mdns.service"
    NMAP_SERVICE = "nmap.service"
    HOSTNAME = "hostname"


@dataclass(frozen=True, slots=True)
class Observation:
    """One raw piece of evidence: what was seen, where it came from and when."""

    kind: ObservationKind
    value: str
    """The observed text exactly as received (decoded leniently); never interpreted here."""
    source: str
    """The probe or discovery channel that produced it, e.g. ``"sadp"``, ``"http:80"``."""
    observed_at: datetime
    port: int | None = None
    sha256: str = field(init=False, repr=False, compare=False)
    """A digest of the evidence, so a report reader can check it was not altered."""

    def __post_init__(self) -> None:
        # Accept the plain string form (JSON Lines, the store); reject unknown kinds.
        object.__setattr__(self, "kind", ObservationKind(self.kind))
        if self.observed_at.tzinfo is None:
            raise ValueError("observed_at must be timezone-aware (UTC)")
        if not self.source:
            raise ValueError("an observation must name its source")
        h = hashlib.sha256()
        for part in (self.kind.value, self.source, str(self.port or ""), self.value):
            h.update(part.encode("utf-8", "surrogateescape"))
            h.update(b"\x00")
        # Computed once: reports, the store and de-duplication ask for it many times per value.
        object.__setattr__(self, "sha256", h.hexdigest())


class Channel(StrEnum):
    """The discovery channels that can report a host."""

    NMAP = "nmap"
    WS_DISCOVERY = "ws-discovery"
    SADP = "sadp"
    DHIP = "dhip"
    XMEYE = "xmeye"
    SSDP = "ssdp"
    MDNS = "mdns"
    IMPORT_NMAP = "import-nmap"
    IMPORT_CSV = "import-csv"
    TARGET = "target"
    """Listed as a single target by the user; probed even if no channel answered."""
    UNICAST = "unicast-check"
    """A host seen only in discovery replies answered camaudit's own unicast check (a TCP
    answer, even a refusal, or an ARP reply): it exists at that address (issue 13)."""


#: Channels that see a host only in a UDP discovery reply (multicast, broadcast or directed): its
#: source address is not authenticated, so anyone on the segment can forge it (issue 13).
UDP_DISCOVERY_CHANNELS = frozenset(
    {Channel.WS_DISCOVERY, Channel.SADP, Channel.DHIP, Channel.XMEYE, Channel.SSDP, Channel.MDNS}
)
#: Observations that need no exchange with the host (the MAC a discovery reply claimed).
_NO_EXCHANGE_KINDS = frozenset(
    {ObservationKind.MAC, ObservationKind.MAC_VENDOR, ObservationKind.MAC_CLAIMED}
)


@dataclass(frozen=True, slots=True)
class Service:
    """An open port and what a port scanner said about it."""

    port: int
    protocol: str = "tcp"
    name: str | None = None
    product: str | None = None
    version: str | None = None
    extrainfo: str | None = None
    device_type: str | None = None
    tunnel: str | None = None
    cpes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise ValueError(f"port out of range: {self.port}")
        if self.protocol not in ("tcp", "udp"):
            raise ValueError(f"protocol must be tcp or udp: {self.protocol!r}")


@dataclass(frozen=True, slots=True)
class Host:
    """A device address and what discovery learned about it, merged across channels."""

    address: IPAddress
    mac: str | None = None
    mac_vendor: str | None = None
    services: tuple[Service, ...] = ()
    seen_by: frozenset[Channel] = frozenset()
    endpoint_ids: frozenset[str] = frozenset()
    """WS-Discovery endpoint references and vendor discovery UUIDs tied to this address."""
    observations: tuple[Observation, ...] = ()
    """Evidence that discovery itself carried (SADP model and serial, ProbeMatch XML, ...)."""
    mac_on_wire: bool = False
    """The MAC was seen on the wire (ARP, the neighbour table, nmap), not claimed in a payload."""

    def __post_init__(self) -> None:
        # Accept the string form from parsers and the store.
        object.__setattr__(self, "address", ipaddress.ip_address(self.address))
        if self.mac is not None:
            object.__setattr__(self, "mac", normalise_mac(self.mac))
        ports = [(s.protocol, s.port) for s in self.services]
        if len(ports) != len(set(ports)):
            raise ValueError(f"duplicate service entries for {self.address}")

    @property
    def open_tcp_ports(self) -> frozenset[int]:
        return frozenset(s.port for s in self.services if s.protocol == "tcp")

    def merge(self, other: Host) -> Host:
        """Fold another sighting of the same address into this one.

        A later channel may add a MAC, ports and evidence; nothing already known is dropped.
        Conflicting MACs: the MAC seen on the wire (ARP, nmap) beats one a payload claims (SADP,
        DHIP, mDNS TXT...), else the first one stays; the losing MAC is kept as a
        ``mac.claimed`` observation, so the disagreement is evidence in the report.
        """
        if other.address != self.address:
            raise ValueError(f"cannot merge {other.address} into {self.address}")
        services = {(s.protocol, s.port): s for s in self.services}
        for s in other.services:
            known = services.get((s.protocol, s.port))
            # Prefer the richer description of a port (e.g. nmap -sV over a bare open port).
            if known is None or (known.product is None and s.product is not None):
                services[(s.protocol, s.port)] = s
        seen_obs = {o.sha256 for o in self.observations}
        extra = tuple(o for o in other.observations if o.sha256 not in seen_obs)
        winner, loser = self, other
        if self.mac is None or (other.mac_on_wire and not self.mac_on_wire and other.mac):
            winner, loser = other, self
        conflict = _mac_conflict(winner, loser)
        return Host(
            address=self.address,
            mac=winner.mac or loser.mac,
            mac_vendor=(winner.mac_vendor if winner.mac else loser.mac_vendor)
            or (loser.mac_vendor if loser.mac == winner.mac else None),
            services=tuple(sorted(services.values(), key=lambda s: (s.protocol, s.port))),
            seen_by=self.seen_by | other.seen_by,
            endpoint_ids=self.endpoint_ids | other.endpoint_ids,
            observations=self.observations + extra + conflict,
            mac_on_wire=winner.mac_on_wire if winner.mac else loser.mac_on_wire,
        )


def _mac_conflict(winner: Host, loser: Host) -> tuple[Observation, ...]:
    """The losing MAC of a merge, as evidence; nothing when both agree or one has none."""
    if not (winner.mac and loser.mac) or winner.mac == loser.mac:
        return ()
    times = [o.observed_at for o in (*loser.observations, *winner.observations)]
    if not times:
        return ()  # no time to stamp it with: nothing observed it but the Host itself
    channels = ",".join(sorted(str(c) for c in loser.seen_by)) or "discovery"
    return (Observation(ObservationKind.MAC_CLAIMED, loser.mac, channels, min(times)),)


class Outcome(StrEnum):
    COMPLETED = "completed"
    FAILED = "failed"
    NOT_RUN = "not_run"


class Reason(StrEnum):
    """Why a probe failed or did not run; the report shows it for incomplete hosts."""

    # failed
    TIMEOUT = "timeout"
    REFUSED = "refused"
    UNREACHABLE = "unreachable"
    RESET = "reset"
    TLS_ERROR = "tls_error"
    AUTH_REQUIRED = "auth_required"
    AUTH_FAILED = "auth_failed"
    MALFORMED = "malformed"
    TOO_LARGE = "too_large"
    OUT_OF_SCOPE = "out_of_scope"
    BUG = "bug"
    # not run
    NO_CREDENTIALS = "no_credentials"
    NO_SERVICE = "no_service"
    NOT_APPLICABLE = "not_applicable"
    INTERRUPTED = "interrupted"
    DISABLED = "disabled"
    WITHHELD = "credentials_withheld"
    """The device asked for credentials and camaudit did not send them (already refused by this
    device, or HTTP Basic over plain HTTP not allowed for the target)."""

    @property
    def is_failure(self) -> bool:
        return self not in _NOT_RUN_REASONS


#: Failures that prove something at the address answered (a refusal is an answer too).
_ANSWER_REASONS = frozenset(
    {
        Reason.REFUSED,
        Reason.RESET,
        Reason.TLS_ERROR,
        Reason.AUTH_REQUIRED,
        Reason.AUTH_FAILED,
        Reason.MALFORMED,
        Reason.TOO_LARGE,
    }
)

_NOT_RUN_REASONS = frozenset(
    {
        Reason.NO_CREDENTIALS,
        Reason.NO_SERVICE,
        Reason.NOT_APPLICABLE,
        Reason.INTERRUPTED,
        Reason.DISABLED,
        Reason.WITHHELD,
    }
)


@dataclass(frozen=True, slots=True)
class ProbeAttempt:
    """What one probe did against one host: completed, failed with a reason, or not run."""

    probe: str
    outcome: Outcome
    observations: tuple[Observation, ...] = ()
    reason: Reason | None = None
    detail: str = ""
    """Human-readable context for the reason, e.g. ``"no reply on 554/tcp within 3.0 s"``."""
    duration_s: float = 0.0

    def __post_init__(self) -> None:
        if self.outcome is Outcome.COMPLETED and self.reason is not None:
            raise ValueError("a completed attempt carries no failure reason")
        if self.outcome is not Outcome.COMPLETED and self.reason is None:
            raise ValueError(f"a {self.outcome.value} attempt must say why")
        if (
            self.outcome is Outcome.FAILED
            and self.reason is not None
            and not self.reason.is_failure
        ):
            raise ValueError(f"{self.reason.value} is a not-run reason, not a failure")
        if self.outcome is Outcome.NOT_RUN and self.reason is not None and self.reason.is_failure:
            raise ValueError(f"{self.reason.value} is a failure, not a not-run reason")
        if self.outcome is Outcome.NOT_RUN and self.observations:
            raise ValueError("a probe that did not run observed nothing")


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


class Audience(StrEnum):
    """Who the report is for: decides which instruments bind and how severe they are."""

    GENERIC = "generic"
    US_FEDERAL_AGENCY = "us-federal-agency"
    US_FEDERAL_CONTRACTOR = "us-federal-contractor"
    US_DOD_CONTRACTOR = "us-dod-contractor"
    US_STATE_TEXAS = "us-state-texas"
    UK_PUBLIC_SECTOR = "uk-public-sector"
    AU_GOVERNMENT = "au-government"
    CA_GOVERNMENT = "ca-government"
    TW_GOVERNMENT = "tw-government"
    IN_GOVERNMENT = "in-government"
    EU_PRIVATE = "eu-private"


class Severity(Enum):
    """Ordered severity of an exposure for the chosen audience."""

    NONE = 0
    INFO = 1
    LOW = 2
    MEDIUM = 3
    HIGH = 4
    CRITICAL = 5

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def from_label(cls, label: str) -> Severity:
        try:
            return cls[label.upper()]
        except KeyError:
            raise ValueError(f"unknown severity {label!r}") from None

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.value < other.value

    def __le__(self, other: object) -> bool:
        if not isinstance(other, Severity):
            return NotImplemented
        return self.value <= other.value


class ExposureStatus(StrEnum):
    LISTED = "listed"
    COVERED = "covered"
    COVERED_IF_SECURITY_USE = "covered_if_security_use"
    COVERED_THROUGH_OWNERSHIP = "covered_through_ownership"
    COMPONENT = "component"
    POSSIBLE_MATCH = "possible_match"
    NOT_LISTED = "not_listed"
    UNKNOWN = "unknown"
    """The maker is unknown: manual review, never "clean"."""

    @property
    def label(self) -> str:
        """Plain words for people (reports, remediation text)."""
        return _STATUS_LABELS[self]

    @property
    def short_label(self) -> str:
        """The same words, short enough for a table cell (page one, device tables)."""
        return _STATUS_SHORT.get(self) or _STATUS_LABELS[self]


_STATUS_LABELS = {
    ExposureStatus.LISTED: "listed",
    ExposureStatus.COVERED: "covered",
    ExposureStatus.COVERED_IF_SECURITY_USE: (
        "covered if used for public safety, government-facility security, "
        "critical-infrastructure surveillance or national security"
    ),
    ExposureStatus.COVERED_THROUGH_OWNERSHIP: "covered through ownership (verify)",
    ExposureStatus.COMPONENT: "through a component",
    ExposureStatus.POSSIBLE_MATCH: "possible match (verify)",
    ExposureStatus.NOT_LISTED: "not listed",
    ExposureStatus.UNKNOWN: "maker unknown: review",
}

_STATUS_SHORT = {ExposureStatus.COVERED_IF_SECURITY_USE: "covered if security use"}


@dataclass(frozen=True, slots=True)
class Exposure:
    """What one regulatory instrument means for one device, for the chosen audience."""

    instrument: InstrumentId
    instrument_name: str
    jurisdiction: str
    status: ExposureStatus
    severity: Severity
    effect: str
    """The legal effect for this audience, in plain language."""
    binds: str
    """Whom the instrument binds (e.g. "US federal agencies")."""
    source: str
    """The public source (URL) for the listing or the instrument."""
    since: date | None = None
    entity: str | None = None
    """The listed entity whose listing reaches this device (maker, parent or component vendor)."""
    uncertain: bool = False
    match_score: float | None = None
    list_row: str | None = None
    """For matches against an imported official list: the row that matched, verbatim."""

    def __post_init__(self) -> None:
        if not self.source and self.status is not ExposureStatus.UNKNOWN:
            raise ValueError(f"exposure under {self.instrument} needs a source")
        if self.status is ExposureStatus.POSSIBLE_MATCH and self.match_score is None:
            raise ValueError("a possible match carries its score")


class RemediationAction(StrEnum):
    REPLACE = "replace"
    ISOLATE = "isolate"
    MONITOR = "monitor"
    REVIEW = "review"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Remediation:
    action: RemediationAction
    priority: int
    """1 is the most urgent."""
    why: str

    def __post_init__(self) -> None:
        if self.priority < 1:
            raise ValueError("priority starts at 1")


class VulnStatus(StrEnum):
    """How sure a vulnerability finding is. A device is never "affected" without a firmware
    version inside a range the record publishes."""

    AFFECTED = "affected"
    POSSIBLY_AFFECTED = "possibly_affected"

    @property
    def label(self) -> str:
        return "affected" if self is VulnStatus.AFFECTED else "possibly affected"


@dataclass(frozen=True, slots=True)
class VulnFinding:
    """A published vulnerability that reaches a device's firmware, with the evidence chain."""

    cve: str
    status: VulnStatus
    severity: Severity
    """What the finding weighs for the audience (``--fail-on`` counts it)."""
    title: str
    reason: str
    """Why this status: e.g. "firmware V5.4.0 is below the fixed 5.5.800", "firmware unknown"."""
    evidence: tuple[str, ...]
    """Which fields matched which published data, one plain sentence each."""
    remediation: str
    source: str
    """The record's public page (NVD / CVE.org) or the KEV catalogue's."""
    source_date: date | None = None
    """The as-of date of the data the finding rests on (record update or catalogue release)."""
    kev: bool = False
    kev_added: date | None = None
    kev_due: date | None = None
    cvss_score: float | None = None
    cvss_version: str = ""
    cvss_source: str = ""
    cvss_severity: str = ""
    affected_range: str = ""
    fixed_version: str = ""
    """The first fixed version where the record publishes one (an exclusive upper bound)."""
    matched_through: str = ""
    """The true maker whose platform carries the flaw when the device is sold under a brand."""

    def __post_init__(self) -> None:
        if not self.source:
            raise ValueError(f"finding {self.cve} needs a source")
        if not self.evidence:
            raise ValueError(f"finding {self.cve} needs an evidence chain")


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
            if attempt.reason in _ANSWER_REASONS:
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
