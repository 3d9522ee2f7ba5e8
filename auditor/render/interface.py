"""The contract of a report format: a pure function from an AuditReport to bytes."""

from __future__ import annotations

from abc import ABC, abstractmethod
from enum import StrEnum
from typing import ClassVar

from auditor.models import AuditReport


class FormatName(StrEnum):
    CONSOLE = "console"
    JSON = "json"
    CSV = "csv"
    MARKDOWN = "markdown"
    HTML = "html"
    PDF = "pdf"


class ReportFormat(ABC):
    """Renders an audit. Renderers are pure: no network, no clock, no store access."""

    name: ClassVar[FormatName]
    suffix: ClassVar[str]
    binary: ClassVar[bool] = False

    @abstractmethod
    def render(self, report: AuditReport) -> bytes:  # pragma: no cover - abstract
        ...
