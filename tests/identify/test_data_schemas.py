"""The data files' JSON Schemas (fingerprints/schema/) and their loaders agree; the data obeys both.

Each broken document below is refused by the schema AND by the loader the product uses; the
unbroken base document is accepted by both, so a refusal is the break's doing.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from auditor.dataschema import (
    CLUE_PATHS_SCHEMA,
    SCHEMAS,
    check_document,
    check_folder,
    check_text,
    data_files,
    enforce,
    enforce_schema,
    load_schema,
    schema_dir,
    schema_for,
)
from auditor.errors import DataFileError
from auditor.exposure.data import load_regulatory_data
from auditor.identify.db import _FLAGS, KNOWN_ATTRS, parse_file
from auditor.identify.reference import CONFIDENCES, parse_brands
from auditor.identify.vendors import MacRole, parse_aliases
from auditor.models import DEVICE_TYPE_ALIASES, DeviceType, ObservationKind
from auditor.probes.http import parse_clue_paths
from auditor.resources import shipped_fingerprints_dir

ROOT = Path(str(shipped_fingerprints_dir()))
SHIPPED = [rel for rel, _ in data_files(ROOT)]

FINGERPRINT_FILE: dict[str, Any] = {
    "matches": "rtsp.server",
    "preference": 0.8,
    "description": "Value of the RTSP Server header.",
    "fingerprints": [
        {
            "id": "example-rtsp",
            "description": "Example RTSP server",
            "pattern": r"^Example Streaming Media v(\d+)$",
            "flags": ["ignorecase"],
            "weight": 0.7,
            "assert": {"hw.vendor": "Hikvision", "hw.device": "ip_camera", "hw.firmware": "$1"},
            "source": "https://example.invalid/source",
            "examples": [{"text": "Example Streaming Media v2", "expect": {"hw.firmware": "2"}}],
        }
    ],
}
BRANDS_FILE: dict[str, Any] = {
    "version": 1,
    "as_of": "2026-11-21",
    "brands": [
        {
            "brand": "LTS",
            "manufacturer": "Hikvision",
            "relationship": "OEM relabel",
            "confidence": "high",
            "source": "https://example.invalid/lts",
            "as_of": "2026-11-21",
            "aliases": ["LT Security"],
            "lines": [
                {
                    "model_pattern": "^LTN",
                    "manufacturer": "Hikvision",
                    "confidence": "medium",
                    "source": "https://example.invalid/ltn",
                }
            ],
            "ownership": [
                {"owner": "Hikvision", "from": "2018-02-06", "source": "https://example.invalid"}
            ],
        }
    ],
}
ALIASES_FILE: dict[str, Any] = {
    "version": 1,
    "vendors": [
        {
            "vendor": "Hikvision",
            "mac": "maker",
            "aliases": ["Hik Vision"],
            "source": "https://example.invalid/ieee",
        }
    ],
    "placeholder_source": "observed defaults",
    "placeholders": ["IPCAM", "Generic( Camera)?"],
}

REGULATORY = ("dataset", "instruments", "entities", "listings", "audiences")


def _load_regulatory(text: str, path: str) -> object:
    """The regulatory loader on the shipped files with one of them replaced by ``text``."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name in REGULATORY:
            (folder / f"{name}.yaml").write_text(
                (ROOT / "regulatory" / f"{name}.yaml").read_text(encoding="utf-8"),
                encoding="utf-8",
            )
        (folder / path.removeprefix("regulatory/")).write_text(text, encoding="utf-8")
        return load_regulatory_data(folder)


def _shipped(rel: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / rel).read_text(encoding="utf-8"))
    return loaded


CLUE_PATHS: dict[str, Any] = {
    "as_of": "2026-11-21",
    "paths": [
        {
            "path": "/ISAPI/Security/userCheck",
            "platform": "Hikvision",
            "markers": ["<userCheck"],
            "source": "https://example.invalid/issue",
        }
    ],
}
CLUE_FILE = str(Path(str(resources.files("auditor.probes"))) / "clue_paths.yaml")

BASES: dict[str, tuple[str, dict[str, Any], Callable[[str, str], object]]] = {
    "clue paths": ("clue_paths.yaml", CLUE_PATHS, parse_clue_paths),
    "fingerprint": ("rtsp_server.yaml", FINGERPRINT_FILE, parse_file),
    "brands": ("brands.yaml", BRANDS_FILE, parse_brands),
    "aliases": ("identifiers/aliases.yaml", ALIASES_FILE, parse_aliases),
    **{
        name: (f"regulatory/{name}.yaml", _shipped(f"regulatory/{name}.yaml"), _load_regulatory)
        for name in REGULATORY
    },
}


def _fp(doc: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = doc["fingerprints"][0]
    return entry


def _set(path: list[str | int], value: object) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        node: Any = doc
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = value

    return apply


def _drop(path: list[str | int]) -> Callable[[dict[str, Any]], None]:
    def apply(doc: dict[str, Any]) -> None:
        node: Any = doc
        for step in path[:-1]:
            node = node[step]
        del node[path[-1]]

    return apply


FP: list[str | int] = ["fingerprints", 0]
BR: list[str | int] = ["brands", 0]
VE: list[str | int] = ["vendors", 0]
# (the base document, what breaks, the edit)
BREAKS: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    # missing fields
    ("fingerprint", "no matches", _drop(["matches"])),
    ("fingerprint", "no fingerprints", _drop(["fingerprints"])),
    ("fingerprint", "empty fingerprints", _set(["fingerprints"], [])),
    ("fingerprint", "no id", _drop([*FP, "id"])),
    ("fingerprint", "no pattern", _drop([*FP, "pattern"])),
    ("fingerprint", "no source", _drop([*FP, "source"])),
    ("fingerprint", "blank description", _set([*FP, "description"], "  ")),
    ("fingerprint", "example without text", _set([*FP, "examples"], [{"expect": {}}])),
    ("brands", "no manufacturer", _drop([*BR, "manufacturer"])),
    ("brands", "no as_of", _drop([*BR, "as_of"])),
    ("brands", "ownership without from", _drop([*BR, "ownership", 0, "from"])),
    ("aliases", "no source", _drop([*VE, "source"])),
    ("aliases", "no vendors", _drop(["vendors"])),
    # unknown fields
    ("fingerprint", "unknown top key", _set(["preferences"], 0.5)),
    ("fingerprint", "unknown entry key", _set([*FP, "wieght"], 0.5)),
    ("fingerprint", "unknown example key", _set([*FP, "examples", 0, "expected"], {})),
    ("fingerprint", "unknown attribute", _set([*FP, "assert", "hw.vendr"], "Axis")),
    ("brands", "unknown brand key", _set([*BR, "manufacturer_url"], "https://x.invalid")),
    ("brands", "unknown top key", _set(["notes"], "x")),
    ("brands", "unknown line key", _set([*BR, "lines", 0, "note"], "x")),
    ("aliases", "unknown vendor key", _set([*VE, "macs"], "maker")),
    ("aliases", "unknown top key", _set(["placeholder"], ["X"])),
    # wrong types and values
    ("fingerprint", "preference as text", _set(["preference"], "0.8")),
    ("fingerprint", "preference out of range", _set(["preference"], 0.95)),
    ("fingerprint", "weight true", _set([*FP, "weight"], True)),
    ("fingerprint", "weight zero", _set([*FP, "weight"], 0)),
    ("fingerprint", "assert as a list", _set([*FP, "assert"], ["hw.vendor"])),
    ("fingerprint", "attribute value a number", _set([*FP, "assert", "hw.model"], 3)),
    ("fingerprint", "device type not a device type", _set([*FP, "assert", "hw.device"], "cam")),
    ("fingerprint", "flags as text", _set([*FP, "flags"], "ignorecase")),
    ("fingerprint", "unknown flag", _set([*FP, "flags"], ["verbose"])),
    ("fingerprint", "a flag that is a mapping", _set([*FP, "flags"], [{"ignorecase": True}])),
    ("fingerprint", "shared as text", _set([*FP, "shared"], "yes")),
    ("fingerprint", "examples as a mapping", _set([*FP, "examples"], {"text": "x"})),
    ("fingerprint", "example text a number", _set([*FP, "examples", 0, "text"], 5)),
    ("fingerprint", "expected value a number", _set([*FP, "examples", 0, "expect"], {"a": 2})),
    ("fingerprint", "description not text", _set(["description"], ["a"])),
    ("fingerprint", "unknown kind", _set(["matches"], "rtsp.servers")),
    ("brands", "confidence unknown", _set([*BR, "confidence"], "certain")),
    ("brands", "line confidence unknown", _set([*BR, "lines", 0, "confidence"], "sure")),
    ("brands", "as_of not a date", _set([*BR, "as_of"], "last year")),
    ("brands", "aliases as text", _set([*BR, "aliases"], "LT Security")),
    ("brands", "uncertain as text", _set([*BR, "uncertain"], "no")),
    ("brands", "version as text", _set(["version"], "one")),
    ("aliases", "mac role unknown", _set([*VE, "mac"], "camera")),
    ("aliases", "mac role a list", _set([*VE, "mac"], ["maker"])),
    ("aliases", "mac role the registry's own", _set([*VE, "mac"], "unreviewed")),
    ("aliases", "aliases as text", _set([*VE, "aliases"], "Hik Vision")),
    ("aliases", "placeholders as text", _set(["placeholders"], "IPCAM")),
    # the regulatory files
    ("dataset", "no version", _drop(["version"])),
    ("dataset", "max_age_days as text", _set(["max_age_days"], "ninety")),
    ("dataset", "unknown key", _set(["maintainer"], "x")),
    ("instruments", "no name", _drop(["instruments", 0, "name"])),
    ("instruments", "no verified date", _drop(["instruments", 0, "verified"])),
    ("instruments", "unknown key", _set(["instruments", 0, "sorce"], "https://x.invalid")),
    ("instruments", "unknown top key", _set(["instrument"], [])),
    ("instruments", "kind unknown", _set(["instruments", 0, "kind"], "embargo")),
    ("instruments", "informational as text", _set(["instruments", 0, "informational"], "yes")),
    ("instruments", "effective not a date", _set(["instruments", 0, "effective"], "soon")),
    ("instruments", "name a number", _set(["instruments", 0, "name"], 889)),
    ("entities", "no legal name", _drop(["entities", 0, "legal_name"])),
    ("entities", "unknown name key", _set(["entities", 0, "names", 0, "used"], ["x"])),
    ("entities", "edge without source", _drop(["entities", 0, "ownership", 0, "source"])),
    ("entities", "brands as text", _set(["entities", 0, "brands"], "EZVIZ")),
    ("listings", "no source", _drop(["listings", 0, "source"])),
    ("listings", "status unknown", _set(["listings", 0, "status"], "maybe")),
    ("listings", "unknown key", _set(["listings", 0, "listed_since"], "2019-10-09")),
    ("audiences", "an audience left out", _drop(["audiences", "generic"])),
    ("audiences", "severity unknown", _set(["audiences", "generic", "default"], "urgent")),
    ("audiences", "unknown key", _set(["audiences", "generic", "instrument"], {})),
    # the HTTP clue paths (auditor/probes/clue_paths.yaml)
    ("clue paths", "no source", _drop(["paths", 0, "source"])),
    ("clue paths", "unknown key", _set(["paths", 0, "method"], "POST")),
    ("clue paths", "a relative path", _set(["paths", 0, "path"], "ISAPI/Security/userCheck")),
    ("clue paths", "markers as text", _set(["paths", 0, "markers"], "<userCheck")),
    ("clue paths", "as_of not a date", _set(["as_of"], "recently")),
    # bad regular expressions
    ("fingerprint", "bad pattern", _set([*FP, "pattern"], r"^Example (\d+$")),
    ("brands", "bad model pattern", _set([*BR, "lines", 0, "model_pattern"], "[LTN")),
    ("aliases", "bad placeholder", _set(["placeholders"], ["IPCAM(", "x"])),
]


def _schema_of(base: str) -> str:
    name = CLUE_PATHS_SCHEMA if base == "clue paths" else schema_for(BASES[base][0])
    assert name is not None
    return name


def _loader_refuses(base: str, doc: dict[str, Any]) -> str | None:
    path, _, parse = BASES[base]
    try:
        parse(yaml.safe_dump(doc, sort_keys=False), path)
    except DataFileError as exc:
        return str(exc)
    return None


@pytest.mark.parametrize("base", sorted(BASES))
def test_the_unbroken_documents_pass_both(base: str) -> None:
    path, doc, _ = BASES[base]
    assert check_document(doc, path, schema=_schema_of(base)) == []
    assert _loader_refuses(base, doc) is None


@pytest.mark.parametrize(("base", "what", "edit"), BREAKS, ids=[f"{b[0]}: {b[1]}" for b in BREAKS])
def test_schema_and_loader_both_refuse(
    base: str, what: str, edit: Callable[[dict[str, Any]], None]
) -> None:
    path, original, _ = BASES[base]
    doc = copy.deepcopy(original)
    edit(doc)
    violations = check_document(doc, path, schema=_schema_of(base))
    assert violations, f"the schema accepts a document with {what}"
    assert all(v.file == path and v.message for v in violations)
    assert _loader_refuses(base, doc) is not None, f"the loader accepts a document with {what}"
    # The loaders' own reading of the schema (no jsonschema at run time) refuses it too.
    with pytest.raises(DataFileError):
        enforce_schema(yaml.safe_load(yaml.safe_dump(doc)), _schema_of(base), path)


@pytest.mark.parametrize("rel", SHIPPED)
def test_the_loaders_reading_of_the_schema_accepts_every_shipped_file(rel: str) -> None:
    enforce(yaml.safe_load((ROOT / rel).read_text(encoding="utf-8")), rel)


def test_the_shipped_clue_paths_obey_their_schema() -> None:
    text = Path(CLUE_FILE).read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    assert check_document(doc, "clue_paths.yaml", text, schema=CLUE_PATHS_SCHEMA) == []
    assert len(parse_clue_paths(text, CLUE_FILE)) == len(doc["paths"]) >= 3


#: The keywords enforce() implements, and those that only annotate.
ENFORCED = {
    "type", "enum", "pattern", "format", "$ref", "oneOf", "anyOf", "properties", "required",
    "additionalProperties", "patternProperties", "propertyNames", "items", "minimum",
    "maximum", "exclusiveMinimum", "minItems",
}  # fmt: skip
ANNOTATIONS = {"$schema", "$id", "title", "description", "$defs"}


def _walk(node: object, under_names: bool = False) -> list[tuple[str, object]]:
    """(keyword, value) of every schema keyword, property names left out."""
    out: list[tuple[str, object]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if not under_names:
                out.append((key, value))
            out.extend(_walk(value, key in ("properties", "patternProperties", "$defs")))
    elif isinstance(node, list):
        for value in node:
            out.extend(_walk(value))
    return out


def test_the_schemas_use_only_keywords_the_loaders_enforce() -> None:
    # A keyword enforce() does not know would be ignored by the product and applied by editors.
    for name in {schema for _, schema in SCHEMAS} | {CLUE_PATHS_SCHEMA}:
        keywords = _walk(load_schema(name))
        assert {k for k, _ in keywords} <= ENFORCED | ANNOTATIONS, name
        assert {v for k, v in keywords if k == "format"} <= {"date", "regex"}, name


@pytest.mark.parametrize("rel", SHIPPED)
def test_every_shipped_data_file_obeys_its_schema(rel: str) -> None:
    assert check_text((ROOT / rel).read_text(encoding="utf-8"), rel) == []


def test_every_data_file_the_loaders_read_has_a_schema() -> None:
    kinds = [p.name for p in ROOT.glob("*.yaml") if p.name != "brands.yaml"]
    assert len(kinds) >= 30
    regulatory = {f"regulatory/{p.name}" for p in (ROOT / "regulatory").glob("*.yaml")}
    assert regulatory == {f"regulatory/{name}.yaml" for name in REGULATORY}
    assert set(SHIPPED) == {"brands.yaml", "identifiers/aliases.yaml", *kinds, *regulatory}
    used = {schema for _, schema in SCHEMAS} | {CLUE_PATHS_SCHEMA}
    assert used == {p.name for p in Path(str(schema_dir())).glob("*.schema.json")}


def test_schema_vocabularies_are_the_codes() -> None:
    # Given the vocabularies the loaders check against
    fp = load_schema("fingerprint-file.schema.json")
    attrs = fp["$defs"]["attributes"]
    # Then the schema lists the same words (a new kind or attribute is added in both places)
    assert set(fp["properties"]["matches"]["enum"]) == {k.value for k in ObservationKind}
    assert set(attrs["propertyNames"]["enum"]) == set(KNOWN_ATTRS)
    devices = {d.value for d in DeviceType} - {DeviceType.UNKNOWN.value} | set(DEVICE_TYPE_ALIASES)
    assert set(attrs["properties"]["hw.device"]["enum"]) == devices
    assert set(fp["$defs"]["fingerprint"]["properties"]["flags"]["items"]["enum"]) == set(_FLAGS)
    brands = load_schema("brands.schema.json")
    assert set(brands["$defs"]["confidence"]["enum"]) == set(CONFIDENCES)
    aliases = load_schema("aliases.schema.json")
    roles = set(aliases["$defs"]["vendor"]["properties"]["mac"]["enum"])
    assert roles == {r.value for r in MacRole} - {MacRole.UNREVIEWED.value}


def test_a_violation_names_file_entry_and_line(tmp_path: Path) -> None:
    # Given a copy of a real file whose third entry lost its pattern and gained a typo'd key
    text = (ROOT / "rtsp_server.yaml").read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    third = doc["fingerprints"][2]
    del third["pattern"]
    third["wieght"] = 0.5
    broken = yaml.safe_dump(doc, sort_keys=False)
    # When it is checked
    found = check_text(broken, "rtsp_server.yaml")
    # Then each problem names the file, the entry by index and id, and the line of the entry
    line = broken.splitlines().index(f"- id: {third['id']}") + 1
    assert {str(v) for v in found} == {
        f"rtsp_server.yaml:{line}: fingerprints[2] (id {third['id']!r}): "
        "'pattern' is a required property",
        f"rtsp_server.yaml:{line}: fingerprints[2] (id {third['id']!r}): "
        "Additional properties are not allowed ('wieght' was unexpected)",
    }


def test_a_bad_value_is_located_at_its_own_line() -> None:
    text = (
        "matches: rtsp.server\npreference: 0.8\nfingerprints:\n"
        "- id: a\n  description: A\n  pattern: '(a'\n  source: s\n"
    )
    (found,) = check_text(text, "rtsp_server.yaml")
    assert found.line == 6
    assert found.path == "fingerprints[0] (id 'a').pattern"
    assert re.search(r"'\(a' is not a 'regex'", found.message)


def test_yaml_that_does_not_parse_is_one_violation_with_its_line() -> None:
    (found,) = check_text("matches: rtsp.server\nfingerprints: [\n", "rtsp_server.yaml")
    assert found.path == "file" and "not valid YAML" in found.message
    assert found.line is not None


def test_check_folder_reports_every_file(tmp_path: Path) -> None:
    (tmp_path / "identifiers").mkdir()
    (tmp_path / "identifiers" / "aliases.yaml").write_text("vendors: [{vendor: X}]\n")
    (tmp_path / "rtsp_server.yaml").write_text("matches: rtsp.server\n")
    (tmp_path / "notes.txt").write_text("no schema, not checked\n")
    (tmp_path / "brands.yaml").write_bytes(b"brands:\n- brand: \xff\n")
    found = check_folder(tmp_path)
    assert [(v.file, v.message) for v in found] == [
        ("brands.yaml", "not UTF-8 text (byte 17)"),
        ("identifiers/aliases.yaml", "'source' is a required property"),
        ("rtsp_server.yaml", "'fingerprints' is a required property"),
        ("rtsp_server.yaml", "'preference' is a required property"),
    ]


def test_fingerprints_verify_lists_every_schema_violation(tmp_path: Path) -> None:
    # Given a copy of the data with three mistakes in two files
    root = tmp_path / "fp"
    shutil.copytree(ROOT, root, ignore=shutil.ignore_patterns("regulatory", "oui"))
    banner = root / "telnet_banner.yaml"
    doc = yaml.safe_load(banner.read_text(encoding="utf-8"))
    first, second = doc["fingerprints"][0], doc["fingerprints"][1]
    del first["source"]
    second["wieght"] = 0.3
    banner.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    brands = root / "brands.yaml"
    brands.write_text(
        brands.read_text(encoding="utf-8").replace("confidence: high", "confidence: sure", 1),
        encoding="utf-8",
    )
    # When a contributor runs the verifier on it
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "fingerprints", "verify", "--dir", str(root)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    # Then it fails as a usage error and names every mistake: file, line, entry and what is wrong
    assert proc.returncode == 2, proc.stdout + proc.stderr
    out = " ".join(proc.stdout.split())
    assert (
        f"telnet_banner.yaml:5: fingerprints[0] (id {first['id']!r}): "
        "'source' is a required property" in out
    )
    assert f"fingerprints[1] (id {second['id']!r}): Additional properties are not allowed" in out
    assert "brands.yaml:" in out and "'sure' is not one of ['high', 'medium', 'low']" in out
    assert "3 schema violation(s)" in out


# --- Random breaks: whatever the schema refuses, the loader refuses ----------------------------

VALUES: list[object] = [
    None, True, 0, 1.5, -1, "", " ", "x", "(", "2024-01-01", "maker", "high", "listed",
    [], ["x"], [1], {}, {"a": "b"}, {"hw.vendor": "Axis"},
]  # fmt: skip


def _nodes(doc: object, path: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    """The path of every mapping and list in a document."""
    out: list[tuple[str | int, ...]] = []
    if isinstance(doc, dict):
        out.append(path)
        for key, value in doc.items():
            out.extend(_nodes(value, (*path, key)))
    elif isinstance(doc, list):
        out.append(path)
        for i, value in enumerate(doc[:3]):
            out.extend(_nodes(value, (*path, i)))
    return out


@st.composite
def _broken(draw: st.DrawFn, base: str) -> dict[str, Any]:
    doc = copy.deepcopy(BASES[base][1])
    node: Any = doc
    for step in draw(st.sampled_from(_nodes(doc))):
        node = node[step]
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    action = draw(st.sampled_from(["drop", "set", "add"] if keys else ["add"]))
    if action == "drop":
        del node[draw(st.sampled_from(keys))]
    elif action == "set":
        node[draw(st.sampled_from(keys))] = copy.deepcopy(draw(st.sampled_from(VALUES)))
    elif isinstance(node, dict):
        node[draw(st.sampled_from(["extra", "sorce", "note", "id"]))] = "x"
    else:
        node.append(copy.deepcopy(draw(st.sampled_from(VALUES))))
    return doc


@pytest.mark.parametrize("base", sorted(BASES))
def test_random_breaks_the_schema_refuses_the_loaders_refuse(base: str) -> None:
    path = BASES[base][0]

    # The regulatory loader reads five files per example: fewer examples there.
    examples = 25 if base in REGULATORY else 100

    @settings(max_examples=examples, deadline=None, derandomize=True)
    @given(doc=_broken(base))
    def check(doc: dict[str, Any]) -> None:
        # Given a document as a YAML file would give it
        doc = yaml.safe_load(yaml.safe_dump(doc))
        refused_by_schema = bool(check_document(doc, path, schema=_schema_of(base)))
        # Then the loaders' reading of the schema says the same as jsonschema
        try:
            enforce_schema(doc, _schema_of(base), path)
            enforced = False
        except DataFileError:
            enforced = True
        assert enforced == refused_by_schema, doc
        # And what the schema refuses, the loader refuses (it may refuse more: captures, names)
        if refused_by_schema:
            assert _loader_refuses(base, doc) is not None, doc

    check()
