"""Read a bundle (a ``.tar.gz`` file or an unpacked folder) and check it; write one.

Reading checks, before anything is used: the archive's shape (regular files only, no absolute
or ``..`` paths, bounded size), the signature over the manifest against the trusted keys, and
every file against its digest in the manifest (no file missing, none extra).
"""

from __future__ import annotations

import io
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor.databundle.manifest import (
    DATA_PREFIX,
    MANIFEST,
    SIGNATURE,
    BundleError,
    Manifest,
    safe_relpath,
    sha256,
)
from auditor.databundle.signing import verify

#: A bundle is a few MB of YAML and TSV; anything far larger is not one.
MAX_BUNDLE_BYTES = 256 * 1024**2
MAX_FILES = 20_000


@dataclass(frozen=True, slots=True)
class Bundle:
    manifest: Manifest
    manifest_bytes: bytes
    signature: bytes
    files: Mapping[str, bytes]
    """Path inside the data folder -> content, every one checked against the manifest."""
    key_id: str
    origin: str


def read_bundle(
    path: Path, trusted: Sequence[Ed25519PublicKey], *, require_signature: bool = True
) -> Bundle:
    """Load and verify the bundle at ``path``; BundleError (nothing used) if anything is off."""
    if path.is_dir():
        raw = _read_dir(path)
    elif path.is_file():
        raw = _read_tar(path)
    else:
        raise BundleError(f"{path}: no such file or folder")
    manifest_bytes = raw.pop(MANIFEST, None)
    signature = raw.pop(SIGNATURE, None)
    if manifest_bytes is None:
        raise BundleError(f"{path}: no {MANIFEST}: not a camaudit data bundle")
    if signature is None and require_signature:
        raise BundleError(f"{path}: the bundle is not signed (no {SIGNATURE}): refused")
    signer = ""
    if signature is not None and require_signature:
        try:
            signer = verify(manifest_bytes, signature, trusted)
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from None
    manifest = Manifest.from_bytes(manifest_bytes)
    files: dict[str, bytes] = {}
    for name, data in raw.items():
        if not name.startswith(DATA_PREFIX):
            raise BundleError(f"{path}: unexpected member {name!r} outside {DATA_PREFIX}")
        files[name[len(DATA_PREFIX) :]] = data
    missing = sorted(set(manifest.files) - set(files))
    extra = sorted(set(files) - set(manifest.files))
    if missing or extra:
        raise BundleError(
            f"{path}: the files do not match the signed manifest"
            + (f"; missing {', '.join(missing[:5])}" if missing else "")
            + (f"; not in the manifest {', '.join(extra[:5])}" if extra else "")
            + ": refused"
        )
    for name, data in files.items():
        if sha256(data) != manifest.files[name]:
            raise BundleError(
                f"{path}: {name} differs from the signed manifest (tampered or corrupted): refused"
            )
    return Bundle(manifest, manifest_bytes, signature or b"", files, signer, str(path))


def _read_dir(root: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    for item in sorted(root.rglob("*")):
        rel = item.relative_to(root).as_posix()
        if "/" not in rel and rel.startswith("."):
            continue  # an installed bundle's own bookkeeping (.installed), never data
        if item.is_symlink():
            raise BundleError(f"{root}: {rel} is a symbolic link: refused")
        if item.is_dir():
            continue
        if not item.is_file():
            raise BundleError(f"{root}: {rel} is not a regular file: refused")
        total += item.stat().st_size
        if total > MAX_BUNDLE_BYTES or len(out) >= MAX_FILES:
            raise BundleError(f"{root}: larger than any data bundle: refused")
        out[rel] = item.read_bytes()
    return out


def _read_tar(path: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(path, mode="r:*") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isdir():
                    continue
                if not member.isreg():
                    raise BundleError(f"{path}: member {name!r} is not a regular file: refused")
                if not safe_relpath(name):
                    raise BundleError(f"{path}: member name {name!r} is unsafe: refused")
                if name in out:
                    raise BundleError(f"{path}: member {name!r} appears twice: refused")
                total += member.size
                if total > MAX_BUNDLE_BYTES or len(out) >= MAX_FILES:
                    raise BundleError(f"{path}: larger than any data bundle: refused")
                handle = tar.extractfile(member)
                if handle is None:
                    raise BundleError(f"{path}: member {name!r} cannot be read")
                out[name] = handle.read()
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleError(
            f"{path}: not a readable bundle archive ({exc}); truncated download?"
        ) from None
    return out


def write_bundle(
    out: Path, manifest_bytes: bytes, signature: bytes, files: Mapping[str, bytes]
) -> None:
    """Write a ``.tar.gz`` bundle (fixed member order and times, so a rebuild is identical)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    with tarfile.open(tmp, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        members = [(MANIFEST, manifest_bytes), (SIGNATURE, signature)] + [
            (DATA_PREFIX + name, files[name]) for name in sorted(files)
        ]
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(out)
