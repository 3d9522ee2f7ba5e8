"""Locate the shipped data folders (fingerprints/, reports/) in a wheel or in a source checkout."""

from __future__ import annotations

from importlib import resources
from importlib.abc import Traversable
from pathlib import Path

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
