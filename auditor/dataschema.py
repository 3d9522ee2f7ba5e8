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

from auditor.resources import shipped_fingerprints_dir

# libyaml's C loader when present; the same safe subset as the loaders use.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: (data file, schema) pairs, paths relative to the data folder; "*.yaml" is every file at the
#: top (one per observation kind) that no other row names. First match wins.
SCHEMAS: tuple[tuple[str, str], ...] = (
    ("brands.yaml", "brands.schema.json"),
    ("identifiers/aliases.yaml", "aliases.schema.json"),
    ("*.yaml", "fingerprint-file.schema.json"),
)

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


def check_document(doc: Any, relpath: str, text: str = "") -> list[SchemaViolation]:
    """Every violation of ``doc`` (parsed YAML) against the schema of ``relpath``."""
    name = schema_for(relpath)
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
        out.extend(check_text(node.read_text(encoding="utf-8"), rel))
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
