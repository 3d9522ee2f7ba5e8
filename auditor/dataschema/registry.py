"""Which JSON Schema in ``fingerprints/schema/`` describes which data file, and where in a file."""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from importlib.abc import Traversable
from typing import Any

from auditor.resources import shipped_fingerprints_dir

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


def describe(instance: Any, path: Sequence[str | int]) -> str:
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
