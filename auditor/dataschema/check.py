"""Data files checked against their schemas by jsonschema: every violation, file, line and path."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from auditor.dataschema.registry import describe, load_schema, schema_for

# libyaml's C loader when present; the same safe subset as the loaders use.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

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
            path=describe(instance, list(error.absolute_path)),
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
