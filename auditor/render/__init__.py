"""Report formats and their registry."""

from __future__ import annotations

from auditor.render.interface import FormatName, ReportFormat

#: The one place a format is registered (filled by the format modules).
FORMATS: dict[FormatName, type[ReportFormat]] = {}

__all__ = ["FORMATS", "FormatName", "ReportFormat"]
