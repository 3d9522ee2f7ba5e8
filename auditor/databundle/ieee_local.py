"""`camaudit data update DIR` with the IEEE's own CSV files: a current MAC registry, built here.

The IEEE Registration Authority publishes every MAC block assignment (oui.csv, mam.csv,
oui36.csv, iab.csv; Debian ships them in /usr/share/ieee-data). They are the primary source, so
they need no camaudit signature: the registry is rebuilt from them with
``auditor.identify.ieee.write_registry`` into the data folder, checked, and used instead of the
data's own registry when it is newer. Every report names it.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from auditor.databundle.manifest import MANIFEST, BundleError


def looks_like_ieee(path: Path) -> bool:
    """A folder of IEEE registry CSV files (and not an unpacked bundle)."""
    return path.is_dir() and (path / "oui.csv").is_file() and not (path / MANIFEST).exists()


def ieee_as_of(folder: Path) -> date:
    """The files' publication day: Debian's ``.lastupdate`` (a Unix time), else the newest file."""
    stamp = folder / ".lastupdate"
    if stamp.is_file():
        text = stamp.read_text(encoding="utf-8").strip()
        try:
            return datetime.fromtimestamp(int(text), UTC).date()
        except ValueError:
            try:
                return date.fromisoformat(text[:10])
            except ValueError:
                pass
    newest = max(p.stat().st_mtime for p in folder.glob("*.csv"))
    return datetime.fromtimestamp(newest, UTC).date()


def install_ieee(folder: Path, registry: Path, now: datetime) -> tuple[int, date]:
    """Build the registry at ``registry`` from ``folder``; on any error the old one stays."""
    from auditor.errors import DataFileError
    from auditor.identify import ieee
    from auditor.identify.reference import parse_oui

    as_of = ieee_as_of(folder)
    registry.parent.mkdir(parents=True, exist_ok=True)
    staged = registry.with_name(registry.name + ".new")
    provenance = f"IEEE CSV files from {folder}, imported {now:%Y-%m-%d}"
    try:
        rows = ieee.write_registry(folder, staged, as_of, provenance)
        table = parse_oui(staged.read_text(encoding="utf-8"), str(staged))
        if len(table.entries) != rows:
            raise BundleError(f"{folder}: the registry built has {len(table.entries)} rows")
    except (ieee.IeeeDataError, DataFileError, OSError) as exc:
        staged.unlink(missing_ok=True)
        raise BundleError(f"{folder}: not usable IEEE registry files ({exc}): refused") from None
    staged.replace(registry)
    return rows, as_of
