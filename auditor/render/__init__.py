"""Report formats and their registry."""

from __future__ import annotations

from auditor.render.console_format import ConsoleFormat
from auditor.render.csv_format import CsvFormat
from auditor.render.cyclonedx_format import CycloneDxFormat
from auditor.render.html_format import HtmlFormat
from auditor.render.interface import Detail, FormatName, RenderOptions, ReportFormat
from auditor.render.json_format import JsonFormat
from auditor.render.markdown_format import MarkdownFormat
from auditor.render.pdf_format import PdfFormat

#: The one place a format is registered: a new format is one module, one ``FormatName`` (the
#: CLI's choices) and one line here (a test holds the registry, the enum and the README together).
FORMATS: dict[FormatName, type[ReportFormat]] = {
    cls.name: cls
    for cls in (
        ConsoleFormat,
        JsonFormat,
        CsvFormat,
        MarkdownFormat,
        HtmlFormat,
        PdfFormat,
        CycloneDxFormat,
    )
}


def renderer(name: FormatName | str, options: RenderOptions | None = None) -> ReportFormat:
    return FORMATS[FormatName(name)](options)


__all__ = ["FORMATS", "Detail", "FormatName", "RenderOptions", "ReportFormat", "renderer"]
