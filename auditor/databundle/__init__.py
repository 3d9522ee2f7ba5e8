"""Signed, versioned data bundles: install, check, compare and build them.

Public API (``camaudit data`` and the release script call exactly this)::

    install(path, root=..., now=...)      # verify, check, install and activate, or BundleError
    DataDir(root).active(signing.trusted_keys())  # the installed bundle in use, checked again
    diff_data(old, new, ...)              # what facts, listings, brands and prefixes changed
    build_bundle(source, out, version=..., key_path=..., created=...)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor.databundle import signing
from auditor.databundle.archive import Bundle, read_bundle
from auditor.databundle.build import build_bundle, new_key
from auditor.databundle.diff import DataDiff, diff_data
from auditor.databundle.manifest import COMPONENTS, BundleError, Manifest
from auditor.databundle.store import DataDir, Installed

__all__ = [
    "COMPONENTS",
    "Bundle",
    "BundleError",
    "DataDiff",
    "DataDir",
    "Installed",
    "Manifest",
    "build_bundle",
    "diff_data",
    "install",
    "new_key",
    "read_bundle",
    "validate",
]


def validate(data_path: Path, manifest: Manifest) -> None:
    """Load the bundle's data as camaudit would, layered over the shipped data; refuse bad data.

    A correctly signed bundle can still be wrong for this camaudit (a schema it does not read):
    it is refused at install rather than failing every later command.
    """
    from auditor.errors import DataFileError
    from auditor.exposure.data import load_regulatory_data
    from auditor.identify import load_data
    from auditor.resources import layered

    root = layered(data_path, frozenset(manifest.components))
    try:
        data = load_regulatory_data(root / "regulatory")
        load_data(root)
    except DataFileError as exc:
        raise BundleError(f"the bundle's data does not load: {exc}: refused") from None
    if "vulns" in manifest.components:
        from auditor.vulns import VulnDataError
        from auditor.vulns import load as load_vulns

        try:
            load_vulns(data_path)
        except VulnDataError as exc:
            raise BundleError(f"the bundle's vulnerability data does not load: {exc}") from None
    if "regulatory" in manifest.components and data.as_of != manifest.as_of:
        raise BundleError(
            f"the manifest says as of {manifest.as_of} but the regulatory data says "
            f"{data.as_of}: refused"
        )


def install(
    path: Path,
    *,
    root: Path,
    now: datetime,
    trusted: Sequence[Ed25519PublicKey] | None = None,
    allow_older: bool = False,
) -> Installed:
    """Verify the bundle at ``path`` and make it the data in use; BundleError changes nothing."""
    keys = tuple(trusted) if trusted is not None else signing.trusted_keys()
    bundle = read_bundle(path, keys)
    store = DataDir(root)
    store.install(bundle, validate=validate, now=now, allow_older=allow_older)
    return store.open(bundle.manifest.version, keys)
