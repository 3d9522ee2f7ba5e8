"""`bench/run recog`: the scoring over Recog-format files (real Recog example strings, cited)."""
# ruff: noqa: E501  -- Recog examples are quoted whole

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from auditor.identify import Identifier
from bench import recog

ROOT = Path(__file__).resolve().parents[2]

# Examples quoted from rapid7/recog xml/http_wwwauth.xml and xml/html_title.xml (BSD-2).
WWWAUTH = """<?xml version='1.0' encoding='UTF-8'?>
<fingerprints matches="http_header.wwwauth">
  <fingerprint pattern="^Basic realm=&quot;DVR&quot;">
    <description>Generic DVR</description>
    <example>Basic realm="DVR"</example>
    <param pos="0" name="hw.device" value="DVR"/>
  </fingerprint>
  <fingerprint pattern="(?i)^Digest realm=&quot;Use 'live' as User Name">
    <description>Bosch AutoDome IP Camera</description>
    <example>Digest realm="Use 'live' as User Name",nonce="18e62d241a5358a9650640fa72c1773c",opaque="",stale=FALSE,algorithm=MD5</example>
    <param pos="0" name="hw.vendor" value="Bosch"/>
    <param pos="0" name="hw.device" value="Web Cam"/>
  </fingerprint>
  <fingerprint pattern="^Basic realm=&quot;Shelly&quot;">
    <description>Shelly Smart Device</description>
    <example>Basic realm="Shelly"</example>
    <param pos="0" name="hw.vendor" value="Shelly"/>
    <param pos="0" name="hw.device" value="Device"/>
  </fingerprint>
</fingerprints>
"""
TITLE = """<?xml version='1.0' encoding='UTF-8'?>
<fingerprints matches="html_title">
  <fingerprint pattern="^FRITZ!Box$">
    <description>AVM FRITZ!Box</description>
    <example>FRITZ!Box</example>
    <param pos="0" name="hw.vendor" value="AVM"/>
    <param pos="0" name="hw.device" value="WAP"/>
  </fingerprint>
</fingerprints>
"""


def test_recog_scoring_counts_makers_type_only_and_non_cameras(tmp_path: Path) -> None:
    (tmp_path / "http_wwwauth.xml").write_text(WWWAUTH, encoding="utf-8")
    (tmp_path / "html_title.xml").write_text(TITLE, encoding="utf-8")
    ident = Identifier.default()
    result = recog.run(
        tmp_path, ident, recog.default_same_maker(ident), recog.canonical_vendor(ident)
    )
    # Two camera examples: a vendor-less DVR realm (right as "DVR, maker unknown") and Bosch.
    assert (result.cameras.total, result.non_camera) == (2, 2)
    assert result.per_vendor["(none)"].total == 1
    assert not result.false_camera and not result.wrong_maker
    text = recog.report(result)
    assert "camera/video examples named right" in text and "Bosch" in text


def test_recog_bench_is_skipped_with_a_message_without_the_data(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "recog", "--recog-dir", str(tmp_path / "absent")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert "recog: skipped" in proc.stderr
