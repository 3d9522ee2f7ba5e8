"""An installed wheel, outside the source tree, finds its fingerprint data and report templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_wheel_ships_data_and_finds_it_outside_the_tree(tmp_path: Path) -> None:
    # Given a wheel built from this checkout
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("camaudit-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("auditor/_data/fingerprints/") for n in names)
    assert any(n.startswith("auditor/_data/reports/") for n in names)
    # The public key that data bundles are checked against ships too (else every update fails).
    assert any(n.startswith("auditor/databundle/keys/") and n.endswith(".pem") for n in names)
    # When it is unpacked somewhere else and imported from there (not from the checkout)
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "import auditor, auditor.resources as r; "
        "print(auditor.__file__); print(r.fingerprints_dir()); print(r.reports_dir()); "
        "from auditor.databundle import signing; "
        "print(auditor.__file__ if signing.trusted_keys() else 'no trusted key')"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    # Then both data folders resolve inside the unpacked wheel
    assert all(line.startswith(str(site)) for line in out), out
