"""JSON Schemas of the reviewed data files (``fingerprints/schema/``) and the checks against them.

``check``: every violation of every file at once, with file, line and path, by jsonschema (for
``camaudit fingerprints verify``, editors and the tests). ``loadcheck``: the loaders' own check, a
small reading of the same schemas that stops at the first violation (the regulatory data and the
HTTP clue paths are loaded through it; the fingerprint, brand and alias loaders check the same
rules in code, and more that a schema cannot say). The tests keep all three in step.
"""

from __future__ import annotations

from auditor.dataschema.check import (
    SchemaViolation,
    check_document,
    check_folder,
    check_text,
    data_files,
    json_value,
)
from auditor.dataschema.loadcheck import enforce, enforce_schema
from auditor.dataschema.registry import (
    CLUE_PATHS_SCHEMA,
    SCHEMAS,
    load_schema,
    schema_dir,
    schema_for,
)

__all__ = [
    "CLUE_PATHS_SCHEMA",
    "SCHEMAS",
    "SchemaViolation",
    "check_document",
    "check_folder",
    "check_text",
    "data_files",
    "enforce",
    "enforce_schema",
    "json_value",
    "load_schema",
    "schema_dir",
    "schema_for",
]
