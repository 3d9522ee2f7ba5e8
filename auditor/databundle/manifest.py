"""What a data bundle holds: its manifest (version, as-of date, components, file digests).

A bundle is the reviewed data that changes faster than the code: the regulatory facts, the brand
table, the MAC registry and, optionally, the fingerprints. Its manifest names every file with its
SHA-256, and the Ed25519 signature covers the manifest's exact bytes, so one signature vouches
for every file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from auditor.errors import CamauditError

FORMAT = "camaudit-data-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
DATA_PREFIX = "data/"

#: The parts a bundle may carry; each replaces the shipped part whole (never file by file, so a
#: file removed in the bundle cannot come back from the shipped data). "vulns" is the KEV
#: catalogue and CVE records (issue 18) as `camaudit data import-kev/-cve` stores them; it ships
#: nothing of its own, so it adds to what the user imported (the newer KEV catalogue wins).
COMPONENTS = ("regulatory", "brands", "oui", "fingerprints", "vulns")
_VERSION = re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,4})$")


class BundleError(CamauditError):
    """A bundle that cannot be used: unsigned, tampered, malformed or not newer than ours."""


def component_of(path: str) -> str:
    """Which component a path inside the data folder belongs to."""
    top = path.split("/", 1)[0]
    if top in ("regulatory", "oui", "vulns"):
        return top
    if top == "brands.yaml":
        return "brands"
    return "fingerprints"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def parse_version(text: str) -> tuple[int, int, int]:
    """``YYYY.MM.N``: a release month and a sequence number, so versions order by time."""
    match = _VERSION.match(text)
    if match is None:
        raise BundleError(f"bundle version {text!r} is not YYYY.MM.N (e.g. 2026.12.0)")
    year, month, seq = (int(g) for g in match.groups())
    if not 1 <= month <= 12:
        raise BundleError(f"bundle version {text!r}: month {month} is not 1-12")
    return year, month, seq


@dataclass(frozen=True, slots=True)
class Manifest:
    version: str
    created: date
    as_of: date
    """The data's own as-of date (the regulatory data's, when the bundle carries it)."""
    components: tuple[str, ...]
    files: Mapping[str, str]
    """Path inside the data folder -> SHA-256 (hex)."""
    sources: tuple[str, ...] = ()
    """Where the data came from (repository and commit, review notes), for `data status`."""
    key_id: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def sort_key(self) -> tuple[int, int, int]:
        return parse_version(self.version)

    def to_bytes(self) -> bytes:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "created": self.created.isoformat(),
            "as_of": self.as_of.isoformat(),
            "components": list(self.components),
            "files": dict(sorted(self.files.items())),
            "sources": list(self.sources),
            "key_id": self.key_id,
            "notes": list(self.notes),
        }
        return (json.dumps(doc, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> Manifest:
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BundleError(f"{MANIFEST} is not valid JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise BundleError(f"{MANIFEST} is not a camaudit data bundle manifest")
        if doc.get("format_version") != FORMAT_VERSION:
            raise BundleError(
                f"bundle format version {doc.get('format_version')!r} is not supported by this "
                f"camaudit (it reads version {FORMAT_VERSION}); upgrade camaudit"
            )
        try:
            files = doc["files"]
            components = tuple(str(c) for c in doc["components"])
            manifest = cls(
                version=str(doc["version"]),
                created=date.fromisoformat(str(doc["created"])),
                as_of=date.fromisoformat(str(doc["as_of"])),
                components=components,
                files={str(k): str(v) for k, v in files.items()},
                sources=tuple(str(s) for s in doc.get("sources") or ()),
                key_id=str(doc.get("key_id") or ""),
                notes=tuple(str(n) for n in doc.get("notes") or ()),
            )
        except (KeyError, TypeError, AttributeError, ValueError) as exc:
            raise BundleError(f"{MANIFEST} is incomplete or malformed ({exc})") from None
        manifest.check()
        return manifest

    def check(self) -> None:
        parse_version(self.version)
        unknown = set(self.components) - set(COMPONENTS)
        if unknown or not self.components:
            raise BundleError(f"bundle components {sorted(unknown) or '(none)'} are not known")
        for path, digest in self.files.items():
            if not _safe_relpath(path):
                raise BundleError(f"bundle file name {path!r} is not a safe relative path")
            if component_of(path) not in self.components:
                raise BundleError(f"bundle file {path!r} is outside the declared components")
            if not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise BundleError(f"bundle file {path!r}: {digest!r} is not a SHA-256")
        if "regulatory" in self.components and "regulatory/dataset.yaml" not in self.files:
            raise BundleError("a bundle with regulatory data must carry regulatory/dataset.yaml")


def _safe_relpath(path: str) -> bool:
    parts = path.split("/")
    return (
        bool(path)
        and not path.startswith("/")
        and "\\" not in path
        and all(p not in ("", ".", "..") for p in parts)
        and all(ch.isprintable() for ch in path)
    )


def safe_relpath(path: str) -> bool:
    return _safe_relpath(path)
