"""Fixtures for the data bundle tests: a test signing key, a data folder and a bundle source."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor import resources
from auditor.databundle import signing
from auditor.databundle.build import new_key

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "render"))

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty data folder for this test; every cached data load is dropped before and after."""
    folder = tmp_path / "data"
    monkeypatch.setenv(resources.ENV_DATA_DIR, str(folder))
    resources.use_data_root(None)
    yield folder
    resources.use_data_root(None)
    monkeypatch.undo()
    resources.forget_loaded_data()


@pytest.fixture
def test_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A signing key made for this test; camaudit is told to trust it (and only it)."""
    private = tmp_path / "keys" / "test-signing.key"
    public = signing.load_public_key(new_key(private), "test key")
    monkeypatch.setattr(signing, "trusted_keys", lambda: (public,))
    return private


@pytest.fixture
def other_key(tmp_path: Path) -> tuple[Path, Ed25519PublicKey]:
    private = tmp_path / "keys" / "someone-else.key"
    return private, signing.load_public_key(new_key(private), "other key")


def make_source(tmp_path: Path, as_of: str, version: str, drop_listing: bool = False) -> Path:
    """A copy of the shipped data folder, re-dated (and with one listing fewer, for diffs).

    The dropped listing is a change made for the test only; it says nothing about the real list.
    """
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
