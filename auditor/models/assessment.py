"""Assessment: audiences, severities, regulatory exposures, remediation, vulnerability findings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import Enum, StrEnum
from typing import NewType

InstrumentId = NewType("InstrumentId", str)


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
