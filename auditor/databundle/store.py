"""The user's data folder: installed bundles, and which one is active.

Layout (``camaudit data update`` writes it, every other command reads it)::

    <data dir>/bundles/<version>/manifest.json, manifest.sig, data/...
    <data dir>/active.json          {"version": "2026.12.0", "installed_at": "..."}

An install is staged in a temporary folder beside the bundles and checked whole before one
rename makes it visible and one atomic replace of ``active.json`` makes it active; a refused or
interrupted install leaves the folder exactly as it was.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from auditor.databundle.archive import Bundle, read_bundle
from auditor.databundle.manifest import (
    DATA_PREFIX,
    MANIFEST,
    SIGNATURE,
    BundleError,
    Manifest,
    parse_version,
)

ACTIVE = "active.json"
BUNDLES = "bundles"
SHIPPED = "shipped"


@dataclass(frozen=True, slots=True)
class Installed:
    manifest: Manifest
    path: Path
    """The bundle's folder; its data is under ``path / "data"``."""
    key_id: str
    installed_at: str

    @property
    def data_path(self) -> Path:
        return self.path / DATA_PREFIX.rstrip("/")


@dataclass(frozen=True, slots=True)
class DataDir:
    root: Path

    @property
    def bundles(self) -> Path:
        return self.root / BUNDLES

    def versions(self) -> tuple[str, ...]:
        if not self.bundles.is_dir():
            return ()
        return tuple(
            sorted(
                (
                    p.name
                    for p in self.bundles.iterdir()
                    if p.is_dir() and not p.name.startswith(".")
                ),
                key=_order,
            )
        )

    def active_version(self) -> str | None:
        """The version named in active.json, or None for the shipped data."""
        path = self.root / ACTIVE
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise BundleError(
                f"{path}: unreadable ({exc}); `camaudit data use shipped` resets it"
            ) from None
        version = doc.get("version") if isinstance(doc, dict) else None
        if not isinstance(version, str) or version == SHIPPED:
            return None
        parse_version(version)  # a path component below: never "../x"
        return version

    def open(self, version: str, trusted: Sequence[Ed25519PublicKey]) -> Installed:
        """An installed bundle, its signature and every file checked again (tamper on disk)."""
        parse_version(version)
        folder = self.bundles / version
        if not folder.is_dir():
            raise BundleError(
                f"the active data bundle {version} is missing from {self.bundles}; reinstall it "
                "with `camaudit data update FILE` or return to the shipped data with "
                "`camaudit data use shipped`"
            )
        try:
            bundle = read_bundle(folder, trusted)
        except BundleError as exc:
            raise BundleError(
                f"the installed data bundle {version} failed its check: {exc}. Reinstall it with "
                "`camaudit data update FILE`, or return to the shipped data with "
                "`camaudit data use shipped`"
            ) from None
        return Installed(bundle.manifest, folder, bundle.key_id, self._installed_at(folder))

    def active(self, trusted: Sequence[Ed25519PublicKey]) -> Installed | None:
        version = self.active_version()
        return None if version is None else self.open(version, trusted)

    def install(
        self,
        bundle: Bundle,
        *,
        validate: Callable[[Path, Manifest], None],
        now: datetime,
        allow_older: bool = False,
    ) -> Path:
        """Install and activate ``bundle``; on any error nothing in the data folder changes."""
        current = self.active_version()
        if (
            current is not None
            and not allow_older
            and _order(bundle.manifest.version) < _order(current)
        ):
            raise BundleError(
                f"bundle {bundle.manifest.version} is older than the active bundle {current}: "
                "refused (give --allow-older to go back on purpose)"
            )
        target = self.bundles / bundle.manifest.version
        if target.exists():
            existing = (target / MANIFEST).read_bytes() if (target / MANIFEST).is_file() else b""
            if existing != bundle.manifest_bytes:
                raise BundleError(
                    f"a different bundle {bundle.manifest.version} is already installed at "
                    f"{target}: refused (a version is never reused)"
                )
        self.bundles.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.bundles))
        try:
            (staging / MANIFEST).write_bytes(bundle.manifest_bytes)
            (staging / SIGNATURE).write_bytes(bundle.signature)
            for name, data in bundle.files.items():
                dest = staging / DATA_PREFIX / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(data)
            (staging / ".installed").write_text(now.isoformat(timespec="seconds") + "\n")
            validate(staging / DATA_PREFIX.rstrip("/"), bundle.manifest)
            if not target.exists():
                staging.rename(target)
            self._activate(bundle.manifest.version, now)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return target

    def use(self, version: str | None, now: datetime) -> None:
        """Make an installed version (None: the shipped data) the active one."""
        if version is not None:
            parse_version(version)
        self._activate(version or SHIPPED, now)

    def _activate(self, version: str, now: datetime) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        doc = {"version": version, "activated_at": now.isoformat(timespec="seconds")}
        fd, tmp = tempfile.mkstemp(prefix=".active-", dir=self.root)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
            fh.write("\n")
        os.replace(tmp, self.root / ACTIVE)

    @staticmethod
    def _installed_at(folder: Path) -> str:
        try:
            return (folder / ".installed").read_text(encoding="utf-8").strip()
        except OSError:
            return "unknown"


def _order(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (0,)
