"""Writing rendered reports: to the terminal, stdout or files, the same way for `scan` and `report`.

Every format is rendered before anything is written, and files are written to a temporary name in
the target folder and renamed into place, so a failed render or a full disk never leaves a
half-written report or clobbers the previous one (the lazy opening pip-audit uses, for the same
reason).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from auditor.errors import ConfigError, UsageError
from auditor.models import AuditReport, DeviceResult
from auditor.render import FORMATS
from auditor.render.csv_format import write_csv
from auditor.render.interface import Detail, FormatName, RenderOptions
from auditor.render.json_format import write_json

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


def _cannot(path: Path | str, exc: OSError) -> ConfigError:
    return ConfigError(f"cannot write the report to {path}: {exc.strerror or exc}")


def _temporary(path: Path) -> tuple[BinaryIO, Path]:
    """An open temporary file beside ``path``, to be renamed onto it (``_commit``)."""
    folder = path.parent if str(path.parent) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as exc:
        raise _cannot(path, exc) from exc
    return os.fdopen(fd, "wb"), Path(tmp)


def _commit(fh: BinaryIO, tmp: Path, path: Path) -> None:
    """Flush the temporary file to disk and rename it onto ``path``; on failure, remove it."""
    try:
        with fh:
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _file_mode())
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _cannot(path, exc) from exc


def _write_atomically(path: Path, data: bytes) -> None:
    fh, tmp = _temporary(path)
    try:
        fh.write(data)
    except OSError as exc:
        fh.close()
        tmp.unlink(missing_ok=True)
        raise _cannot(path, exc) from exc
    _commit(fh, tmp, path)


def _options(
    fmt: FormatName, target: str | None, template_dir: Path | None, detail: Detail | str
) -> RenderOptions:
    to_terminal = target in (None, STDOUT) and sys.stdout.isatty()
    return RenderOptions(
        template_dir=template_dir,
        detail=Detail(detail),
        color=to_terminal and fmt is FormatName.CONSOLE and not os.environ.get("NO_COLOR"),
        width=shutil.get_terminal_size((120, 40)).columns if to_terminal else 120,
    )


def _refuse_binary_on_terminal(
    formats: Sequence[FormatName], targets: Sequence[str | None]
) -> None:
    for fmt, target in zip(formats, targets, strict=True):
        if target in (None, STDOUT) and FORMATS[fmt].binary and sys.stdout.isatty():
            raise UsageError(f"{fmt.value} is binary; write it to a file with -o PATH")


def _close_quietly(fh: BinaryIO) -> None:
    with contextlib.suppress(OSError):
        fh.close()


def _to_stdout(data: bytes) -> str:
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    return STDOUT


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
    _refuse_binary_on_terminal(formats, targets)
    rendered = [
        FORMATS[fmt](_options(fmt, target, template_dir, detail)).render(report)
        for fmt, target in zip(formats, targets, strict=True)
    ]
    written: list[str] = []
    for target, data in zip(targets, rendered, strict=True):
        if target is None or target == STDOUT:
            written.append(_to_stdout(data))
        else:
            _write_atomically(Path(target), data)
            written.append(target)
    return written


class ReportSource(Protocol):
    """An audit to be written device by device (auditor.store.reader.StoredReport is one)."""

    @property
    def head(self) -> AuditReport:
        """The audit's info, out-of-scope references and notes; its devices are not read."""
        ...

    @property
    def evidence_sha256(self) -> str: ...

    @property
    def devices(self) -> Iterable[DeviceResult]:
        """The devices in report order, each read when it is reached."""
        ...


def _json(out: BinaryIO, source: ReportSource) -> None:
    write_json(out, source.head, source.devices, source.evidence_sha256)


def _csv(out: BinaryIO, source: ReportSource) -> None:
    write_csv(out, source.head, source.devices)


#: The formats written device by device from a ReportSource, never holding every device (issue
#: 16). The others lay the whole report out at once (HTML, Markdown and PDF group and sort the
#: devices; the console table and CycloneDX too) and render from a loaded report.
STREAMED: dict[FormatName, Callable[[BinaryIO, ReportSource], None]] = {
    FormatName.JSON: _json,
    FormatName.CSV: _csv,
}


@dataclass(frozen=True, slots=True)
class StoredAudit:
    """An audit in the store, as write_stored takes it."""

    head: AuditReport
    """Its info, out-of-scope references and notes (names the default files); no devices."""
    stream: Callable[[], AbstractContextManager[ReportSource]]
    """Opens the audit for one pass over its devices (once per streamed format)."""
    load: Callable[[], AuditReport]
    """The whole report, for the formats that are not streamed (called once, if at all)."""


def write_stored(
    audit: StoredAudit,
    formats: Sequence[FormatName],
    output: str | None,
    template_dir: Path | None,
    detail: Detail | str = Detail.STANDARD,
) -> list[str]:
    """write_reports for an audit in the store: the STREAMED formats are written device by
    device, each to a temporary file (stdout's too, so that a failure half-way shows nothing);
    the whole report is loaded only for the other formats. As there, every format is rendered
    before any is put in place."""
    formats = [FormatName(f) for f in dict.fromkeys(formats)]
    if not formats:
        return []
    targets = _destinations(audit.head, formats, output)
    _refuse_binary_on_terminal(formats, targets)
    loaded = [f for f in formats if f not in STREAMED]
    rendered: dict[FormatName, bytes] = {}
    if loaded:
        report = audit.load()
        for fmt, target in zip(formats, targets, strict=True):
            if fmt in loaded:
                rendered[fmt] = FORMATS[fmt](_options(fmt, target, template_dir, detail)).render(
                    report
                )
        del report
    with contextlib.ExitStack() as cleanup:
        staged: dict[FormatName, tuple[BinaryIO, Path | None]] = {}
        for fmt, target in zip(formats, targets, strict=True):
            if fmt in loaded:
                continue
            if target is None or target == STDOUT:
                where = f"stdout (by way of a temporary file in {tempfile.gettempdir()})"
                try:
                    fh: BinaryIO = tempfile.TemporaryFile()  # noqa: SIM115 (closed below)
                except OSError as exc:
                    raise _cannot(where, exc) from exc
                tmp: Path | None = None
            else:
                where = target
                fh, tmp = _temporary(Path(target))
                cleanup.callback(tmp.unlink, missing_ok=True)  # gone once renamed into place
            # Closed without a word after a failure: the flush of a full disk's last bytes
            # fails again, and the first error is the one to tell.
            cleanup.callback(_close_quietly, fh)
            staged[fmt] = (fh, tmp)
            try:
                with audit.stream() as source:
                    STREAMED[fmt](fh, source)
            except OSError as exc:
                raise _cannot(where, exc) from exc
        written: list[str] = []
        for fmt, target in zip(formats, targets, strict=True):
            if fmt in rendered:
                data = rendered.pop(fmt)
                if target is None or target == STDOUT:
                    written.append(_to_stdout(data))
                else:
                    _write_atomically(Path(target), data)
                    written.append(target)
                continue
            fh, tmp = staged.pop(fmt)
            if tmp is None:
                fh.seek(0)
                shutil.copyfileobj(fh, sys.stdout.buffer)
                sys.stdout.flush()
                written.append(STDOUT)
            else:
                _commit(fh, tmp, Path(str(target)))
                written.append(str(target))
        return written
