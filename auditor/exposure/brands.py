"""Brand hints from fingerprints/brands.yaml (owned by the fingerprint DB): brand -> true maker.

Used only to explain an unidentified device ("the brand X is reported as an OEM relabel of Y"),
never to decide a maker: identification does that with device evidence.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from auditor.resources import fingerprints_dir

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BrandHint:
    brand: str
    manufacturer: str
    relationship: str
    confidence: str
    source: str


@functools.cache
def load_brand_hints() -> Mapping[str, BrandHint]:
    """brand (case-folded, with aliases) -> true maker, from fingerprints/brands.yaml if present."""
    node = fingerprints_dir() / "brands.yaml"
    if not node.is_file():
        return {}
    try:
        doc: Any = yaml.load(
            node.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except yaml.YAMLError as exc:
        logger.warning("brands.yaml unreadable, brand hints off: %s", exc)
        return {}
    hints: dict[str, BrandHint] = {}
    for row in (doc or {}).get("brands") or []:
        hint = BrandHint(
            str(row.get("brand")),
            str(row.get("manufacturer")),
            str(row.get("relationship", "")),
            str(row.get("confidence", "")),
            str(row.get("source", "")),
        )
        for name in [row.get("brand"), *(row.get("aliases") or [])]:
            hints.setdefault(str(name).casefold(), hint)
    return hints
