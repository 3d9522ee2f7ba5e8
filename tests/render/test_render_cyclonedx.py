"""`-f cyclonedx`: a CycloneDX 1.6 hardware BOM that the CycloneDX library's own strict JSON
validator accepts, with the device facts, exposures and evidence digest a reader needs."""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from auditor.history.combine import combine
from auditor.models import AuditId, AuditReport
from auditor.render import FormatName, renderer
from tests.render.camaudit_sample_audit import sample_report

DOC = Path(__file__).resolve().parents[2] / "docs" / "cyclonedx.md"


def render(report: AuditReport) -> dict[str, Any]:
    out = renderer(FormatName.CYCLONEDX).render(report)
    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(out.decode("utf-8"))
    assert error is None, error
    bom: dict[str, Any] = json.loads(out)
    return bom


def props(component: dict[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for p in component.get("properties", []):
        found[p["name"]].append(p["value"])
    return found


def test_the_sample_audit_is_a_valid_cyclonedx_1_6_hardware_bom() -> None:
    report = sample_report()
    bom = render(report)
    assert bom["bomFormat"] == "CycloneDX" and bom["specVersion"] == "1.6"
    assert len(bom["components"]) == len(report.devices)
    assert {c["type"] for c in bom["components"]} == {"device"}
    meta = props(bom["metadata"])
    assert meta["camaudit:evidence:sha256"] == [report.evidence_sha256]
    assert meta["camaudit:audit:id"] == [report.audit.id]
    assert bom["metadata"]["timestamp"].startswith("2026-11-21T09:04:12")

    lts = next(c for c in bom["components"] if c["bom-ref"] == "device:10.20.0.11")
    facts = props(lts)
    assert lts["manufacturer"]["name"] == "Hikvision" and lts["name"] == "CMIP8242WB"
    assert facts["camaudit:device:brand"] == ["LTS"]
    assert facts["camaudit:device:serial"] == ["CMIP8242WB20250101AAWRJ12345678"]
    assert facts["camaudit:device:mac"] == ["54:c4:15:0a:0b:0c"]
    assert facts["camaudit:device:address"] == ["10.20.0.11"]
    assert facts["camaudit:identification:oem_relabel"] == ["true"]
    assert len(facts["camaudit:evidence:sha256"][0]) == 64
    assert "us-fcc-covered-list" in facts["camaudit:exposure"]
    assert facts["camaudit:exposure:us-fcc-covered-list:severity"] == ["high"]
    assert facts["camaudit:exposure:us-fcc-covered-list:source"] == [
        "https://www.fcc.gov/supplychain/coveredlist"
    ]
    notes = [a for a in bom["annotations"] if a["subjects"] == ["device:10.20.0.11"]]
    assert any("FCC Covered List" in a["text"] and "fcc.gov" in a["text"] for a in notes)

    nvr = next(c for c in bom["components"] if c["bom-ref"] == "device:10.20.0.12")
    (soc,) = nvr["components"]
    assert soc["manufacturer"]["name"] == "HiSilicon" and soc["type"] == "device"


def test_every_property_is_documented() -> None:
    doc = DOC.read_text(encoding="utf-8")
    documented = set(re.findall(r"`(camaudit:[a-z0-9_:A-Z]+)`", doc))
    bom = render(sample_report())
    names = {p["name"] for p in bom["metadata"]["properties"]}
    for c in bom["components"]:
        names |= {p["name"] for p in c.get("properties", [])}
        for part in c.get("components", []):
            names |= {p["name"] for p in part.get("properties", [])}
    generic = {re.sub(r"^camaudit:exposure:[^:]+:", "camaudit:exposure:KEY:", n) for n in names}
    generic = {re.sub(r"^camaudit:data:.*", "camaudit:data:NAME", n) for n in generic}
    assert generic <= documented, generic - documented


def test_a_combined_report_keeps_equal_addresses_apart() -> None:
    other = sample_report()
    branch = dataclasses.replace(other, audit=dataclasses.replace(other.audit, site="Branch"))
    branch = dataclasses.replace(
        branch, audit=dataclasses.replace(branch.audit, id=AuditId("20261122T090000Z-br"))
    )
    bom = render(combine([sample_report(), branch]))
    refs = [c["bom-ref"] for c in bom["components"]]
    assert len(refs) == len(set(refs)) == 10
    assert "device:Branch/10.20.0.11" in refs


@pytest.mark.parametrize("report", [AuditReport(audit=sample_report().audit)], ids=["empty"])
def test_an_audit_without_devices_is_a_valid_empty_bom(report: AuditReport) -> None:
    bom = render(report)
    assert bom.get("components", []) == [] and "annotations" not in bom


def test_a_250_device_site_is_one_valid_bom_in_the_audits_order() -> None:
    import ipaddress

    base = sample_report()
    net = ipaddress.ip_network("10.60.0.0/23")
    devices = tuple(
        dataclasses.replace(
            base.devices[i % len(base.devices)],
            host=dataclasses.replace(
                base.devices[i % len(base.devices)].host, address=net.network_address + 1 + i
            ),
        )
        for i in range(250)
    )
    bom = render(dataclasses.replace(base, devices=devices))
    refs = [c["bom-ref"] for c in bom["components"]]
    assert refs == [f"device:{d.host.address}" for d in devices]
    assert [d["ref"] for d in bom["dependencies"]] == refs
    assert len({a["subjects"][0] for a in bom["annotations"]}) == 200  # 4 of 5 have exposures
