"""Read the files users download: CISA's KEV catalogue (JSON or CSV), NVD CVE API 2.0 JSON and
CVE List v5 JSON. Bad input is a clear VulnDataError naming the file; nothing is half-read.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from auditor.errors import CamauditError
from auditor.vulns.cpe import Cpe
from auditor.vulns.records import Applicability, CveRecord, Cvss, KevEntry

#: The KEV catalogue lists ~1,400 entries and NVD's largest camera records run to a few MB; this
#: bounds what one file may hold so a wrong file is refused instead of filling memory.
MAX_FILE_BYTES = 512 * 1024 * 1024
KEV_FIELDS = ("cveID", "vendorProject", "product", "dateAdded")


class VulnDataError(CamauditError):
    """A vulnerability data file that cannot be read as the format it claims."""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _date(value: Any) -> date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def _kev_row(row: dict[str, Any], where: str) -> KevEntry:
    missing = [f for f in KEV_FIELDS if not str(row.get(f) or "").strip()]
    if missing:
        raise VulnDataError(f"{where}: a KEV entry lacks {', '.join(missing)}")
    added = _date(row.get("dateAdded"))
    if added is None:
        raise VulnDataError(f"{where}: dateAdded {row.get('dateAdded')!r} is not a date")
    return KevEntry(
        cve=str(row["cveID"]).strip().upper(),
        vendor_project=str(row["vendorProject"]).strip(),
        product=str(row["product"]).strip(),
        name=str(row.get("vulnerabilityName") or "").strip(),
        date_added=added,
        due_date=_date(row.get("dueDate")),
        required_action=str(row.get("requiredAction") or "").strip(),
        ransomware=str(row.get("knownRansomwareCampaignUse") or "").strip(),
        notes=str(row.get("notes") or "").strip(),
    )


def read_kev(data: bytes, name: str) -> tuple[tuple[KevEntry, ...], date | None, str]:
    """KEV entries, the catalogue's release date and its version (JSON), from JSON or CSV."""
    text = _text(data, name)
    if text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise VulnDataError(f"{name}: not valid JSON ({exc})") from None
        rows = doc.get("vulnerabilities") if isinstance(doc, dict) else None
        if not isinstance(rows, list):
            raise VulnDataError(f"{name}: not a KEV catalogue (no 'vulnerabilities' list)")
        entries = tuple(
            _kev_row(r if isinstance(r, dict) else {}, f"{name} entry {i + 1}")
            for i, r in enumerate(rows)
        )
        if not isinstance(doc, dict):  # pragma: no cover - checked above
            raise VulnDataError(f"{name}: not a KEV catalogue")
        released = _date(doc.get("dateReleased"))
        return entries, released, str(doc.get("catalogVersion") or "")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or not set(KEV_FIELDS) <= set(reader.fieldnames):
        raise VulnDataError(
            f"{name}: not a KEV catalogue CSV (its header lacks {', '.join(KEV_FIELDS)})"
        )
    entries = tuple(_kev_row(r, f"{name} line {i + 2}") for i, r in enumerate(reader))
    # The CSV carries no release date: the newest dateAdded is the latest it can be as of.
    newest = max((e.date_added for e in entries), default=None)
    return entries, newest, ""


def _text(data: bytes, name: str) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise VulnDataError(f"{name}: larger than {MAX_FILE_BYTES // 2**20} MiB: refused")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise VulnDataError(f"{name}: not UTF-8 text") from None


# --- CVE records ---------------------------------------------------------------------------


def read_cve_file(data: bytes, name: str) -> tuple[CveRecord, ...]:
    """Every CVE record in an NVD API 2.0 response, a bare NVD ``cve`` object, a CVE List v5
    record, or a JSON list of any of these."""
    text = _text(data, name)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise VulnDataError(f"{name}: not valid JSON ({exc})") from None
    try:
        records = tuple(_records(doc, name))
    except (TypeError, ValueError, AttributeError, KeyError) as exc:
        # A field of the wrong type (a score that is not a number, a list where an object
        # belongs): the file is refused whole, naming it, rather than half-read.
        raise VulnDataError(
            f"{name}: a CVE record is malformed ({type(exc).__name__}: {exc})"
        ) from None
    if not records:
        raise VulnDataError(
            f"{name}: no CVE record found (expected NVD CVE API 2.0 JSON or CVE List v5 JSON)"
        )
    return records


def _records(doc: Any, name: str) -> Iterator[CveRecord]:
    if isinstance(doc, list):
        for item in doc:
            yield from _records(item, name)
        return
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("vulnerabilities"), list):  # NVD API 2.0 response
        for item in doc["vulnerabilities"]:
            cve = item.get("cve") if isinstance(item, dict) else None
            if isinstance(cve, dict):
                yield _nvd(cve, name)
        return
    if doc.get("dataType") == "CVE_RECORD" or "cveMetadata" in doc:
        yield _cve5(doc, name)
        return
    if isinstance(doc.get("id"), str) and "configurations" in doc or "sourceIdentifier" in doc:
        yield _nvd(doc, name)


def _cve_id(value: Any, name: str) -> str:
    text = str(value or "").strip().upper()
    if not text.startswith("CVE-"):
        raise VulnDataError(f"{name}: a record without a CVE id ({value!r})")
    return text


def _en(descriptions: Any) -> str:
    for d in descriptions if isinstance(descriptions, list) else ():
        if isinstance(d, dict) and d.get("lang", "").startswith("en"):
            return str(d.get("value") or "")
    return ""


def _nvd(cve: dict[str, Any], name: str) -> CveRecord:
    cve_id = _cve_id(cve.get("id"), name)
    scores: list[Cvss] = []
    metrics = _dict(cve.get("metrics"))
    for key, items in metrics.items():
        if not key.startswith("cvssMetricV") or not isinstance(items, list):
            continue
        for m in items:
            data = m.get("cvssData") if isinstance(m, dict) else None
            if not isinstance(data, dict) or "baseScore" not in data:
                continue
            scores.append(
                Cvss(
                    version=str(data.get("version") or key.removeprefix("cvssMetricV")),
                    score=float(data["baseScore"]),
                    severity=str(data.get("baseSeverity") or m.get("baseSeverity") or ""),
                    vector=str(data.get("vectorString") or ""),
                    source=str(m.get("source") or ""),
                )
            )
    return CveRecord(
        cve=cve_id,
        description=_en(cve.get("descriptions")),
        published=_date(cve.get("published")),
        updated=_date(cve.get("lastModified")),
        source_format="nvd-2.0",
        cvss=tuple(scores),
        applicability=tuple(_nvd_applicability(cve.get("configurations"))),
        references=_urls(cve.get("references")),
        kev_added=_date(cve.get("cisaExploitAdd")),
        kev_due=_date(cve.get("cisaActionDue")),
    )


def _nvd_applicability(configurations: Any) -> Iterable[Applicability]:
    for config in configurations if isinstance(configurations, list) else ():
        for node in config.get("nodes") or () if isinstance(config, dict) else ():
            if not isinstance(node, dict) or node.get("negate"):
                continue
            for match in node.get("cpeMatch") or ():
                if not isinstance(match, dict) or not match.get("vulnerable"):
                    continue  # the hardware half of a firmware AND hardware pair
                cpe = Cpe.parse(str(match.get("criteria") or ""))
                if cpe is None:
                    continue
                bounds = {
                    k: str(match.get(k) or "")
                    for k in (
                        "versionStartIncluding",
                        "versionStartExcluding",
                        "versionEndIncluding",
                        "versionEndExcluding",
                    )
                }
                exact = cpe.version if cpe.version not in ("*", "-", "") else ""
                yield Applicability(
                    vendor=cpe.vendor,
                    model=cpe.model,
                    cpe=cpe.text,
                    version=exact,
                    start_including=bounds["versionStartIncluding"],
                    start_excluding=bounds["versionStartExcluding"],
                    end_including=bounds["versionEndIncluding"],
                    end_excluding=bounds["versionEndExcluding"],
                    all_versions=cpe.version == "*" and not any(bounds.values()),
                )


def _cve5(doc: dict[str, Any], name: str) -> CveRecord:
    meta = _dict(doc.get("cveMetadata"))
    cve_id = _cve_id(meta.get("cveId"), name)
    containers = _dict(doc.get("containers"))
    cna = _dict(containers.get("cna"))
    adps = [a for a in containers.get("adp") or () if isinstance(a, dict)]
    scores: list[Cvss] = []
    kev_added: date | None = None
    for container, who in [(cna, _short(cna)), *((a, _short(a)) for a in adps)]:
        for metric in container.get("metrics") or ():
            if not isinstance(metric, dict):
                continue
            for key, data in metric.items():
                if key.startswith("cvssV") and isinstance(data, dict) and "baseScore" in data:
                    scores.append(
                        Cvss(
                            version=str(data.get("version") or ""),
                            score=float(data["baseScore"]),
                            severity=str(data.get("baseSeverity") or ""),
                            vector=str(data.get("vectorString") or ""),
                            source=who,
                        )
                    )
                elif key == "other" and isinstance(data, dict) and data.get("type") == "kev":
                    content = _dict(data.get("content"))
                    kev_added = _date(content.get("dateAdded")) or kev_added
    return CveRecord(
        cve=cve_id,
        description=_en(cna.get("descriptions")),
        published=_date(meta.get("datePublished")),
        updated=_date(meta.get("dateUpdated")),
        source_format="cve-5",
        cvss=tuple(scores),
        applicability=tuple(_cve5_applicability(cna.get("affected"))),
        references=_urls(cna.get("references")),
        kev_added=kev_added,
    )


def _short(container: dict[str, Any]) -> str:
    meta = container.get("providerMetadata")
    return str(meta.get("shortName") or "") if isinstance(meta, dict) else ""


_NOT_A_NAME = ("", "n/a", "na", "unknown")


def _cve5_applicability(affected: Any) -> Iterable[Applicability]:
    for item in affected if isinstance(affected, list) else ():
        if not isinstance(item, dict):
            continue
        vendor = str(item.get("vendor") or "").strip().lower()
        product = str(item.get("product") or "").strip().lower()
        if vendor in _NOT_A_NAME or product in _NOT_A_NAME:
            continue  # "n/a": the record names no product a device can be matched to
        default_affected = item.get("defaultStatus") == "affected"
        versions = [v for v in item.get("versions") or () if isinstance(v, dict)]
        if not versions and default_affected:
            yield Applicability(vendor=vendor, model=product, all_versions=True)
        for v in versions:
            if v.get("status") != "affected":
                continue
            start = str(v.get("version") or "")
            less, less_eq = str(v.get("lessThan") or ""), str(v.get("lessThanOrEqual") or "")
            if less or less_eq:
                yield Applicability(
                    vendor=vendor,
                    model=product,
                    start_including=start if start not in ("0", "*", "n/a") else "",
                    end_excluding=less if less != "*" else "",
                    end_including=less_eq if less_eq != "*" else "",
                )
            else:
                yield Applicability(vendor=vendor, model=product, version=start)


def _urls(references: object) -> tuple[str, ...]:
    """The ``url`` of each reference object (NVD and CVE List v5 write them alike)."""
    if not isinstance(references, list):
        return ()
    return tuple(str(r["url"]) for r in references if isinstance(r, dict) and "url" in r)
