"""The PDF report: the HTML report printed by headless Chromium (or WeasyPrint if installed).

Chromium is what Debian ships and what CI already uses for the browser tests, and it prints the
same CSS the HTML report uses. It runs with networking disabled and every host name unresolvable,
in a throwaway profile; the page's own policy forbids fetches as well. WeasyPrint (the `pdf`
extra) is the fallback where no Chromium is installed.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from auditor import children
from auditor.errors import ConfigError
from auditor.models import AuditReport
from auditor.render.html_format import HtmlFormat
from auditor.render.interface import FormatName, ReportFormat

logger = logging.getLogger(__name__)

ENV_CHROMIUM = "CAMAUDIT_CHROMIUM"
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
TIMEOUT_S = 120.0

#: Flags that keep a headless browser from reaching anything: no background services, no DNS.
CHROMIUM_OFFLINE_FLAGS = (
    "--headless",
    "--no-sandbox",  # root in containers and CI; the input is our own escaped, script-free HTML
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-first-run",
    "--no-default-browser-check",
    "--metrics-recording-only",
    "--disable-features=NetworkTimeServiceQuerying,OptimizationHints,MediaRouter,Translate",
    "--host-resolver-rules=MAP * ~NOTFOUND",
)


def find_chromium() -> str | None:
    configured = os.environ.get(ENV_CHROMIUM)
    if configured:
        return shutil.which(configured) or (configured if Path(configured).is_file() else None)
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def _chromium_pdf(browser: str, html: bytes) -> bytes:
    with tempfile.TemporaryDirectory(prefix="camaudit-pdf-") as tmp:
        page = Path(tmp) / "report.html"
        out = Path(tmp) / "report.pdf"
        page.write_bytes(html)
        cmd = [
            browser,
            *CHROMIUM_OFFLINE_FLAGS,
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        try:
            done = children.run(cmd, timeout=TIMEOUT_S, env={"HOME": tmp})
        except subprocess.TimeoutExpired:
            raise ConfigError(f"{browser} did not print the PDF within {TIMEOUT_S:.0f} s") from None
        if done.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
            tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise ConfigError(
                f"{browser} could not print the PDF (exit {done.returncode}): " + " | ".join(tail)
            )
        return out.read_bytes()


def _weasyprint_pdf(html: bytes) -> bytes | None:
    try:
        import weasyprint
    except (ImportError, OSError):  # OSError: the Python package without its pango libraries
        return None

    def refuse(url: str) -> dict[str, object]:
        raise ValueError(f"the report may not fetch {url}")

    pdf = weasyprint.HTML(string=html.decode("utf-8"), url_fetcher=refuse).write_pdf()
    return bytes(pdf)


class PdfFormat(ReportFormat):
    name = FormatName.PDF
    suffix = "pdf"
    binary = True

    def render(self, report: AuditReport) -> bytes:
        html = HtmlFormat(self.options).render(report)
        browser = find_chromium()
        if browser is not None:
            logger.debug("printing the PDF with %s", browser)
            return _chromium_pdf(browser, html)
        pdf = _weasyprint_pdf(html)
        if pdf is not None:
            return pdf
        raise ConfigError(
            "the PDF report needs Chromium (apt-get install chromium, or set CAMAUDIT_CHROMIUM) "
            "or WeasyPrint (pip install 'camaudit[pdf]' and apt-get install libpango-1.0-0); "
            "the HTML report (-f html) needs neither"
        )
