"""The HTML report in a real headless Chromium: it renders, logs no console error, runs nothing,
fetches nothing, and the key sections are on screen; the PDF prints and rasterises."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from auditor.render import FormatName, renderer
from auditor.render.pdf_format import CHROMIUM_OFFLINE_FLAGS, find_chromium
from tests.render.camaudit_sample_audit import sample_report

pytestmark = pytest.mark.browser

CHROMIUM = find_chromium()
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs chromium (apt-get install chromium)"
)
SECTIONS = ("summary", "instruments", "makers", "devices", "methodology", "data")


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    cmd = [
        CHROMIUM,
        *CHROMIUM_OFFLINE_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--enable-logging=stderr",
        "--v=0",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("html") / "report.html"
    path.write_bytes(renderer(FormatName.HTML).render(sample_report()))
    return path


@needs_chromium
def test_html_renders_without_console_errors_or_fetches(page: Path, tmp_path: Path) -> None:
    netlog = tmp_path / "net.json"
    done = _chromium(tmp_path, f"--log-net-log={netlog}", "--dump-dom", page.as_uri())
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    # Console messages and CSP violations are logged as CONSOLE lines; there must be none.
    console = [line for line in done.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    assert "Content Security Policy" not in done.stderr
    # The DOM as the browser built it: every section, and no element a device string injected.
    for section in SECTIONS:
        assert f'id="{section}"' in dom
    assert "<script" not in dom.lower()
    assert "<img" not in dom.lower()
    assert "&lt;script&gt;alert('brand')&lt;/script&gt;" in dom
    # The network log holds every request the page made: only the file itself.
    log = json.loads(netlog.read_text())
    urls = {
        e["params"]["url"]
        for e in log["events"]
        if isinstance(e.get("params"), dict) and "url" in e["params"]
    }
    # Chromium's own background services (update and time checks) may try to start; the host
    # resolver rules fail them before any packet leaves. The page itself requests nothing.
    page_requests = {
        u
        for u in urls
        if not u.startswith("file://")
        and not re.match(r"https?://[^/]*\.(googleapis|google)\.com/", u)
    }
    assert page_requests == set()


@needs_chromium
def test_the_network_log_would_show_a_page_fetch(tmp_path: Path) -> None:
    """Control for the check above: a page without our policy that loads an image is seen.
    The .invalid name never resolves (RFC 6761), and the resolver rules block it anyway."""
    probe = tmp_path / "probe.html"
    probe.write_text('<!DOCTYPE html><img src="http://camaudit-probe.invalid/x.png">')
    netlog = tmp_path / "net.json"
    _chromium(tmp_path, f"--log-net-log={netlog}", "--dump-dom", probe.as_uri())
    assert "camaudit-probe.invalid" in netlog.read_text()


def _png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


@needs_chromium
def test_screenshot_shows_the_report(page: Path, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = _chromium(
        tmp_path,
        "--hide-scrollbars",
        "--window-size=1280,2200",
        f"--screenshot={shot}",
        page.as_uri(),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _png_size(shot) == (1280, 2200)
    # A blank or unstyled page compresses to almost nothing; the styled report does not.
    assert shot.stat().st_size > 60_000
    # The same viewport's text, as laid out: the key sections are there, in order.
    text = _chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    positions = [
        text.index(f">{h}</h2>")
        for h in (
            "Executive summary",
            "Exposure by instrument",
            "Devices by manufacturer and brand",
            "Methodology and scope",
            "Data versions and integrity",
        )
    ]
    assert positions == sorted(positions)


@needs_chromium
@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs pdftoppm (poppler-utils)")
def test_pdf_prints_and_converts_to_images(tmp_path: Path) -> None:
    pdf = renderer(FormatName.PDF).render(sample_report())
    assert pdf.startswith(b"%PDF-")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-png", str(path), str(tmp_path / "page")], check=True, timeout=120
    )
    pages = sorted(tmp_path.glob("page-*.png"))
    # Page one, the instruments and devices, each device's evidence and the methodology/data: a
    # handful of pages for 5 devices (each device used to take a page of its own, or more).
    assert 3 <= len(pages) <= 6
    for png in pages:
        width, height = _png_size(png)
        assert height > width  # A4 portrait
    if shutil.which("pdftotext"):
        text = subprocess.run(
            ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
        ).stdout
        for needle in (
            "Executive summary",
            "Evidence per device",
            "What to do first",
            "not legal advice",
            sample_report().evidence_sha256[:32],
        ):
            assert needle.lower() in re.sub(r"\s+", " ", text).lower(), needle


@needs_chromium
def test_the_console_check_would_see_an_error_or_a_blocked_script(tmp_path: Path) -> None:
    """Control for the console check: a script that logs, and one our policy blocks, both show."""
    plain = tmp_path / "plain.html"
    plain.write_text('<!DOCTYPE html><script>console.error("boom")</script><p>x')
    guarded = tmp_path / "guarded.html"
    guarded.write_text(
        '<!DOCTYPE html><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '<script>console.error("boom")</script><p>x'
    )
    logged = _chromium(tmp_path, "--dump-dom", plain.as_uri()).stderr
    assert any("CONSOLE" in line and "boom" in line for line in logged.splitlines())
    blocked = _chromium(tmp_path, "--dump-dom", guarded.as_uri()).stderr
    assert any(
        "CONSOLE" in line and "Content Security Policy" in line for line in blocked.splitlines()
    )
