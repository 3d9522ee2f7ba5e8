"""The HTML report: one self-contained file from the Jinja2 templates in reports/html/.

Autoescape is on for every template, the page carries a Content-Security-Policy that forbids
scripts and any fetch, charts are inline SVG, and the stylesheet is inlined, so the file opens the
same offline, from an e-mail attachment or in a PDF engine. A consultant's --template-dir is
searched first, so any template (brand.html, disclaimer.html, report.css, ...) can be replaced.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2

from auditor.errors import ConfigError
from auditor.models import AuditReport, Severity
from auditor.render.actions import advice, devices_by_action
from auditor.render.evidence import evidence
from auditor.render.findings import cvss_text, kev_text, vulnerability_rows
from auditor.render.interface import FormatName, ReportFormat
from auditor.render.notices import notices
from auditor.render.safe import clean, one_line, truncate
from auditor.render.verdicts import (
    device_label,
    is_exposed,
    needs_review,
    not_listed,
    reaching,
    shortfalls,
    top_exposure,
    type_counts,
)
from auditor.render.view import certainty, shortfall_counts, summarise
from auditor.render.wording import (
    DISCLAIMER,
    age_text,
    elapsed_text,
    first_line,
    first_sentence,
    reason_text,
    scope_text,
    status_short,
    status_text,
    type_label,
)
from auditor.resources import reports_dir

#: Raw observations longer than this are cut in the HTML (the JSON report keeps them whole).
RAW_LIMIT = 2000
MAIN_TEMPLATE = "report.html"


class _TraversableLoader(jinja2.BaseLoader):
    """Loads the shipped templates from the package data, wherever it is installed."""

    def __init__(self, root: Traversable) -> None:
        self.root = root

    def get_source(
        self, environment: jinja2.Environment, template: str
    ) -> tuple[str, str | None, Callable[[], bool] | None]:
        node = self.root
        for part in template.split("/"):
            if part in ("", ".", ".."):
                raise jinja2.TemplateNotFound(template)
            node = node / part
        if not node.is_file():
            raise jinja2.TemplateNotFound(template)
        return node.read_text(encoding="utf-8"), None, lambda: True


def _safe_href(url: str) -> str | None:
    """Only web links become clickable; anything else (javascript:, data:) stays text."""
    return url if url.startswith(("https://", "http://")) else None


def _raw(value: str) -> dict[str, Any]:
    text, cut = truncate(value, RAW_LIMIT)
    return {"text": clean(text), "cut": cut, "length": len(value)}


_FINGERPRINT_LIST = re.compile(r"^manufacturer .+ \(\d\.\d\d\) from ")


def _fingerprint_list(line: str) -> bool:
    """A rationale line that only lists the fingerprints behind the maker (fusion's wording)."""
    return _FINGERPRINT_LIST.match(line) is not None


def environment(template_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if template_dir is not None:
        if not template_dir.is_dir():
            raise ConfigError(f"--template-dir {template_dir}: not a folder")
        loaders.append(jinja2.FileSystemLoader(str(template_dir)))
    loaders.append(_TraversableLoader(reports_dir() / "html"))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["clean"] = clean
    env.filters["line"] = one_line
    env.filters["pct"] = lambda v: f"{float(v):.0%}"
    env.filters["raw"] = _raw
    env.filters["first_line"] = first_line
    env.tests["fingerprint_list"] = _fingerprint_list
    env.filters["first_sentence"] = first_sentence
    env.globals.update(
        status_text=status_text,
        status_short=status_short,
        reason_text=reason_text,
        safe_href=_safe_href,
        is_exposed=is_exposed,
        needs_review=needs_review,
        reaching=reaching,
        shortfalls=shortfalls,
        not_listed=not_listed,
        evidence=evidence,
        advice=advice,
        type_label=type_label,
        type_counts=type_counts,
        top_exposure=top_exposure,
        DISCLAIMER=DISCLAIMER,
        Severity=Severity,
        cvss_text=cvss_text,
        kev_text=kev_text,
        device_label=device_label,
    )
    return env


class HtmlFormat(ReportFormat):
    name = FormatName.HTML
    suffix = "html"

    def render(self, report: AuditReport) -> bytes:
        env = environment(self.options.template_dir)
        try:
            template = env.get_template(MAIN_TEMPLATE)
            info = report.audit
            at = info.started.date()
            html = template.render(
                report=report,
                info=info,
                detail=self.options.detail.value,
                summary=summarise(report),
                notices=notices(report),
                sure=certainty(report),
                by_action=devices_by_action(report),
                shortfall_counts=shortfall_counts(report),
                scope_text=scope_text(info),
                elapsed=elapsed_text(info),
                age=lambda as_of: age_text(as_of, at),
                vulnerabilities=vulnerability_rows(report),
            )
        except jinja2.TemplateError as exc:
            where = (
                f" ({exc.filename}:{exc.lineno})"
                if isinstance(exc, jinja2.TemplateSyntaxError)
                else ""
            )
            raise ConfigError(f"report template error{where}: {exc}") from exc
        return html.encode("utf-8", "replace")
