"""Build and sign a data bundle from a data folder (the release step; README, "Data updates")."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from auditor.databundle.archive import write_bundle
from auditor.databundle.manifest import COMPONENTS, BundleError, Manifest, component_of, sha256
from auditor.databundle.signing import key_id, load_private_key, public_pem, sign

#: Never packed: editor and OS litter.
_SKIP = (".DS_Store", "~", ".swp", ".pyc")


def collect(
    source: Path, components: Sequence[str], vulns_from: Path | None = None
) -> dict[str, bytes]:
    """Every file of ``components`` under ``source`` (a ``fingerprints/`` folder); the "vulns"
    component from the data folder ``vulns_from`` (where `camaudit data import-kev` wrote it)."""
    unknown = set(components) - set(COMPONENTS)
    if unknown:
        raise BundleError(f"unknown components {sorted(unknown)}; known: {', '.join(COMPONENTS)}")
    if not (source / "regulatory" / "dataset.yaml").is_file():
        raise BundleError(f"{source}: not a camaudit data folder (no regulatory/dataset.yaml)")
    files: dict[str, bytes] = {}
    for item in sorted(source.rglob("*")):
        if not item.is_file() or item.name.endswith(_SKIP) or item.name.startswith("."):
            continue
        rel = item.relative_to(source).as_posix()
        if component_of(rel) in components:
            files[rel] = item.read_bytes()
    if "vulns" in components:
        folder = (vulns_from or source) / "vulns"
        for name in ("kev.json", "cve.json"):
            if (folder / name).is_file():
                files[f"vulns/{name}"] = (folder / name).read_bytes()
    for component in components:
        if not any(component_of(name) == component for name in files):
            raise BundleError(f"{source}: no files for component {component!r}")
    return files


def regulatory_as_of(source: Path) -> date:
    doc = yaml.safe_load((source / "regulatory" / "dataset.yaml").read_text(encoding="utf-8"))
    as_of = doc.get("as_of") if isinstance(doc, dict) else None
    if not isinstance(as_of, date):
        raise BundleError(f"{source}/regulatory/dataset.yaml: no as_of date")
    return as_of


def build_bundle(
    source: Path,
    out: Path,
    *,
    version: str,
    key_path: Path,
    created: date,
    components: Sequence[str] = ("regulatory", "brands", "oui"),
    sources: Sequence[str] = (),
    notes: Sequence[str] = (),
    vulns_from: Path | None = None,
) -> Manifest:
    """Pack ``components`` of ``source``, sign the manifest with the key at ``key_path``."""
    key = load_private_key(key_path)
    files = collect(source, components, vulns_from)
    manifest = Manifest(
        version=version,
        created=created,
        as_of=regulatory_as_of(source),
        components=tuple(c for c in COMPONENTS if c in components),
        files={name: sha256(data) for name, data in files.items()},
        sources=tuple(sources),
        key_id=key_id(key.public_key()),
        notes=tuple(notes),
    )
    manifest.check()
    body = manifest.to_bytes()
    write_bundle(out, body, sign(body, key), files)
    return manifest


def new_key(private_out: Path) -> bytes:
    """Write a new Ed25519 private key (mode 0600, refusing to overwrite); return its public PEM."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    private_out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with private_out.open("xb") as fh:
            private_out.chmod(0o600)
            fh.write(pem)
    except FileExistsError:
        raise BundleError(f"{private_out} exists; a signing key is never overwritten") from None
    return public_pem(key.public_key())
