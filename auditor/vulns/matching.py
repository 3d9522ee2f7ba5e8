"""From an identification (true maker, brand, model, firmware) to the published flaws it carries.

The rules, in order (docs/decisions.md, "Known vulnerabilities"):

* Records are matched on the TRUE maker's CPE vendor names, and on the presented brand's: an
  "Annke" camera made by Hikvision carries Hikvision's flaws ("matched through true maker").
* A record that lists models is matched on the model (exactly, or as a product family such as
  Dahua's IPC-HX3XXX); a device whose model the record does not list is not reported, unless
  it is a relabel (its brand's model names are not the maker's) or its model is unknown, and the
  flaw is known exploited: then it is "possibly affected".
* "Affected" needs a firmware version inside a range the record publishes. No firmware version,
  no published range, or a numbering that cannot be compared gives "possibly affected" with the
  reason; a version outside every range is not reported. A version is never guessed.
* A KEV entry without an imported CVE record is matched on its vendor alone: "possibly affected".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from auditor.models import Audience, Identification, Severity, VulnFinding, VulnStatus
from auditor.vulns.cpe import family_pattern, model_key
from auditor.vulns.records import KEV_URL, Applicability, CveRecord, KevEntry, VulnData
from auditor.vulns.versions import FirmwareVersion, Order

#: CPE vendor names that differ from the maker's own name, as NVD writes them (the Dahua name is
#: in every NVD record of Dahua firmware, e.g. CVE-2021-33044: cpe:2.3:o:dahuasecurity:...).
CPE_VENDORS: Mapping[str, tuple[str, ...]] = {"dahua": ("dahuasecurity", "dahua")}
#: Who published a CVSS score, for the organisation ids NVD writes instead of names (the CVE
#: List v5 record of CVE-2021-36260 names org 134c704f-9b21-4f2e-91b3-4a467353bcc0 CISA-ADP).
SCORE_SOURCES: Mapping[str, str] = {
    "nvd@nist.gov": "NVD",
    "134c704f-9b21-4f2e-91b3-4a467353bcc0": "CISA-ADP",
}
BOD_22_01 = "https://www.cisa.gov/news-events/directives/bod-22-01-reducing-significant-risk-known-exploited-vulnerabilities"


def vendor_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def cpe_vendors(maker: str) -> tuple[str, ...]:
    key = vendor_key(maker)
    return CPE_VENDORS.get(key, (key,))


def weigh(status: VulnStatus, kev: bool, cvss: float | None, audience: Audience) -> Severity:
    """The severity a finding adds to the device for ``--fail-on`` and the report.

    A known-exploited flaw on a device that runs an affected firmware is HIGH (CRITICAL for US
    federal agencies, whom CISA's BOD 22-01 binds to remediate KEV entries by their due date);
    "possibly affected" is one step lower. A flaw not known exploited weighs MEDIUM at CVSS 9.0 or
    more, else LOW; "possibly affected" without KEV is INFO (reported, never failing a gate).
    """
    affected = status is VulnStatus.AFFECTED
    if kev:
        if affected:
            return Severity.CRITICAL if audience is Audience.US_FEDERAL_AGENCY else Severity.HIGH
        return Severity.MEDIUM
    if not affected:
        return Severity.INFO
    return Severity.MEDIUM if cvss is not None and cvss >= 9.0 else Severity.LOW


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: VulnStatus | None
    """None: the device's firmware is outside every published range (not reported)."""
    reason: str
    app: Applicability | None
    how: str = ""


def _in_range(fw: FirmwareVersion, app: Applicability) -> tuple[bool | None, str]:
    """True/False, or None with why the published range cannot decide."""
    if not app.has_range:
        if app.all_versions:
            return True, "the record says every version is affected"
        return None, "the record names the model but publishes no affected version range"
    checks: list[tuple[str, tuple[Order, ...]]] = []
    if app.version:
        checks.append((app.version, (Order.EQUAL,)))
    if app.start_including:
        checks.append((app.start_including, (Order.GREATER, Order.EQUAL)))
    if app.start_excluding:
        checks.append((app.start_excluding, (Order.GREATER,)))
    if app.end_including:
        checks.append((app.end_including, (Order.LESS, Order.EQUAL)))
    if app.end_excluding:
        checks.append((app.end_excluding, (Order.LESS,)))
    unknown = ""
    for bound, wanted in checks:
        other = FirmwareVersion.parse(bound)
        order = fw.compare(other) if other is not None else Order.UNKNOWN
        if order is Order.UNKNOWN:
            unknown = (
                f"firmware {fw.text!r} cannot be compared with the published {bound!r} "
                "(different numbering, or only a build date the device does not report decides)"
            )
        elif order not in wanted:
            return False, ""
    if unknown:
        return None, unknown
    return True, f"firmware {fw.text!r} is within the published range {app.range_text()}"


class VulnMatcher:
    """The imported data indexed by vendor, so that 2,000 devices match in well under a second."""

    def __init__(self, data: VulnData) -> None:
        self.data = data
        # Per vendor: every affected product by exact model key, and the family names apart
        # (few), so a device costs one lookup plus the families, not a scan of every CPE.
        self._exact: dict[str, dict[str, list[tuple[CveRecord, Applicability]]]] = defaultdict(
            lambda: defaultdict(list)
        )
        self._families: dict[str, list[tuple[CveRecord, Applicability, re.Pattern[str]]]] = (
            defaultdict(list)
        )
        self._cves: dict[str, set[str]] = defaultdict(set)
        for record in data.records.values():
            for app in record.applicability:
                vendor = vendor_key(app.vendor)
                self._cves[vendor].add(record.cve)
                pattern = family_pattern(app.model)
                if pattern is None:
                    self._exact[vendor][model_key(app.model)].append((record, app))
                else:
                    self._families[vendor].append((record, app, pattern))
        self._kev: dict[str, list[KevEntry]] = defaultdict(list)
        for entry in data.kev.values():
            self._kev[vendor_key(entry.vendor_project)].append(entry)
        self._memo: dict[tuple[str, str], dict[str, list[tuple[Applicability, str]]]] = {}

    def _model_hits(
        self, vendor: str, model: str | None
    ) -> dict[str, list[tuple[Applicability, str]]]:
        """CVE -> the record's products this model is (exactly or by family), memoised."""
        key = model_key(model) if model else ""
        memo = self._memo.get((vendor, key))
        if memo is not None:
            return memo
        hits: dict[str, list[tuple[Applicability, str]]] = defaultdict(list)
        if key:
            for record, app in self._exact.get(vendor, {}).get(key, ()):
                hits[record.cve].append((app, "exact"))
            for record, app, pattern in self._families.get(vendor, ()):
                if pattern.match(key):
                    hits[record.cve].append((app, "family"))
        self._memo[(vendor, key)] = hits
        return hits

    def match(self, ident: Identification, audience: Audience) -> tuple[VulnFinding, ...]:
        maker = ident.manufacturer
        if maker is None:
            return ()  # the maker is unknown: already "review", never guessed here
        names = [(maker, True)]
        if ident.brand and vendor_key(ident.brand) != vendor_key(maker):
            names.append((ident.brand, False))
        found: dict[str, VulnFinding] = {}
        for name, is_maker in names:
            for finding in self._for_vendor(ident, name, is_maker, audience):
                known = found.get(finding.cve)
                if known is None or _rank(finding) > _rank(known):
                    found[finding.cve] = finding
        return tuple(sorted(found.values(), key=lambda f: (-f.severity.value, f.cve)))

    def _for_vendor(
        self, ident: Identification, name: str, is_maker: bool, audience: Audience
    ) -> Iterable[VulnFinding]:
        listed: set[str] = set()
        hits: dict[str, list[tuple[Applicability, str]]] = {}
        for vendor in cpe_vendors(name):
            listed |= self._cves.get(vendor, set())
            for cve, found in self._model_hits(vendor, ident.model).items():
                hits.setdefault(cve, []).extend(found)
        kev_here = {e.cve: e for e in self._kev.get(vendor_key(name), ())}
        for cve in sorted(listed | set(kev_here)):
            record = self.data.records.get(cve)
            kev = kev_here.get(cve) or self.data.kev.get(cve)
            verdict = self._verdict(
                ident, name, cve in listed, hits.get(cve, []), kev is not None or _kev_in(record)
            )
            if verdict is None or verdict.status is None:
                continue
            yield self._finding(ident, name, is_maker, record, kev, verdict, audience)

    def _verdict(
        self,
        ident: Identification,
        name: str,
        has_products: bool,
        matched: list[tuple[Applicability, str]],
        known_exploited: bool,
    ) -> _Verdict | None:
        if not has_products:
            if not known_exploited:
                return None
            return _Verdict(
                VulnStatus.POSSIBLY_AFFECTED,
                f"CISA's KEV catalogue names {name}'s products; no CVE record listing the "
                "affected models and versions has been imported (camaudit data import-cve)",
                None,
            )
        if not matched:
            if not known_exploited:
                return None
            if ident.model is None:
                why = "the model is unknown, and the record lists affected models of this maker"
            elif ident.oem_relabel:
                why = (
                    f"sold as {ident.brand} {ident.model}: the record lists the maker's own model "
                    "names, so which of them this unit is must be checked"
                )
            else:
                return None  # the record lists the affected models and this one is not among them
            return _Verdict(VulnStatus.POSSIBLY_AFFECTED, why, None)
        fw = FirmwareVersion.parse(ident.firmware) if ident.firmware else None
        if fw is None:
            app, how = matched[0]
            return _Verdict(VulnStatus.POSSIBLY_AFFECTED, "firmware unknown", app, how)
        undecided: _Verdict | None = None
        for app, how in matched:
            inside, why = _in_range(fw, app)
            if inside:
                return _Verdict(VulnStatus.AFFECTED, why, app, how)
            if inside is None and undecided is None:
                undecided = _Verdict(VulnStatus.POSSIBLY_AFFECTED, why, app, how)
        return undecided or _Verdict(None, "", None)

    def _finding(
        self,
        ident: Identification,
        name: str,
        is_maker: bool,
        record: CveRecord | None,
        kev: KevEntry | None,
        verdict: _Verdict,
        audience: Audience,
    ) -> VulnFinding:
        cve = record.cve if record is not None else kev.cve if kev is not None else "?"
        maker = ident.manufacturer or name
        relabel = bool(ident.oem_relabel and ident.brand)
        cvss = record.best_cvss() if record is not None else None
        kev_added = kev.date_added if kev is not None else record.kev_added if record else None
        kev_due = kev.due_date if kev is not None else record.kev_due if record else None
        is_kev = kev_added is not None
        evidence: list[str] = []
        if is_maker and relabel:
            evidence.append(
                f"matched through true maker {maker}: the device presents the brand "
                f"{ident.brand}, and its platform is {maker}'s"
            )
        elif is_maker:
            evidence.append(f"maker {maker} matched the published vendor")
        else:
            evidence.append(f"brand {name} (as the device presents itself) matched the vendor")
        app = verdict.app
        if app is not None:
            kind = "as a product family" if verdict.how == "family" else "exactly"
            evidence.append(
                f"model {ident.model} matched {app.cpe or app.model} {kind}; published range: "
                f"{app.range_text()}"
            )
        evidence.append(
            f"firmware {ident.firmware}" if ident.firmware else "firmware version not observed"
        )
        if kev is not None:
            evidence.append(
                f"CISA KEV: {kev.vendor_project} {kev.product}, added {kev.date_added}"
                + (f", due {kev.due_date}" if kev.due_date else "")
                + (f"; required action: {kev.required_action}" if kev.required_action else "")
            )
        elif is_kev:
            evidence.append(f"the CVE record says CISA added it to KEV on {kev_added}")
        if record is not None:
            kind = "NVD CVE API 2.0" if record.source_format == "nvd-2.0" else "CVE List v5"
            evidence.append(f"CVE record ({kind}), updated {record.updated}")
        if kev is not None and kev.notes:
            evidence.append(f"KEV notes: {kev.notes}")
        fixed = app.end_excluding if app is not None else ""
        advisory = _maker_advisory(record, maker)
        title = (kev.name if kev is not None and kev.name else "") or (
            _first_sentence(record.description) if record is not None else cve
        )
        source = record.url if record is not None else f"{KEV_URL}?field_cve={cve}"
        source_date = record.updated if record is not None else kev_added
        return VulnFinding(
            cve=cve,
            status=verdict.status or VulnStatus.POSSIBLY_AFFECTED,
            severity=weigh(
                verdict.status or VulnStatus.POSSIBLY_AFFECTED,
                is_kev,
                cvss.score if cvss else None,
                audience,
            ),
            title=title,
            reason=verdict.reason,
            evidence=tuple(evidence),
            remediation=_remediation(ident, maker, fixed, verdict.status, relabel, advisory),
            source=source,
            source_date=source_date,
            kev=is_kev,
            kev_added=kev_added,
            kev_due=kev_due,
            cvss_score=cvss.score if cvss else None,
            cvss_version=cvss.version if cvss else "",
            cvss_source=SCORE_SOURCES.get(cvss.source, cvss.source) if cvss else "",
            cvss_severity=cvss.severity if cvss else "",
            affected_range=app.range_text() if app is not None else "",
            fixed_version=fixed,
            matched_through=maker if relabel and is_maker else "",
        )


def _kev_in(record: CveRecord | None) -> bool:
    return record is not None and record.kev_added is not None


def _rank(f: VulnFinding) -> tuple[int, int]:
    return (1 if f.status is VulnStatus.AFFECTED else 0, f.severity.value)


def _first_sentence(text: str) -> str:
    head = text.split(". ", 1)[0].strip()
    return head[:160] + ("..." if len(head) > 160 else "")


def _maker_advisory(record: CveRecord | None, maker: str) -> str:
    """The record's reference on the maker's own site (its advisory lists the fixed firmware)."""
    if record is None:
        return ""
    names = {vendor_key(maker), *cpe_vendors(maker)}
    for url in record.references:
        host = url.split("//", 1)[-1].split("/", 1)[0].lower()
        if url.startswith("https://") and any(n and n in host.replace(".", "") for n in names):
            return url
    return ""


def _remediation(
    ident: Identification,
    maker: str,
    fixed: str,
    status: VulnStatus | None,
    relabel: bool,
    advisory: str = "",
) -> str:
    target = f"firmware {fixed} or later" if fixed else "a firmware the maker lists as fixed"
    if advisory:
        target += f" (the maker's advisory: {advisory})"
    if status is VulnStatus.AFFECTED:
        text = (
            f"Update to {target} from {maker}'s own download channel (never a third-party "
            "mirror), or isolate the device from untrusted networks until it is updated."
        )
    elif not ident.firmware:
        text = (
            "Read the firmware version on the device (or give camaudit credentials so it can), "
            f"compare it with the record, then update to {target} or isolate the device."
        )
    else:
        text = (
            f"Check this model and its firmware ({ident.firmware}) against the record, then "
            f"update to {target} or isolate the device."
        )
    if relabel:
        text += (
            f" Its firmware is {maker}'s platform sold as {ident.brand}: take the update from "
            f"{ident.brand}'s support channel, which builds on {maker}'s fix; if {ident.brand} "
            "publishes none, isolate or replace the device."
        )
    return text
