"""Known-vulnerability matching at site scale: 2,000 devices against the KEV catalogue and CVE
records of the camera makers.

The devices are a real loopback audit of every lab profile, replicated to 2,000 (each copy keeps
its real identification: maker, brand, model, firmware). The KEV catalogue is the full file when
one is given (``--kev FILE``, e.g. CISA's known_exploited_vulnerabilities.json, 1,404 entries on
2025-08-25); otherwise a catalogue of the same size is built from the real entries in
tests/vulns/assets (their shapes, other CVE ids and vendors), and the table says so. The CVE
records are built from the real NVD records' shapes at the size NVD holds for these makers:
Hikvision records naming ~600 model firmwares each with version "-" (as CVE-2021-36260 does),
Dahua records with ~20 product-family ranges each (as CVE-2021-33044 does), and others.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from auditor.models import AuditReport
from auditor.vulns import VulnAssessor, import_cve, import_kev, load
from bench.micro import replicate

ASSETS = Path(__file__).resolve().parent.parent / "tests" / "vulns" / "assets"
KEV_SIZE = 1404
#: (maker CPE vendor, records, CPEs per record, family ranges?) -- sized after NVD's own counts
#: of camera firmware records (hundreds per maker, CVE-2021-36260 alone ~600 CPEs).
CVE_PLAN = (
    ("hikvision", 120, 200, False),
    ("hikvision", 2, 600, False),
    ("dahuasecurity", 150, 20, True),
    ("axis", 100, 40, False),
    ("uniview", 40, 30, False),
    ("xiongmai", 20, 10, False),
)


@dataclass(frozen=True, slots=True)
class VulnBenchResult:
    devices: int
    kev_entries: int
    kev_source: str
    cve_records: int
    cpes: int
    import_s: float
    load_s: float
    match_s: float
    findings: int


def synthetic_kev(out: Path) -> int:
    doc = json.loads((ASSETS / "kev-excerpt.json").read_text())
    real = doc["vulnerabilities"]
    rows = list(real)
    i = 0
    while len(rows) < KEV_SIZE:
        base = dict(real[i % len(real)])
        base["cveID"] = f"CVE-2099-{10000 + i}"
        base["vendorProject"] = f"Vendor{i % 220}"
        rows.append(base)
        i += 1
    doc["vulnerabilities"] = rows
    doc["count"] = len(rows)
    out.write_text(json.dumps(doc))
    return len(rows)


def synthetic_cves(out: Path) -> tuple[int, int]:
    hik = json.loads((ASSETS / "nvd" / "CVE-2021-36260.json").read_text())
    dahua = json.loads((ASSETS / "nvd" / "CVE-2021-33044.json").read_text())
    records: list[dict[str, Any]] = []
    cpes = 0
    n = 0
    for vendor, count, per, family in CVE_PLAN:
        shape = dahua if family else hik
        for _ in range(count):
            n += 1
            rec = json.loads(json.dumps(shape))
            rec["id"] = f"CVE-2098-{n:05d}"
            for key in ("cisaExploitAdd", "cisaActionDue", "cisaRequiredAction"):
                rec.pop(key, None)  # only the real records are known exploited
            configs = []
            for k in range(per):
                if family:
                    crit = f"cpe:2.3:o:{vendor}:ipc-hx{k % 9 + 1}x{k}xx_firmware:*:*:*:*:*:*:*:*"
                    match = {"vulnerable": True, "criteria": crit,
                             "versionEndExcluding": f"2.800.0000000.{k}.r.210630"}  # fmt: skip
                else:
                    crit = f"cpe:2.3:o:{vendor}:ds-2cd{n % 90}{k:03d}g2-i_firmware:-:*:*:*:*:*:*:*"
                    match = {"vulnerable": True, "criteria": crit}
                configs.append({"operator": "AND", "nodes": [{"operator": "OR", "negate": False,
                                                              "cpeMatch": [match]}]})  # fmt: skip
                cpes += 1
            rec["configurations"] = configs
            records.append({"cve": rec})
    out.write_text(json.dumps({"format": "NVD_CVE", "version": "2.0", "vulnerabilities": records}))
    return len(records), cpes


def bench_vulns(report: AuditReport, count: int, kev_file: Path | None) -> VulnBenchResult:
    big = replicate(report, count)
    with tempfile.TemporaryDirectory(prefix="camaudit-bench-vulns-") as tmp:
        folder = Path(tmp)
        if kev_file is not None:
            kev_path, source = kev_file, f"the real catalogue {kev_file.name}"
        else:
            kev_path = folder / "kev.json"
            synthetic_kev(kev_path)
            source = f"synthetic ({KEV_SIZE} entries built from real KEV entry shapes)"
        cve_path = folder / "nvd.json"
        records, cpes = synthetic_cves(cve_path)
        root = folder / "data"
        start = time.perf_counter()
        ds = import_kev(root, kev_path)
        import_cve(root, [cve_path, *sorted((ASSETS / "nvd").glob("*.json"))])
        import_s = time.perf_counter() - start
        start = time.perf_counter()
        data = load(root)
        load_s = time.perf_counter() - start
        start = time.perf_counter()
        result = VulnAssessor(data, report.audit.started.date()).attach(big)
        match_s = time.perf_counter() - start
    findings = sum(len(d.vulnerabilities) for d in result.devices)
    return VulnBenchResult(
        devices=count,
        kev_entries=ds.entries,
        kev_source=source,
        cve_records=len(data.records),
        cpes=cpes,
        import_s=import_s,
        load_s=load_s,
        match_s=match_s,
        findings=findings,
    )
