"""The vulnerability data camaudit keeps: KEV entries and CVE records with their applicability.

Values are frozen and carry where they came from (file, catalogue version, record date), so a
finding in a report can name its source and date.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

KEV_URL = "https://www.cisa.gov/known-exploited-vulnerabilities-catalog"
NVD_URL = "https://nvd.nist.gov/vuln/detail/"
CVE_ORG_URL = "https://www.cve.org/CVERecord?id="


@dataclass(frozen=True, slots=True)
class KevEntry:
    """One row of CISA's Known Exploited Vulnerabilities catalogue, as CISA wrote it."""

    cve: str
    vendor_project: str
    product: str
    name: str
    date_added: date
    due_date: date | None
    required_action: str
    ransomware: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class Cvss:
    """A CVSS score as published: its version, and who published it (NVD, the CNA, CISA ADP)."""

    version: str
    score: float
    severity: str
    vector: str
    source: str


@dataclass(frozen=True, slots=True)
class Applicability:
    """One product a record says is affected, with the version range exactly as published.

    ``cpe`` is the NVD criteria (or a CVE List v5 ``cpes`` entry); ``vendor`` and ``model`` come
    from it (or from the v5 ``vendor``/``product``). No bound and ``all_versions`` False means
    the record names the product but publishes no version range (NVD's ``-``).
    """

    vendor: str
    model: str
    cpe: str = ""
    version: str = ""
    """An exact affected version (a v5 ``version`` without ``lessThan``), else empty."""
    start_including: str = ""
    start_excluding: str = ""
    end_including: str = ""
    end_excluding: str = ""
    all_versions: bool = False
    """The record says every version is affected (NVD ``*`` with no bound)."""

    @property
    def has_range(self) -> bool:
        return bool(
            self.version
            or self.start_including
            or self.start_excluding
            or self.end_including
            or self.end_excluding
        )

    def range_text(self) -> str:
        parts = []
        if self.version:
            return f"= {self.version}"
        if self.start_including:
            parts.append(f">= {self.start_including}")
        if self.start_excluding:
            parts.append(f"> {self.start_excluding}")
        if self.end_including:
            parts.append(f"<= {self.end_including}")
        if self.end_excluding:
            parts.append(f"< {self.end_excluding}")
        if parts:
            return ", ".join(parts)
        return "all versions" if self.all_versions else "no version range published"


@dataclass(frozen=True, slots=True)
class CveRecord:
    cve: str
    description: str
    published: date | None
    updated: date | None
    source_format: str
    """"nvd-2.0" or "cve-5"."""
    cvss: tuple[Cvss, ...] = ()
    applicability: tuple[Applicability, ...] = ()
    references: tuple[str, ...] = ()
    kev_added: date | None = None
    """The KEV date the record itself carries (NVD ``cisaExploitAdd``, CISA ADP ``kev``)."""
    kev_due: date | None = None

    @property
    def url(self) -> str:
        return (NVD_URL if self.source_format == "nvd-2.0" else CVE_ORG_URL) + self.cve

    def best_cvss(self) -> Cvss | None:
        """The newest CVSS version published, the primary (NVD) score first within it."""
        if not self.cvss:
            return None
        return sorted(self.cvss, key=lambda c: (c.version, c.source == "nvd@nist.gov"))[-1]


@dataclass(frozen=True, slots=True)
class DataSet:
    """An imported file: what it was, its as-of date and digest (for reports and status)."""

    kind: str
    """"kev" or "cve"."""
    file_name: str
    sha256: str
    as_of: date | None
    entries: int
    detail: str = ""


@dataclass(frozen=True, slots=True)
class VulnData:
    kev: dict[str, KevEntry] = field(default_factory=dict)
    records: dict[str, CveRecord] = field(default_factory=dict)
    datasets: tuple[DataSet, ...] = ()

    @property
    def empty(self) -> bool:
        return not self.kev and not self.records


def json_safe(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    return value
