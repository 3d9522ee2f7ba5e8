"""Imported vulnerability data in the user's data folder, with each file's as-of date.

Layout (``camaudit data import-kev`` / ``import-cve`` write it, audits and reports read it)::

    <data dir>/vulns/kev.json   the KEV catalogue last imported (replaces the previous one)
    <data dir>/vulns/cve.json   CVE records (a later import replaces a record of the same id and
                                format; NVD's and CVE List v5's of one CVE are merged on load)

Each file is written whole to a temporary file and renamed into place, so an import that fails
(a bad file, a full disk) leaves the previous data exactly as it was.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from auditor.vulns.importers import VulnDataError, read_cve_file, read_kev
from auditor.vulns.records import (
    Applicability,
    CveRecord,
    Cvss,
    DataSet,
    KevEntry,
    VulnData,
    json_safe,
)

FOLDER = "vulns"
KEV_FILE = "kev.json"
CVE_FILE = "cve.json"
FORMAT_VERSION = 1


def folder(root: Path) -> Path:
    return root / FOLDER


def _write(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".import-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, default=json_safe, ensure_ascii=False)
            fh.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise VulnDataError(f"{path}: unreadable ({exc}); import the file again") from None
    if not isinstance(doc, dict) or doc.get("format_version") != FORMAT_VERSION:
        raise VulnDataError(f"{path}: not camaudit vulnerability data; import the file again")
    return doc


def import_kev(root: Path, source: Path) -> DataSet:
    data = source.read_bytes()
    entries, released, version = read_kev(data, source.name)
    dataset = DataSet(
        kind="kev",
        file_name=source.name,
        sha256=hashlib.sha256(data).hexdigest(),
        as_of=released,
        entries=len(entries),
        detail=f"catalogVersion {version}" if version else "CSV (as of its newest dateAdded)",
    )
    _write(
        folder(root) / KEV_FILE,
        {
            "format_version": FORMAT_VERSION,
            "dataset": asdict(dataset),
            "entries": [asdict(e) for e in entries],
        },
    )
    return dataset


def import_cve(root: Path, sources: Sequence[Path]) -> tuple[DataSet, ...]:
    """Read every file first (one bad file imports nothing), then merge into cve.json."""
    read: list[tuple[Path, bytes, tuple[CveRecord, ...]]] = []
    for source in sources:
        data = source.read_bytes()
        read.append((source, data, read_cve_file(data, source.name)))
    doc = _read(folder(root) / CVE_FILE) or {"datasets": [], "records": []}
    # One record per CVE and format: NVD's configurations and the CVE List v5 record of the same
    # CVE complement each other (load() merges them), so neither replaces the other.
    records = {(r["cve"], r["source_format"]): r for r in doc["records"]}
    datasets = [d for d in doc["datasets"] if isinstance(d, dict)]
    made = []
    for source, data, recs in read:
        for r in recs:
            records[(r.cve, r.source_format)] = asdict(r)
        dates = [r.updated for r in recs if r.updated is not None]
        dataset = DataSet(
            kind="cve",
            file_name=source.name,
            sha256=hashlib.sha256(data).hexdigest(),
            as_of=max(dates) if dates else None,
            entries=len(recs),
            detail=", ".join(sorted({r.source_format for r in recs})),
        )
        datasets = [d for d in datasets if d.get("file_name") != source.name]
        datasets.append(asdict(dataset))
        made.append(dataset)
    _write(
        folder(root) / CVE_FILE,
        {
            "format_version": FORMAT_VERSION,
            "datasets": datasets,
            "records": [records[k] for k in sorted(records)],
        },
    )
    return tuple(made)


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) and value else None


def _dataset(d: dict[str, Any]) -> DataSet:
    return DataSet(
        kind=str(d["kind"]),
        file_name=str(d["file_name"]),
        sha256=str(d["sha256"]),
        as_of=_day(d.get("as_of")),
        entries=int(d["entries"]),
        detail=str(d.get("detail") or ""),
    )


def _record(r: dict[str, Any]) -> CveRecord:
    return CveRecord(
        cve=r["cve"],
        description=r["description"],
        published=_day(r.get("published")),
        updated=_day(r.get("updated")),
        source_format=r["source_format"],
        cvss=tuple(Cvss(**c) for c in r.get("cvss") or ()),
        applicability=tuple(Applicability(**a) for a in r.get("applicability") or ()),
        references=tuple(r.get("references") or ()),
        kev_added=_day(r.get("kev_added")),
        kev_due=_day(r.get("kev_due")),
    )


def merge(a: CveRecord, b: CveRecord) -> CveRecord:
    """NVD's and the CVE List v5 record of one CVE as one: every product, score and KEV date."""
    nvd, other = (a, b) if a.source_format == "nvd-2.0" else (b, a)
    dates = [d for d in (a.updated, b.updated) if d is not None]
    return CveRecord(
        cve=nvd.cve,
        description=nvd.description or other.description,
        published=nvd.published or other.published,
        updated=max(dates) if dates else None,
        source_format=nvd.source_format,
        cvss=nvd.cvss + tuple(c for c in other.cvss if c not in nvd.cvss),
        applicability=nvd.applicability + other.applicability,
        references=tuple(dict.fromkeys(nvd.references + other.references)),
        kev_added=nvd.kev_added or other.kev_added,
        kev_due=nvd.kev_due or other.kev_due,
    )


def load(root: Path) -> VulnData:
    """The data imported into ``root`` (empty when nothing was imported)."""
    kev_doc = _read(folder(root) / KEV_FILE)
    cve_doc = _read(folder(root) / CVE_FILE)
    datasets: list[DataSet] = []
    kev: dict[str, KevEntry] = {}
    records: dict[str, CveRecord] = {}
    try:
        if kev_doc is not None:
            datasets.append(_dataset(kev_doc["dataset"]))
            for e in kev_doc["entries"]:
                entry = KevEntry(
                    **{**e, "date_added": _day(e["date_added"]), "due_date": _day(e["due_date"])}
                )
                kev[entry.cve] = entry
        if cve_doc is not None:
            datasets.extend(_dataset(d) for d in cve_doc["datasets"])
            for r in cve_doc["records"]:
                record = _record(r)
                known = records.get(record.cve)
                records[record.cve] = record if known is None else merge(known, record)
    except (KeyError, TypeError, ValueError) as exc:
        raise VulnDataError(
            f"{folder(root)}: the imported vulnerability data is damaged ({exc}); import the "
            "files again"
        ) from None
    return VulnData(kev=kev, records=records, datasets=tuple(datasets))


def combine(own: VulnData, bundled: VulnData, label: str) -> VulnData:
    """The user's imports with a data bundle's: the newer KEV catalogue, every CVE record (the
    user's replace the bundle's of the same CVE and format), each data set named by origin."""
    own_kev = next((d for d in own.datasets if d.kind == "kev"), None)
    bundle_kev = next((d for d in bundled.datasets if d.kind == "kev"), None)
    use_bundle_kev = bundle_kev is not None and (
        own_kev is None or (bundle_kev.as_of or date.min) > (own_kev.as_of or date.min)
    )
    records = dict(bundled.records)
    records.update(own.records)
    datasets = [d for d in own.datasets if d.kind == "cve"]
    datasets += [
        DataSet(d.kind, f"{label}: {d.file_name}", d.sha256, d.as_of, d.entries, d.detail)
        for d in bundled.datasets
        if d.kind == "cve" or use_bundle_kev
    ]
    if not use_bundle_kev and own_kev is not None:
        datasets.insert(0, own_kev)
    return VulnData(
        kev=bundled.kev if use_bundle_kev else own.kev,
        records=records,
        datasets=tuple(sorted(datasets, key=lambda d: d.kind != "kev")),
    )
