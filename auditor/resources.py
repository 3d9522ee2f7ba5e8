"""Locate the shipped data folders (fingerprints/, reports/) in a wheel or in a source checkout."""

from __future__ import annotations

import hashlib
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

from auditor.models import DataVersion

_DATA_DIRS = ("fingerprints", "reports")


def data_dir(name: str) -> Traversable:
    """Return the shipped data folder ``name`` ("fingerprints" or "reports").

    An installed wheel carries them as ``auditor/_data/<name>`` (hatch force-include); an editable
    install or a source checkout has them at the top of the repository, next to ``auditor/``.
    """
    if name not in _DATA_DIRS:
        raise ValueError(f"unknown data folder {name!r}")
    packaged = resources.files("auditor") / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = Path(__file__).resolve().parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(
        f"camaudit's {name}/ data folder is missing from this installation; reinstall the package"
    )


def fingerprints_dir() -> Traversable:
    return data_dir("fingerprints")


def reports_dir() -> Traversable:
    return data_dir("reports")


def _walk(node: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    out: list[tuple[str, Traversable]] = []
    for child in node.iterdir():
        name = f"{prefix}{child.name}"
        if child.is_dir():
            out.extend(_walk(child, name + "/"))
        elif child.is_file():
            out.append((name, child))
    return out


def fingerprint_data_version() -> DataVersion:
    """Identify the fingerprint data an audit used: a digest over every shipped data file.

    Reviewers change data far more often than code, so the tool version alone would not say
    which fingerprints produced a finding.
    """
    h = hashlib.sha256()
    for name, node in sorted(_walk(fingerprints_dir()), key=lambda item: item[0]):
        h.update(name.encode())
        h.update(b"\x00")
        h.update(node.read_bytes())
        h.update(b"\x00")
    return DataVersion(name="fingerprints", version=f"sha256:{h.hexdigest()[:16]}")
