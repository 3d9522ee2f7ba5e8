"""Attach known-vulnerability findings to the devices of a report (the audit and `report` call it).

Findings are computed from the identification and the vulnerability data imported now, for the
report's audience, each time a report is produced: a KEV entry added since the scan reaches the
devices the next time the report is rendered, as the official lists do.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from auditor import resources
from auditor.exposure.remediation import priority
from auditor.models import (
    Audience,
    AuditReport,
    DataVersion,
    DeviceResult,
    Remediation,
    RemediationAction,
    VulnStatus,
)
from auditor.vulns import store
from auditor.vulns.matching import VulnMatcher
from auditor.vulns.records import KEV_URL, VulnData

#: CISA adds entries to KEV every week or two; data older than this is flagged as stale.
MAX_AGE_DAYS = 30
DATA_NAME = "vulnerability data"
NO_DATA_NOTE = "No vulnerability data imported"
IMPORT_COMMAND = "camaudit data import-kev FILE"
_OUR_NOTES = (NO_DATA_NOTE, "Known vulnerabilities:")


@dataclass(frozen=True)
class VulnAssessor:
    data: VulnData
    today: date

    @classmethod
    def load(cls, root: Path, *, today: date) -> VulnAssessor:
        """What the user imported into ``root``, with the active data bundle's vulns if any."""
        data = store.load(root)
        bundle = resources.data_in_use().bundle
        if bundle is not None and "vulns" in bundle.manifest.components:
            label = f"bundle {bundle.manifest.version}"
            data = store.combine(data, store.load(bundle.data_path), label)
        return cls(data, today)

    def data_versions(self) -> tuple[DataVersion, ...]:
        out = []
        for ds in self.data.datasets:
            # Only the catalogue has a release date; a CVE file's date is its newest record's
            # update, which says nothing about when it was downloaded, so it is shown, not judged.
            stale = ds.kind == "kev" and (
                ds.as_of is None or (self.today - ds.as_of).days > MAX_AGE_DAYS
            )
            what = "CISA KEV catalogue" if ds.kind == "kev" else "CVE records"
            out.append(
                DataVersion(
                    name=f"{DATA_NAME}: {what}",
                    version=f"{ds.file_name} sha256:{ds.sha256[:12]} ({ds.entries} entries"
                    + (f"; {ds.detail})" if ds.detail else ")"),
                    as_of=ds.as_of,
                    source=KEV_URL
                    if ds.kind == "kev"
                    else "https://nvd.nist.gov / https://www.cve.org",
                    stale=stale,
                )
            )
        return tuple(out)

    def notes(self) -> tuple[str, ...]:
        if self.data.empty:
            return (
                f"{NO_DATA_NOTE}: known-exploited firmware flaws were not checked. Import CISA's "
                f"KEV catalogue with `{IMPORT_COMMAND}` and CVE records with "
                "`camaudit data import-cve FILE`.",
            )
        return (
            "Known vulnerabilities: a KEV entry on a device running an affected firmware "
            "weighs HIGH (CRITICAL for us-federal-agency, BOD 22-01), possibly affected MEDIUM; "
            "other flaws MEDIUM at CVSS 9.0 or more, else LOW. --fail-on counts them.",
        )

    def device(
        self, device: DeviceResult, matcher: VulnMatcher, audience: Audience
    ) -> DeviceResult:
        findings = matcher.match(device.identification, audience)
        remediation = device.remediation
        exploited = [f for f in findings if f.kev and f.status is VulnStatus.AFFECTED]
        if exploited and (
            remediation is None
            or remediation.action in (RemediationAction.NONE, RemediationAction.MONITOR)
        ):
            top = max(f.severity for f in exploited)
            cves = ", ".join(f.cve for f in exploited[:3])
            remediation = Remediation(
                action=RemediationAction.ISOLATE,
                priority=priority(top, device.identification.device_type),
                why=f"Known-exploited flaw in its firmware ({cves}): {exploited[0].remediation}",
            )
        return replace(device, vulnerabilities=findings, remediation=remediation)

    def attach(self, report: AuditReport) -> AuditReport:
        matcher = VulnMatcher(self.data)
        devices = tuple(self.device(d, matcher, report.audit.profile) for d in report.devices)
        versions = (
            tuple(v for v in report.audit.data_versions if not v.name.startswith(DATA_NAME))
            + self.data_versions()
        )
        notes = tuple(n for n in report.notes if not n.startswith(_OUR_NOTES)) + self.notes()
        audit = replace(report.audit, data_versions=versions)
        return replace(report, audit=audit, devices=devices, notes=notes)
