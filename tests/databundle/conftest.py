"""Fixtures for the data bundle tests: a test signing key, a data folder and a bundle source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor import resources
from auditor.databundle import signing
from auditor.databundle.build import new_key


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
