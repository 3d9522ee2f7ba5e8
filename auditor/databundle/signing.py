"""Ed25519 signatures over a bundle's manifest, and the public keys this camaudit trusts.

The trusted keys ship inside the package (``auditor/databundle/keys/*.pem``); the private key
lives with whoever releases bundles and is given to the release script by path, never committed.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from importlib import resources
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from auditor.databundle.manifest import BundleError


def key_id(key: Ed25519PublicKey) -> str:
    """A short, stable name for a public key: the first 16 hex digits of its SHA-256."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_public_key(pem: bytes, where: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise BundleError(f"{where}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError(f"{where}: not an Ed25519 public key")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BundleError(f"{path}: cannot read the signing key ({exc.strerror or exc})") from None
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise BundleError(f"{path}: not an unencrypted PEM private key ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError(f"{path}: not an Ed25519 private key")
    return key


def trusted_keys() -> tuple[Ed25519PublicKey, ...]:
    """The release keys shipped in this package (tests replace this function to trust theirs)."""
    folder = resources.files("auditor.databundle") / "keys"
    return tuple(
        load_public_key(node.read_bytes(), f"shipped key {node.name}")
        for node in sorted(folder.iterdir(), key=lambda n: n.name)
        if node.name.endswith(".pem")
    )


def sign(manifest: bytes, key: Ed25519PrivateKey) -> bytes:
    """The signature file's content: base64 of the 64-byte signature, one line."""
    return base64.b64encode(key.sign(manifest)) + b"\n"


def verify(manifest: bytes, signature: bytes, trusted: Sequence[Ed25519PublicKey]) -> str:
    """Return the id of the trusted key that signed ``manifest``; raise BundleError otherwise."""
    try:
        raw = base64.b64decode(signature.strip(), validate=True)
    except ValueError:
        raise BundleError("the bundle's signature is not base64: refused") from None
    if len(raw) != 64:
        raise BundleError("the bundle's signature is not an Ed25519 signature: refused")
    if not trusted:
        raise BundleError("this camaudit trusts no bundle signing key: refused")
    for key in trusted:
        try:
            key.verify(raw, manifest)
        except InvalidSignature:
            continue
        return key_id(key)
    raise BundleError(
        "the bundle's signature does not verify against any key this camaudit trusts "
        f"({', '.join(key_id(k) for k in trusted)}): it was altered after signing or signed "
        "by someone else; refused"
    )
