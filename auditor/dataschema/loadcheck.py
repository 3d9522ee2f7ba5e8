"""The loaders' own check of a document against its schema, without jsonschema.

Importing jsonschema costs a CLI run a few tenths of a second (seconds on a busy machine), so the
loaders check a document with this small reading of the same schema: the keywords our schemas use
(type, enum, pattern, format: date and regex, $ref, oneOf, anyOf, properties, required,
additionalProperties, patternProperties, propertyNames, items, minimum, maximum,
exclusiveMinimum, minItems). The tests check the same broken files with both, and that the
schemas use no other keyword.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from auditor.dataschema.registry import describe, load_schema, schema_for
from auditor.errors import DataFileError

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
        raise DataFileError(shown, f"{describe(doc, path)}: {message}")


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
