"""The JSON report, diff and organisation-view schemas are closed: every field camaudit writes is
declared, and a field they do not declare is refused at every level. Real reports (the demo, a lab
audit, offline imports, a report rendered again from the store, a site's organisation view)
validate, and so do their CycloneDX BOMs."""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator

from auditor.credentials import Credential, CredentialStore, Secret
from auditor.engine import AuditConfig, Auditor
from auditor.lab import LoopbackSite
from auditor.lab.profiles import load_hostile_profiles, load_profiles
from auditor.models import AuditReport, ChannelFailure, Severity, VulnFinding, VulnStatus
from auditor.render import FormatName, renderer
from auditor.render.json_format import SCHEMA_FILE
from auditor.resources import reports_dir
from tests.render.camaudit_sample_audit import sample_report

ASSETS = Path(__file__).resolve().parent.parent / "discovery" / "assets"
#: Objects whose keys are data (makers, instruments, attribute names), not field names.
MAPS = frozenset({"by_manufacturer", "by_instrument", "by_severity", "makers", "asserts"})
ORG_SCHEMA_FILE = "camaudit-organisation-1.schema.json"
#: The organisation view's maps: severity -> count.
ORG_MAPS = frozenset({"exposures"})
UNKNOWN = "field_nobody_declared"


def _schema(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (reports_dir() / "schema" / name).read_text(encoding="utf-8")
    )
    return loaded


def _validator(name: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(
        _schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


REPORT_SCHEMA = _schema(SCHEMA_FILE)
VALIDATOR = _validator(SCHEMA_FILE)
ORG_VALIDATOR = _validator(ORG_SCHEMA_FILE)


def _problems(doc: object, validator: jsonschema.Draft202012Validator = VALIDATOR) -> list[str]:
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(doc)]


def _object_schemas(node: object) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("type") == "object" or "properties" in node:
            yield node
        for value in node.values():
            yield from _object_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _object_schemas(value)


def _leaves(error: jsonschema.ValidationError) -> Iterator[jsonschema.ValidationError]:
    """The errors under a oneOf (a nullable object is refused by each alternative)."""
    if error.context:
        for sub in error.context:
            yield from _leaves(sub)
    else:
        yield error


def _objects(
    doc: object, maps: frozenset[str] = MAPS, path: tuple[str | int, ...] = ()
) -> Iterator[tuple[str | int, ...]]:
    """The path of every object in a report, map objects left out."""
    if isinstance(doc, dict):
        if not (path and path[-1] in maps):
            yield path
        for key, value in doc.items():
            yield from _objects(value, maps, (*path, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            yield from _objects(value, maps, (*path, i))


def _refused_everywhere(
    doc: dict[str, Any], validator: jsonschema.Draft202012Validator, maps: frozenset[str]
) -> set[str]:
    """Add an undeclared field to one object of each kind in turn; each must be refused there.

    Returns the closed schema objects that refused one (to compare with the schema's own)."""
    refused_by: set[str] = set()
    shapes: dict[tuple[str | int, ...], tuple[str | int, ...]] = {}
    for path in _objects(doc, maps):
        shapes.setdefault(tuple("#" if isinstance(p, int) else p for p in path), path)
    for shape, path in shapes.items():
        broken = copy.deepcopy(doc)
        node: Any = broken
        for step in path:
            node = node[step]
        node[UNKNOWN] = "x"
        errors = list(validator.iter_errors(broken))
        assert errors, f"an unknown field at {shape} is accepted"
        closing = [leaf for e in errors for leaf in _leaves(e)]
        closing = [leaf for leaf in closing if leaf.validator == "additionalProperties"]
        assert closing and all(UNKNOWN in leaf.message for leaf in closing), shape
        refused_by.update(json.dumps(leaf.schema, sort_keys=True) for leaf in closing)
    return refused_by


def _closed(schema: dict[str, Any]) -> set[str]:
    return {
        json.dumps(o, sort_keys=True)
        for o in _object_schemas(schema)
        if o.get("additionalProperties") is False
    }


def _rich_report() -> AuditReport:
    """The shared fixture plus what it lacks: a failed discovery channel, a KEV finding."""
    report = sample_report()
    finding = VulnFinding(
        cve="CVE-2021-36260",
        status=VulnStatus.POSSIBLY_AFFECTED,
        severity=Severity.HIGH,
        title="Hikvision web server command injection",
        reason="firmware unknown",
        evidence=("matched through true maker Hikvision",),
        remediation="update the firmware",
        source="https://nvd.nist.gov/vuln/detail/CVE-2021-36260",
        source_date=date(2021, 9, 22),
        kev=True,
        kev_added=date(2022, 1, 10),
        kev_due=date(2022, 1, 24),
        cvss_score=9.8,
        cvss_version="3.1",
        cvss_source="NVD",
        cvss_severity="CRITICAL",
    )
    first = dataclasses.replace(report.devices[0], vulnerabilities=(finding,))
    audit = dataclasses.replace(
        report.audit, channel_failures=(ChannelFailure("wsd", "no multicast route"),)
    )
    return dataclasses.replace(report, audit=audit, devices=(first, *report.devices[1:]))


def test_every_object_of_every_report_schema_is_closed() -> None:
    for name in (SCHEMA_FILE, "camaudit-diff-1.schema.json", ORG_SCHEMA_FILE):
        schema = _schema(name)
        objects = list(_object_schemas(schema))
        assert len(objects) >= 6
        for obj in objects:
            closed = obj.get("additionalProperties")
            # Closed, or a map whose values have a schema (counts, asserts).
            assert closed is False or isinstance(closed, dict), (name, sorted(obj))
            if closed is False:
                assert obj.get("properties"), (name, obj)


def test_an_unknown_field_is_refused_at_every_level() -> None:
    # Given a report in which every kind of object occurs
    doc = json.loads(renderer(FormatName.JSON).render(_rich_report()))
    assert _problems(doc) == []
    # When a field nobody declared is added to each kind of object, then it is refused there,
    # and every closed object of the schema was among those tried
    assert _refused_everywhere(doc, VALIDATOR, MAPS) == _closed(REPORT_SCHEMA)


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _cyclonedx_problem(path: Path) -> object:
    return JsonStrictValidator(SchemaVersion.V1_6).validate_str(path.read_text(encoding="utf-8"))


@pytest.mark.nmap
def test_the_demo_report_and_its_rerender_validate(tmp_path: Path) -> None:
    # Given the demo's audit, as JSON and CycloneDX
    db = str(tmp_path / "a.db")
    done = _run("demo", "-f", "json", "-f", "cyclonedx", "-o", "demo", "--db", db, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    demo = json.loads((tmp_path / "demo.json").read_text(encoding="utf-8"))
    # Then both validate against their schemas, strictly
    assert _problems(demo) == []
    assert len(demo["devices"]) >= 10
    assert _cyclonedx_problem(tmp_path / "demo.cdx.json") is None
    # And so does the same audit rendered again from the store
    again = _run("report", "--db", db, "-f", "json", "-o", "again.json", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert _problems(json.loads((tmp_path / "again.json").read_text(encoding="utf-8"))) == []
    # And the site's organisation view, which refuses an undeclared field in each of its objects
    site = demo["audit"]["site"]
    view = _run("report", "--db", db, "--site", site, "-f", "json", "-o", "org.json", cwd=tmp_path)
    assert view.returncode == 0, view.stderr
    org = json.loads((tmp_path / "org.json").read_text(encoding="utf-8"))
    assert org["sites"][0]["site"] == site and org["makers"]
    assert _problems(org, ORG_VALIDATOR) == []
    closed = _refused_everywhere(org, ORG_VALIDATOR, ORG_MAPS)
    assert closed == _closed(_schema(ORG_SCHEMA_FILE))


@pytest.mark.nmap
def test_a_lab_audit_of_every_profile_validates(tmp_path: Path) -> None:
    # Given an audit, with credentials, of a loopback site with every emulated device and a
    # device whose replies inject markup and control characters
    profiles = {**load_profiles(), **load_hostile_profiles()}
    with LoopbackSite([*sorted(load_profiles()), "hostile-injection"], profiles=profiles) as site:
        user, password = site.credentials
        config = AuditConfig(
            targets=site.targets,
            db_path=tmp_path / "audit.db",
            site="lab",
            ports=site.port_plan,
            timeout=2.0,
            credentials=CredentialStore(default=Credential(user, Secret(password))),
            multicast=False,
        )
        report = Auditor(config).run()
    assert len(report.devices) >= 40
    # Then its JSON report validates, strictly
    doc = json.loads(renderer(FormatName.JSON).render(report))
    assert _problems(doc) == []


@pytest.mark.parametrize("source", ["nmap", "csv"])
def test_an_offline_import_validates(tmp_path: Path, source: str) -> None:
    # Given hosts from a recorded nmap -sV of the lab, or from a DHCP-lease style inventory,
    # identified offline (no targets: nothing is contacted)
    if source == "nmap":
        given = ["--from-nmap", str(ASSETS / "lab-loopback-sV.xml")]
    else:
        inventory = tmp_path / "leases.csv"
        inventory.write_text(
            "ip,mac,hostname,vendor\n"
            "127.88.1.10,c0:56:e3:00:00:01,ipc-lobby,Hangzhou Hikvision Digital Technology\n"
            "127.88.1.11,,nvr-2,\n",
            encoding="utf-8",
        )
        given = ["--from-csv", str(inventory)]
    done = _run(
        "scan", *given, "--db", str(tmp_path / "a.db"), "-f", "json", "-o", "r.json",
        "--exit-zero", cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    doc = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    # Then the report validates, strictly
    assert doc["devices"]
    assert _problems(doc) == []
