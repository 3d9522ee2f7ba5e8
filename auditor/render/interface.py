"""The contract of a report format: a pure function from an AuditReport to bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import ClassVar

from auditor.models import AuditReport


class FormatName(StrEnum):
    CONSOLE = "console"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"
    CYCLONEDX = "cyclonedx"


class Detail(StrEnum):
    """How much of the audit a report shows; every format honours it.

    summary: what was audited, what was found, the actions and how sure we are, and the counts.
    standard: also every device, grouped by action and maker, with its matched evidence.
    full: also every probe and every raw reply the probes recorded.
    """

    SUMMARY = "summary"
    STANDARD = "standard"
    FULL = "full"


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """How to render, never what: the report itself comes only from the AuditReport."""

    template_dir: Path | None = None
    """A folder whose files override the shipped HTML/PDF templates (logo, wording)."""
    color: bool = False
    """Console only: emit terminal colours (when writing to a terminal)."""
    width: int = 120
    """Console only: the line width."""
    detail: Detail = Detail.STANDARD


class ReportFormat(ABC):
    """Renders an audit. Renderers are pure: no network, no clock, no store access."""

    name: ClassVar[FormatName]
    suffix: ClassVar[str]
    binary: ClassVar[bool] = False

    def __init__(self, options: RenderOptions | None = None) -> None:
        self.options = options or RenderOptions()

    @abstractmethod
    def render(self, report: AuditReport) -> bytes:  # pragma: no cover - abstract
        ...
