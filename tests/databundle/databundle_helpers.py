"""Helpers shared by the data bundle tests (a module of its own: conftest names collide)."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import yaml

from auditor import resources

REPO = Path(__file__).resolve().parents[2]
#: Dates relative to the shipped data, so the tests hold whatever day it was reviewed to.
SHIPPED_AS_OF = resources._shipped_meta().as_of
AS_OF = SHIPPED_AS_OF + timedelta(days=10)
"""A test bundle's data date: newer than the shipped data."""
TODAY = AS_OF + timedelta(days=3)


def make_source(tmp_path: Path, day: date, version: str, drop_listing: bool = False) -> Path:
    """A copy of the shipped data folder, re-dated (and with one listing fewer, for diffs).

    The dropped listing is a change made for the test only; it says nothing about the real list.
    """
    as_of = day.isoformat()
    src = tmp_path / f"src-{version}"
    shutil.copytree(Path(str(resources.shipped_fingerprints_dir())), src)
    dataset = src / "regulatory" / "dataset.yaml"
    doc = yaml.safe_load(dataset.read_text(encoding="utf-8"))
    doc["as_of"] = as_of
    doc["version"] = version
    dataset.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    text = dataset.read_text(encoding="utf-8").replace(f"'{as_of}'", as_of)
    dataset.write_text(text, encoding="utf-8")
    if drop_listing:
        listings = src / "regulatory" / "listings.yaml"
        ldoc = yaml.safe_load(listings.read_text(encoding="utf-8"))
        ldoc["listings"] = ldoc["listings"][1:]
        listings.write_text(yaml.safe_dump(ldoc, sort_keys=False), encoding="utf-8")
    return src
