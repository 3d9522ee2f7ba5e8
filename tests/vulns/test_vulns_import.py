"""camaudit data import-kev / import-cve: real KEV and CVE files in, kept with their as-of date."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.vulns import VulnDataError, import_cve, import_kev, load
from tests.vulns.conftest import ASSETS, CVE5, NVD


def test_kev_json_and_csv_give_the_same_entries(tmp_path: Path) -> None:
    from_json = tmp_path / "a"
    from_csv = tmp_path / "b"
    ds = import_kev(from_json, ASSETS / "kev-excerpt.json")
    assert (ds.entries, ds.as_of) == (8, date(2025, 8, 25))
    assert "2025.08.25" in ds.detail
    import_kev(from_csv, ASSETS / "kev-excerpt.csv")
    j, c = load(from_json).kev, load(from_csv).kev
    for cve in ("CVE-2021-36260", "CVE-2021-33044", "CVE-2021-33045", "CVE-2020-5735"):
        assert j[cve] == c[cve]
    hik = j["CVE-2021-36260"]
    assert (hik.vendor_project, hik.product) == ("Hikvision", "Security cameras web server")
    assert (hik.date_added, hik.due_date) == (date(2022, 1, 10), date(2022, 1, 24))
    assert j["CVE-2021-33044"].due_date == date(2024, 9, 11)


def test_nvd_records_keep_ranges_exactly_as_published(tmp_path: Path) -> None:
    import_cve(tmp_path, NVD)
    records = load(tmp_path).records
    dahua = records["CVE-2021-33044"]
    hx3 = [a for a in dahua.applicability if a.model == "ipc-hx3xxx"]
    assert [a.end_excluding for a in hx3] == ["2.800.0000000.29.r.210630"]
    sd2221 = [a for a in dahua.applicability if a.model == "tpc-sd2221"]
    assert [a.end_including for a in sd2221] == ["2.630.0000000.7.r.210707"]
    # The hardware half of NVD's firmware AND hardware pairs is not an affected product.
    assert all(a.cpe.startswith("cpe:2.3:o:") for a in dahua.applicability)
    cvss = dahua.best_cvss()
    assert cvss is not None and (cvss.score, cvss.version) == (9.8, "3.1")
    hik = records["CVE-2021-36260"]
    assert hik.applicability and not any(a.has_range for a in hik.applicability)
    assert (hik.kev_added, hik.kev_due) == (date(2022, 1, 10), date(2022, 1, 24))
    assert records["CVE-2017-7921"].kev_added == date(2026, 3, 5)


def test_cve5_records_carry_cvss_and_kev_date_but_no_matchable_product(tmp_path: Path) -> None:
    import_cve(tmp_path, CVE5)
    rec = load(tmp_path).records["CVE-2021-36260"]
    assert rec.source_format == "cve-5"
    assert rec.applicability == ()  # vendor and product "n/a"
    assert rec.kev_added == date(2022, 1, 10)
    cvss = rec.best_cvss()
    assert cvss is not None and cvss.source == "CISA-ADP"


def test_a_bad_file_imports_nothing_and_keeps_the_previous_data(tmp_path: Path) -> None:
    root = tmp_path / "data"
    import_kev(root, ASSETS / "kev-excerpt.json")
    import_cve(root, NVD[:1])
    before = {p.name: p.read_bytes() for p in (root / "vulns").iterdir()}
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"vulnerabilities": [{"cveID": "CVE-2021-1"}]}))
    with pytest.raises(VulnDataError, match="lacks vendorProject"):
        import_kev(root, bad)
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    with pytest.raises(VulnDataError, match="not valid JSON"):
        import_cve(root, [NVD[1], junk])  # one bad file: none of them is imported
    assert {p.name: p.read_bytes() for p in (root / "vulns").iterdir()} == before


def test_cli_imports_and_data_status_shows_the_as_of_dates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CAMAUDIT_TODAY", "2025-09-01")
    root = tmp_path / "data"
    kev = str(ASSETS / "kev-excerpt.json")
    assert main(["data", "import-kev", kev, "--data-dir", str(root)]) == 0
    assert "8 entries, as of 2025-08-25" in capsys.readouterr().out
    assert main(["data", "import-cve", *map(str, NVD), "--data-dir", str(root)]) == 0
    assert "CVE-2021-33044.json: 1 CVE record(s)" in capsys.readouterr().out
    assert main(["data", "status", "--data-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert "CISA KEV catalogue" in out and "2025-08-25" in out
    # 7 days old on the pinned day: not stale (the limit is 30 days).
    assert "STALE" not in out.split("Vulnerability data")[1].split("Sources")[0]
    assert (
        main(["data", "import-kev", str(tmp_path / "missing.json"), "--data-dir", str(root)]) == 2
    )


def test_a_malformed_record_is_refused_with_its_file_named(tmp_path: Path) -> None:
    record = json.loads(NVD[1].read_text())
    record["metrics"]["cvssMetricV31"][0]["cvssData"]["baseScore"] = "high"
    bad = tmp_path / "mangled.json"
    bad.write_text(json.dumps(record))
    with pytest.raises(VulnDataError, match=r"mangled\.json: a CVE record is malformed"):
        import_cve(tmp_path / "data", [bad])
    assert not (tmp_path / "data" / "vulns" / "cve.json").exists()


def test_a_product_that_is_no_cpe_is_skipped_not_guessed(tmp_path: Path) -> None:
    record = json.loads(NVD[1].read_text())  # CVE-2021-33044
    first = record["configurations"][0]["nodes"][0]["cpeMatch"][0]
    first["criteria"] = 7
    odd = tmp_path / "odd.json"
    odd.write_text(json.dumps(record))
    import_cve(tmp_path / "data", [odd])
    models = [a.model for a in load(tmp_path / "data").records["CVE-2021-33044"].applicability]
    assert "ipc-hum7xxx" not in models and "ipc-hx3xxx" in models
