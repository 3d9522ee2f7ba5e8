"""JSON Schemas of the reviewed data files (``fingerprints/schema/``) and the check against them.

The loaders (``identify/db.py``, ``identify/reference.py``, ``identify/vendors.py``) enforce the
same rules in code, and more that a schema cannot say (capture groups, unique names); the schema
is the contract written down, for editors, reviewers and ``camaudit fingerprints verify``, which
reports every violation at once with its file, path and line. A test keeps the two in step.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from auditor.errors import DataFileError
from auditor.resources import shipped_fingerprints_dir

# libyaml's C loader when present; the same safe subset as the loaders use.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: (data file, schema) pairs, paths relative to the data folder; "*.yaml" is every file at the
#: top (one per observation kind) that no other row names. First match wins. The HTTP clue
#: paths (``auditor/probes/clue_paths.yaml``, code's data) use ``CLUE_PATHS_SCHEMA``.
SCHEMAS: tuple[tuple[str, str], ...] = (
    ("brands.yaml", "brands.schema.json"),
    ("identifiers/aliases.yaml", "aliases.schema.json"),
    ("regulatory/dataset.yaml", "regulatory-dataset.schema.json"),
    ("regulatory/instruments.yaml", "regulatory-instruments.schema.json"),
    ("regulatory/entities.yaml", "regulatory-entities.schema.json"),
    ("regulatory/listings.yaml", "regulatory-listings.schema.json"),
    ("regulatory/audiences.yaml", "regulatory-audiences.schema.json"),
    ("*.yaml", "fingerprint-file.schema.json"),
)

CLUE_PATHS_SCHEMA = "clue-paths.schema.json"

_MESSAGE_LIMIT = 200


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One place where a data file breaks its schema."""

    file: str
    """The file, relative to the data folder ("http_server.yaml", "identifiers/aliases.yaml")."""
    path: str
    """Where in the file: "fingerprints[3] (id 'x').assert", or "file" for the top level."""
    message: str
    line: int | None = None
    """1-based line of the offending value, when the YAML could be located."""

    def __str__(self) -> str:
        at = f":{self.line}" if self.line is not None else ""
        return f"{self.file}{at}: {self.path}: {self.message}"


def schema_for(relpath: str) -> str | None:
    """The schema file name for a data file, or None when the file has no schema."""
    for pattern, schema in SCHEMAS:
        if pattern == relpath or (
            pattern == "*.yaml" and "/" not in relpath and relpath.endswith(".yaml")
        ):
            return schema
    return None


def schema_dir() -> Traversable:
    # The schemas describe what this code reads, so they come with the code: never from a data
    # bundle, whose fingerprint component may be older or newer than the installed camaudit.
    return shipped_fingerprints_dir() / "schema"


@functools.cache
def load_schema(name: str) -> Mapping[str, Any]:
    loaded: Mapping[str, Any] = json.loads((schema_dir() / name).read_text(encoding="utf-8"))
    return loaded


def json_value(value: Any) -> Any:
    """A YAML document as JSON sees it: dates as ISO strings (what an editor's YAML 1.2 sees)."""
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def check_document(
    doc: Any, relpath: str, text: str = "", schema: str | None = None
) -> list[SchemaViolation]:
    """Every violation of ``doc`` (parsed YAML) against ``schema`` (default: ``relpath``'s)."""
    name = schema or schema_for(relpath)
    if name is None:
        return []
    import jsonschema  # imported on use: only the verifier and the tests check schemas

    validator = jsonschema.Draft202012Validator(
        load_schema(name), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    instance = json_value(doc)
    errors = sorted(
        validator.iter_errors(instance), key=lambda e: ([str(p) for p in e.path], e.message)
    )
    return [
        SchemaViolation(
            file=relpath,
            path=_describe(instance, list(error.absolute_path)),
            message=_message(error),
            line=_line(text, list(error.absolute_path)) if text else None,
        )
        for error in errors
    ]


def check_text(text: str, relpath: str) -> list[SchemaViolation]:
    """Parse and check one data file's text."""
    try:
        doc = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        return [SchemaViolation(relpath, "file", f"not valid YAML: {exc}", line)]
    return check_document(doc, relpath, text)


def data_files(root: Traversable | Path) -> Iterator[tuple[str, Traversable | Path]]:
    """Every file under ``root`` that has a schema, as (relative path, node), sorted."""
    found: list[tuple[str, Traversable | Path]] = []
    for node in root.iterdir():
        if node.is_file() and schema_for(node.name) is not None:
            found.append((node.name, node))
        elif node.is_dir() and node.name != "schema":
            for child in node.iterdir():
                rel = f"{node.name}/{child.name}"
                if child.is_file() and schema_for(rel) is not None:
                    found.append((rel, child))
    yield from sorted(found, key=lambda item: item[0])


def check_folder(root: Traversable | Path) -> list[SchemaViolation]:
    """Every violation in every data file with a schema under ``root``."""
    out: list[SchemaViolation] = []
    for rel, node in data_files(root):
        try:
            text = node.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            out.append(SchemaViolation(rel, "file", f"not UTF-8 text (byte {exc.start})"))
            continue
        except OSError as exc:
            out.append(SchemaViolation(rel, "file", f"cannot read: {exc.strerror or exc}"))
            continue
        out.extend(check_text(text, rel))
    return out


def _describe(instance: Any, path: Sequence[str | int]) -> str:
    """A reader's path: list items by index, named by their id/brand/vendor when they have one."""
    if not path:
        return "file"
    parts: list[str] = []
    node = instance
    for step in path:
        if isinstance(step, int):
            parts.append(f"[{step}]")
            node = node[step] if isinstance(node, list) and step < len(node) else None
            label = _label(node)
            if label:
                parts.append(f" ({label})")
        else:
            parts.append(f".{step}" if parts else str(step))
            node = node.get(step) if isinstance(node, dict) else None
    return "".join(parts)


def _label(node: Any) -> str:
    if isinstance(node, dict):
        for key in ("id", "brand", "vendor", "entity"):
            value = node.get(key)
            if isinstance(value, str) and value:
                return f"{key} {value!r}"
    return ""


def _message(error: Any) -> str:
    # anyOf/oneOf say "... is not valid under any of the given schemas" and print the whole
    # entry; the alternatives' own messages say what to fix.
    if error.validator in ("anyOf", "oneOf") and error.context:
        text = "; or ".join(dict.fromkeys(sub.message for sub in error.context))
    else:
        text = str(error.message)
    text = re.sub(r"\s+", " ", text)
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def _line(text: str, path: Sequence[str | int]) -> int | None:
    """The 1-based line of the YAML node at ``path`` (the deepest one that exists)."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    for step in path:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == str(step):
                    child = value
                    break
        elif (
            isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value)
        ):
            child = node.value[step]
        if child is None:
            break
        node = child
    return None if node is None else int(node.start_mark.line) + 1


# --- The loaders' own check, without jsonschema ----------------------------------------------
# Importing jsonschema costs a CLI run a few tenths of a second (seconds on a busy machine), so
# the loaders check a document with this small reading of the same schema: the keywords our
# schemas use (type, enum, pattern, format: date and regex, $ref, oneOf, anyOf, properties,
# required, additionalProperties, patternProperties, propertyNames, items, minimum, maximum,
# exclusiveMinimum, minItems). The tests check the same broken files with both.

_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "number": (int, float),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def enforce(doc: Any, relpath: str, shown: str | None = None) -> None:
    """Raise DataFileError at the first place ``doc`` breaks the schema of ``relpath``.

    ``shown``: the file's name in the error, when the caller names it otherwise.
    """
    name = schema_for(relpath)
    if name is not None:
        enforce_schema(doc, name, shown or relpath)


def enforce_schema(doc: Any, name: str, shown: str) -> None:
    """Raise DataFileError at the first place ``doc`` breaks the schema file ``name``."""
    root = load_schema(name)
    problem = _first_problem(doc, root, root, [])
    if problem is not None:
        path, message = problem
        raise DataFileError(shown, f"{_describe(doc, path)}: {message}")


def _resolve(spec: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in spec:
        ref = str(spec["$ref"]).removeprefix("#/$defs/")
        spec = {**root["$defs"][ref], **{k: v for k, v in spec.items() if k != "$ref"}}
    return spec


def _is_type(value: Any, wanted: str) -> bool:
    if isinstance(value, bool) and wanted in ("integer", "number"):
        return False  # YAML's true is an int to Python, never a number to a schema
    if isinstance(value, date) and wanted == "string":
        return True  # an unquoted YAML date: a string to JSON (format: date checks it)
    return isinstance(value, _JSON_TYPES[wanted])


def _first_problem(
    value: Any, spec: Mapping[str, Any], root: Mapping[str, Any], path: list[str | int]
) -> tuple[list[str | int], str] | None:
    spec = _resolve(spec, root)
    for alternatives in ("oneOf", "anyOf"):
        # Our oneOf alternatives exclude each other (a date or null), so "one" is "any".
        tries = [_first_problem(value, alt, root, path) for alt in spec.get(alternatives, ())]
        if tries and all(t is not None for t in tries):
            return path, "; or ".join(dict.fromkeys(t[1] for t in tries if t is not None))
    types = spec.get("type")
    if types is not None:
        wanted = [types] if isinstance(types, str) else list(types)
        if not any(_is_type(value, t) for t in wanted):
            return path, f"{_short(value)} is not of type {' or '.join(wanted)}"
    if "enum" in spec and value not in spec["enum"]:
        return path, f"{_short(value)} is not one of {list(spec['enum'])}"
    return _value_problem(value, spec, root, path)


def _value_problem(
    value: Any, spec: Mapping[str, Any], root: Mapping[str, Any], path: list[str | int]
) -> tuple[list[str | int], str] | None:
    if isinstance(value, str | date) and not isinstance(value, datetime):
        text = value.isoformat() if isinstance(value, date) else value
        if "pattern" in spec and not re.search(spec["pattern"], text):
            return path, f"{_short(value)} does not match {spec['pattern']!r}"
        if spec.get("format") == "date" and not _iso_date(text):
            return path, f"{_short(value)} is not a date (YYYY-MM-DD)"
        if spec.get("format") == "regex" and not _regex(text):
            return path, f"{_short(value)} is not a 'regex'"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in spec and value < spec["minimum"]:
            return path, f"{value} is less than the minimum of {spec['minimum']}"
        if "exclusiveMinimum" in spec and value <= spec["exclusiveMinimum"]:
            return path, f"{value} is not more than {spec['exclusiveMinimum']}"
        if "maximum" in spec and value > spec["maximum"]:
            return path, f"{value} is more than the maximum of {spec['maximum']}"
    if isinstance(value, list):
        if len(value) < spec.get("minItems", 0):
            return path, f"needs at least {spec['minItems']} item(s)"
        for i, item in enumerate(value):
            found = _first_problem(item, spec.get("items", {}), root, [*path, i])
            if found is not None:
                return found
    if isinstance(value, dict):
        return _object_problem(value, spec, root, path)
    return None


def _object_problem(
    value: dict[Any, Any], spec: Mapping[str, Any], root: Mapping[str, Any], path: list[str | int]
) -> tuple[list[str | int], str] | None:
    missing = [k for k in spec.get("required", ()) if k not in value]
    if missing:
        return path, f"{missing[0]!r} is a required property"
    props: Mapping[str, Any] = spec.get("properties", {})
    patterns = [(re.compile(p), s) for p, s in spec.get("patternProperties", {}).items()]
    extra = spec.get("additionalProperties", True)
    names = spec.get("propertyNames")
    for key, item in value.items():
        name = str(key)
        if names is not None:
            found = _first_problem(name, names, root, path)
            if found is not None:
                return found
        if name in props:
            sub: Mapping[str, Any] | None = props[name]
        else:
            sub = next((s for p, s in patterns if p.search(name)), None)
        if sub is None and extra is False:
            return path, f"Additional properties are not allowed ({name!r} was unexpected)"
        if sub is None and isinstance(extra, dict):
            sub = extra
        if sub is not None:
            found = _first_problem(item, sub, root, [*path, name])
            if found is not None:
                return found
    return None


def _iso_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _regex(text: str) -> bool:
    try:
        re.compile(text)
    except re.error:
        return False
    return True


def _short(value: Any) -> str:
    text = repr(value.isoformat() if isinstance(value, date) else value)
    return text if len(text) <= 60 else text[:57] + "..."
