"""The fingerprint database tests itself: every example, every name, every source."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from auditor.errors import DataFileError
from auditor.identify import FingerprintData, load_data
from auditor.identify.verify import ExampleCase, check_case, iter_cases, verify
from auditor.resources import fingerprints_dir

DATA = load_data()
CASES = iter_cases(DATA)


def _case_id(case: ExampleCase) -> str:
    return f"{case.fingerprint.id}:{(case.example.field_value or case.example.text)[:40]}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_example_matches_its_own_fingerprint_first(case: ExampleCase) -> None:
    assert check_case(DATA, case) == []


def test_whole_database_verifies() -> None:
    report = verify(DATA)
    assert report.problems == []
    assert report.example_count > 200


def test_coverage_of_required_vendors() -> None:
    report = verify(DATA)
    for vendor in (
        "Hikvision",
        "Dahua",
        "Axis",
        "Xiongmai",
        "Hanwha",
        "Bosch",
        "Vivotek",
        "Avigilon",
        "i-PRO",
        "TP-Link",
        "Ubiquiti",
        "Foscam",
        "Uniview",
        "Tiandy",
        "Huawei",
        "Reolink",
        "Mobotix",
    ):
        assert report.examples_per_vendor[vendor] >= 1, vendor


def test_every_entry_cites_a_source() -> None:
    for fp in DATA.db.fingerprints:
        assert fp.source.strip()
        assert all(ex.source.strip() for ex in fp.examples)
    assert all(b.source for b in DATA.brands.brands)
    assert DATA.oui.as_of and DATA.oui.sources


def test_generic_servers_assert_no_vendor() -> None:
    for fp in DATA.db.files[
        next(iter(k for k in DATA.db.files if k.value == "http.server"))
    ].fingerprints:
        if fp.id.startswith("generic-"):
            assert "hw.vendor" not in fp.asserts and "hw.device" not in fp.asserts


def _copy_db(tmp_path: Path) -> Path:
    src = Path(str(fingerprints_dir()))
    dst = tmp_path / "fp"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("regulatory"))
    return dst


def _reload(root: Path) -> FingerprintData:
    return load_data(root)


def _edit(root: Path, name: str, change: Callable[[dict[str, Any]], None]) -> None:
    f = root / name
    doc = yaml.safe_load(f.read_text())
    change(doc)
    f.write_text(yaml.safe_dump(doc, sort_keys=False))


def _fp(doc: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(fp for fp in doc["fingerprints"] if fp["id"] == fid)


def test_shadowed_example_is_reported(tmp_path: Path) -> None:
    root = _copy_db(tmp_path)
    catch_all = {
        "id": "catch-all",
        "description": "catch all",
        "pattern": ".",
        "source": "test",
        "examples": [{"text": "zzz"}],
    }
    _edit(root, "http_server.yaml", lambda d: d["fingerprints"].insert(0, catch_all))
    problems = verify(_reload(root)).problems
    assert any("shadowed by earlier fingerprint 'catch-all'" in p for p in problems)


def test_unknown_vendor_and_wrong_expectation_are_reported(tmp_path: Path) -> None:
    root = _copy_db(tmp_path)

    def change(d: dict[str, Any]) -> None:
        _fp(d, "dahua-rtsp-server")["assert"]["hw.vendor"] = "Dahwa"
        _fp(d, "xiongmai-h264dvr")["examples"][0]["expect"]["service.version"] = "9.9"

    _edit(root, "rtsp_server.yaml", change)
    problems = verify(_reload(root)).problems
    assert any("'Dahwa' not in vendors.txt" in p for p in problems)
    assert any("expected '9.9'" in p for p in problems)


def test_unused_capture_group_is_a_schema_error(tmp_path: Path) -> None:
    root = _copy_db(tmp_path)
    _edit(
        root,
        "telnet_banner.yaml",
        lambda d: _fp(d, "hikvision-telnet-login").update(pattern=r"^(192)\.0\.0\.64 login:"),
    )
    with pytest.raises(
        DataFileError,
        match=r"telnet_banner.yaml: fingerprint 'hikvision-telnet-login': capture group",
    ):
        _reload(root)


def test_missing_source_is_a_schema_error(tmp_path: Path) -> None:
    root = _copy_db(tmp_path)
    _edit(root, "tls_subject.yaml", lambda d: _fp(d, "truen-camera-cert").pop("source"))
    with pytest.raises(
        DataFileError, match="truen-camera-cert.*'source' must be a non-empty string"
    ):
        _reload(root)


def test_duplicate_id_is_reported(tmp_path: Path) -> None:
    root = _copy_db(tmp_path)
    _edit(
        root,
        "tls_subject.yaml",
        lambda d: _fp(d, "truen-camera-cert").update(id="ubiquiti-camera-cert"),
    )
    assert any("duplicate fingerprint id" in p for p in verify(_reload(root)).problems)


def test_bad_preference_names_the_file(tmp_path: Path) -> None:
    root = _copy_db(tmp_path)
    _edit(root, "ftp_banner.yaml", lambda d: d.update(preference=5))
    with pytest.raises(DataFileError, match="ftp_banner.yaml: file: 'preference'"):
        _reload(root)
