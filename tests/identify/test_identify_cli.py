"""`camaudit identify` and `camaudit fingerprints verify` run as real processes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from auditor.resources import fingerprints_dir


def run(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_identify_jsonl_contract() -> None:
    lines = [
        json.dumps({"kind": "http.server", "value": "DNVRS-Webs"}),
        json.dumps(
            {
                "observations": [
                    {
                        "kind": "onvif.scopes",
                        "value": "onvif://www.onvif.org/manufacturer/CPPLUS onvif://www.onvif.org/extension/unique_identifier",
                    },
                    {"kind": "rtsp.server", "value": "Dahua Rtsp Server"},
                ]
            }
        ),
        json.dumps({"kind": "no.such.kind", "value": "x"}),
        "{not json",
        json.dumps({"kind": "http.server"}),
        "",
        json.dumps({"kind": "http.server", "value": "nginx"}),
        json.dumps({"observations": "nope"}),
    ]
    proc = run(["identify"], "\n".join(lines) + "\n")
    # Every line was answered, but four could not be read: a pipeline must see that.
    assert proc.returncode == 3, proc.stderr
    assert "4 line(s) could not be read" in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 7  # the blank line yields nothing
    assert out[0]["manufacturer"] == "Hikvision" and out[0]["device_type"] == "nvr"
    assert set(out[0]) >= {
        "manufacturer",
        "brand",
        "model",
        "device_type",
        "confidence",
        "evidence",
    }
    assert out[0]["evidence"][0]["fingerprint"] == "hikvision-dnvrs-webs"
    assert (
        out[1]["manufacturer"] == "Dahua"
        and out[1]["brand"] == "CP Plus"
        and out[1]["oem_relabel"] is True
    )
    assert out[2] == {"error": "unknown kind 'no.such.kind'", "line": 3}
    assert out[3]["line"] == 4 and "not JSON" in out[3]["error"]
    assert out[4]["line"] == 5 and "'value'" in out[4]["error"]
    assert out[5]["manufacturer"] is None and out[5]["confidence"] == 0.0
    assert out[6]["line"] == 8


def test_fingerprints_verify_passes_on_shipped_data() -> None:
    proc = run(["fingerprints", "verify"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "all checks passed" in proc.stdout
    assert "Hikvision" in proc.stdout
    # The whole IEEE registry, dated, with where it came from.
    prefixes = int(proc.stdout.split(" OUI prefixes")[0].rsplit(" ", 1)[-1])
    assert prefixes > 50_000
    assert "OUI registry: " in proc.stdout and "reviewed maker names" in proc.stdout


def test_fingerprints_verify_fails_on_broken_data(tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "fp"
    shutil.copytree(
        Path(str(fingerprints_dir())), root, ignore=shutil.ignore_patterns("regulatory")
    )
    f = root / "telnet_banner.yaml"
    doc = yaml.safe_load(f.read_text())
    doc["fingerprints"][0]["examples"].append({"text": "(none) login:"})
    f.write_text(yaml.safe_dump(doc))
    proc = run(["fingerprints", "verify", "--dir", str(root)])
    assert proc.returncode == 2
    assert "does not match its own pattern" in proc.stdout


def test_identify_survives_bad_bytes_and_huge_lines() -> None:
    good = json.dumps({"kind": "rtsp.server", "value": "Dahua Rtsp Server"}).encode()
    huge = b'{"kind": "http.server", "value": "' + b"A" * (2 * 1024 * 1024) + b'"}'
    data = b"\n".join([b"\xff\xfe not utf-8", huge, good]) + b"\n"
    proc = subprocess.run(
        [sys.executable, "-m", "auditor", "identify"],
        input=data,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 3, proc.stderr
    out = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert out[0]["line"] == 1 and "UTF-8" in out[0]["error"]
    assert out[1]["line"] == 2 and "longer than" in out[1]["error"]
    assert out[2]["manufacturer"] == "Dahua"


def test_identify_exits_0_when_every_line_was_read() -> None:
    lines = [json.dumps({"kind": "http.server", "value": "DNVRS-Webs"}), "", ""]
    proc = run(["identify"], "\n".join(lines))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["manufacturer"] == "Hikvision"
    assert proc.stderr == ""
