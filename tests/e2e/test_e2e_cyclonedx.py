"""`camaudit report -f cyclonedx` of a real audit of the loopback lab (the demo devices and a
device whose replies inject markup and control characters) validates against CycloneDX 1.6."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from auditor.cli.app import main
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.lab import DEMO_DEVICES, LoopbackSite
from auditor.lab.profiles import load_hostile_profiles, load_profiles

pytestmark = pytest.mark.nmap


def test_the_lab_sites_cyclonedx_bom_validates(tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    profiles = {**load_profiles(), **load_hostile_profiles()}
    with LoopbackSite([*DEMO_DEVICES, "hostile-injection"], profiles=profiles) as site:
        user, password = site.credentials
        config = AuditConfig(
            targets=site.targets,
            db_path=db,
            site="lab",
            ports=site.port_plan,
            timeout=2.0,
            credentials=CredentialStore(default=Credential(user, Secret(password))),
            multicast=False,
        )
        report = Auditor(config).run()
        truth = {str(t.address): t for t in site.truth}
    target = tmp_path / "lab.cdx.json"
    assert main(["report", "--db", str(db), "-f", "cyclonedx", "-o", str(target)]) == 0
    text = target.read_text(encoding="utf-8")
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(text)
    assert error is None, error
    bom = json.loads(text)
    assert len(bom["components"]) == len(report.devices) == len(truth)
    makers = {
        c["bom-ref"].removeprefix("device:"): c.get("manufacturer", {}).get("name")
        for c in bom["components"]
    }
    # Every emulated camera whose maker the audit found is named as its manufacturer.
    for d in report.devices:
        if d.identification.manufacturer:
            assert makers[str(d.host.address)] == d.identification.manufacturer
    assert makers[next(a for a, t in truth.items() if t.profile == "hikvision-ipc")] == "Hikvision"
    meta = {p["name"]: p["value"] for p in bom["metadata"]["properties"]}
    assert meta["camaudit:evidence:sha256"] == report.evidence_sha256
    assert bom["annotations"] and all("Source: " in a["text"] for a in bom["annotations"])
