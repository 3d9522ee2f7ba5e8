"""Writing rendered reports: to the terminal, stdout or files, the same way for `scan` and `report`.

Every format is rendered before anything is written, and files are written to a temporary name in
the target folder and renamed into place, so a failed render or a full disk never leaves a
half-written report or clobbers the previous one (the lazy opening pip-audit uses, for the same
reason).
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from auditor.errors import ConfigError, UsageError
from auditor.models import AuditReport
from auditor.render import FORMATS
from auditor.render.interface import Detail, FormatName, RenderOptions

STDOUT = "-"
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def default_name(report: AuditReport, fmt: FormatName) -> str:
    """camaudit-<site>-<audit id>.<suffix>, reduced to characters safe in any file system."""
    stem = _UNSAFE_NAME.sub("-", f"camaudit-{report.audit.site}-{report.audit.id}").strip("-.")
    return f"{stem[:120]}.{FORMATS[fmt].suffix}"


def _destinations(
    report: AuditReport, formats: Sequence[FormatName], output: str | None
) -> list[str | None]:
    """Where each format goes: a path, STDOUT, or None for the terminal (console only)."""
    if output == STDOUT:
        if len(formats) > 1:
            raise UsageError("-o - writes one format to stdout; give one -f, or a base path")
        return [STDOUT]
    if output is None:
        return [None if f is FormatName.CONSOLE else default_name(report, f) for f in formats]
    if len(formats) == 1:
        return [output]
    # Several formats: "-o out/audit" (or "out/audit.html") gives out/audit.<suffix> for each.
    base = output
    suffixes = {f".{cls.suffix}" for cls in FORMATS.values()}
    root, ext = os.path.splitext(base)
    if ext.lower() in suffixes:
        base = root
    return [f"{base}.{FORMATS[f].suffix}" for f in formats]


def _file_mode() -> int:
    """The mode a new file would get (0666 less the umask): mkstemp makes 0600 files, and a report
    must be exactly as readable as the user's umask says, no more (reports name cameras, models
    and firmware on a sensitive network) and no less."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _write_atomically(path: Path, data: bytes) -> None:
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise ConfigError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write the report to {path}: {exc.strerror or exc}") from exc


def write_reports(
    report: AuditReport,
    formats: Sequence[FormatName],
    output: str | None,
    template_dir: Path | None,
    detail: Detail | str = Detail.STANDARD,
) -> list[str]:
    """Render each format and write it; return where each went ("-" for stdout/terminal)."""
    formats = [FormatName(f) for f in dict.fromkeys(formats)]
    if not formats:
        return []
    targets = _destinations(report, formats, output)
    for fmt, target in zip(formats, targets, strict=True):
        if target in (None, STDOUT) and FORMATS[fmt].binary and sys.stdout.isatty():
            raise UsageError(f"{fmt.value} is binary; write it to a file with -o PATH")
    rendered: list[bytes] = []
    for fmt, target in zip(formats, targets, strict=True):
        to_terminal = target in (None, STDOUT) and sys.stdout.isatty()
        options = RenderOptions(
            template_dir=template_dir,
            detail=Detail(detail),
            color=to_terminal and fmt is FormatName.CONSOLE and not os.environ.get("NO_COLOR"),
            width=shutil.get_terminal_size((120, 40)).columns if to_terminal else 120,
        )
        rendered.append(FORMATS[fmt](options).render(report))
    written: list[str] = []
    for target, data in zip(targets, rendered, strict=True):
        if target is None or target == STDOUT:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
            written.append(STDOUT)
        else:
            _write_atomically(Path(target), data)
            written.append(target)
    return written
