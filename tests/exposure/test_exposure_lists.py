"""List importers on files in the exact official formats, the list store, and the matcher."""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.errors import DataFileError
from auditor.exposure import Assessor
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.lists.csl import split_affiliated
from auditor.exposure.liststore import current_imports, import_list, load_names
from auditor.exposure.normalise import loose_form, normal_form
from auditor.models import (
    Audience,
    DeviceType,
    ExposureStatus,
    Identification,
    RemediationAction,
    Severity,
)


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _truncate(path: Path, keep: float = 0.6) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep)])


# --- OFAC -------------------------------------------------------------------------------


def test_ofac_sdn_joins_alt_and_add(assets: Path) -> None:
    parsed = LIST_FORMATS["ofac-sdn"].parse(assets / "ofac" / "SDN.CSV")
    assert parsed.rows_read == 3
    by_key = {e.key: e for e in parsed.entries}
    assert set(by_key) == {"36", "90001"}  # the individual is read but not kept
    assert by_key["36"].aliases == ("AERO-CARIBBEAN",)
    assert by_key["36"].name == "AEROCARIBBEAN AIRLINES"
    assert "Havana" in by_key["36"].row and by_key["36"].line == 1
    assert by_key["90001"].program == "SDGT; IRGC"
    assert by_key["90001"].instrument == "us-ofac-sdn"
    assert len(parsed.files) == 3 and not parsed.warnings


def test_ofac_missing_companions_warn(assets: Path, tmp_path: Path) -> None:
    shutil.copy(assets / "ofac" / "SDN.CSV", tmp_path / "sdn.csv")
    parsed = LIST_FORMATS["ofac-sdn"].parse(tmp_path / "sdn.csv")
    assert len(parsed.entries) == 2 and len(parsed.warnings) == 2


def test_ofac_truncated_names_the_line(assets: Path, tmp_path: Path) -> None:
    folder = _copy(assets / "ofac", tmp_path / "ofac")
    _truncate(folder / "SDN.CSV", 0.5)
    with pytest.raises(DataFileError) as err:
        LIST_FORMATS["ofac-sdn"].parse(folder / "SDN.CSV")
    assert err.value.line == 2 and "SDN.CSV:2" in str(err.value)


def test_ofac_alt_from_another_file_is_refused(assets: Path, tmp_path: Path) -> None:
    folder = _copy(assets / "ofac", tmp_path / "ofac")
    shutil.copy(assets / "ofac_new" / "ALT.CSV", folder / "ALT.CSV")  # mentions ent 90003
    with pytest.raises(DataFileError) as err:
        LIST_FORMATS["ofac-sdn"].parse(folder / "SDN.CSV")
    assert err.value.path.name == "ALT.CSV" and err.value.line == 3


def test_ofac_consolidated_cmic(assets: Path) -> None:
    parsed = LIST_FORMATS["ofac-cons"].parse(assets / "ofac_cons" / "CONS_PRIM.CSV")
    instruments = {e.name: e.instrument for e in parsed.entries}
    assert instruments["HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD."] == "us-ofac-ns-cmic"
    assert instruments["ZORVANE SYNTHETIC BANK"] == "us-ofac-non-sdn-other"
    assert len(parsed.files) == 3


# --- CSL --------------------------------------------------------------------------------


def test_csl_csv_and_json_agree(assets: Path) -> None:
    csv_list = LIST_FORMATS["csl-csv"].parse(assets / "csl" / "consolidated.csv")
    json_list = LIST_FORMATS["csl-json"].parse(assets / "csl" / "consolidated.json")
    assert csv_list.rows_read == json_list.rows_read == 4
    shape = [(e.name, e.instrument, e.aliases) for e in csv_list.entries]
    assert shape == [(e.name, e.instrument, e.aliases) for e in json_list.entries]
    assert [e.instrument for e in csv_list.entries] == [
        "us-bis-entity-list",
        "us-bis-entity-list",
        "us-ofac-ns-cmic",
    ]
    # The "Affiliated Entity" suffix is split off, so the parent does not look listed.
    assert csv_list.entries[1].name == "Zorvane Synthetic Optics Co., Ltd."


def test_split_affiliated() -> None:
    assert split_affiliated("A Co. - Affiliated Entity: B Ltd.") == (
        "A Co.",
        "Affiliated Entity: B Ltd.",
    )
    assert split_affiliated("Plain Name Co., Ltd.") == ("Plain Name Co., Ltd.", None)


def test_csl_csv_truncated(assets: Path, tmp_path: Path) -> None:
    bad = tmp_path / "consolidated.csv"
    text = (assets / "csl" / "consolidated.csv").read_text()
    bad.write_text(text[: text.index("Zorvane Synthetic Optics") + 10])  # inside a quoted field
    with pytest.raises(DataFileError) as err:
        LIST_FORMATS["csl-csv"].parse(bad)
    assert err.value.line == 3


def test_csl_csv_wrong_header(tmp_path: Path) -> None:
    bad = tmp_path / "other.csv"
    bad.write_text("name,country\nHikvision,CN\n")
    with pytest.raises(DataFileError, match="not a Consolidated Screening List"):
        LIST_FORMATS["csl-csv"].parse(bad)


def test_csl_json_truncated(assets: Path, tmp_path: Path) -> None:
    bad = tmp_path / "consolidated.json"
    shutil.copy(assets / "csl" / "consolidated.json", bad)
    _truncate(bad, 0.5)
    with pytest.raises(DataFileError) as err:
        LIST_FORMATS["csl-json"].parse(bad)
    assert err.value.line is not None and err.value.line > 1


# --- OpenSanctions ------------------------------------------------------------------------


def test_opensanctions_simple_csv(assets: Path) -> None:
    parsed = LIST_FORMATS["opensanctions-csv"].parse(
        assets / "opensanctions" / "targets.simple.csv"
    )
    assert parsed.rows_read == 3
    got = {(e.name, e.instrument) for e in parsed.entries}
    assert ("Hangzhou Hikvision Digital Technology Co., Ltd.", "us-ofac-ns-cmic") in got
    # The simple CSV does not say which CSL source list (Entity List, MEU...) a row came from.
    assert ("Zhejiang Uniview Technologies Co., Ltd.", "us-csl-other") in got
    assert not any(e.name == "Oskel Maltravic" for e in parsed.entries)
    hik = next(e for e in parsed.entries if e.name.startswith("Hangzhou"))
    assert hik.aliases == ("HIKVISION", "海康威视")
    assert parsed.published is not None and parsed.published.isoformat() == "2026-11-20"


def test_opensanctions_simple_csv_short_row(assets: Path, tmp_path: Path) -> None:
    bad = tmp_path / "targets.simple.csv"
    lines = (assets / "opensanctions" / "targets.simple.csv").read_text().splitlines()
    bad.write_text("\n".join([*lines[:2], lines[2].rsplit(",", 3)[0]]) + "\n")
    with pytest.raises(DataFileError) as err:
        LIST_FORMATS["opensanctions-csv"].parse(bad)
    assert err.value.line == 3 and "fields" in str(err.value)


def test_ftm_json(assets: Path) -> None:
    parsed = LIST_FORMATS["ftm-json"].parse(assets / "opensanctions" / "entities.ftm.json")
    assert parsed.rows_read == 5
    assert [(e.name, e.instrument) for e in parsed.entries] == [
        ("Zhejiang Dahua Technology Co., Ltd.", "us-dod-1260h"),
        ("Zhejiang Uniview Technologies Co., Ltd.", "us-bis-entity-list"),
    ]
    assert parsed.entries[0].aliases == ("Dahua Technology",)


def test_ftm_json_bad_line(assets: Path, tmp_path: Path) -> None:
    bad = tmp_path / "entities.ftm.json"
    lines = (assets / "opensanctions" / "entities.ftm.json").read_text().splitlines()
    bad.write_text(lines[0] + "\n" + lines[1][:40] + "\n")
    with pytest.raises(DataFileError) as err:
        LIST_FORMATS["ftm-json"].parse(bad)
    assert err.value.line == 2


# --- the store ----------------------------------------------------------------------------


def test_import_is_stored_and_replaced(assets: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    # The audits already in the store must survive an import untouched.
    from auditor.store import Store

    Store(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO audits (id, site, started, tool_version, targets, excludes, profile, "
            "data_versions, ports, probes) VALUES ('keep-me', 'HQ', '2026-11-02T09:00:00+00:00', "
            "'1', '[]', '[]', 'generic', '[]', '[]', '[]')"
        )
    first = import_list(db, assets / "ofac" / "SDN.CSV", "ofac-sdn")
    assert (first.rows_read, first.entries, len(first.sha256)) == (3, 2, 64)
    second = import_list(db, assets / "ofac_new" / "SDN.CSV", "ofac-sdn")
    assert second.sha256 != first.sha256
    imports = current_imports(db)
    assert [(r.kind, r.entries) for r in imports] == [("ofac-sdn", 3)]
    assert len(load_names(db)) == 6  # 3 primary names + 3 aliases, newest import only
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT id FROM audits").fetchall() == [("keep-me",)]
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM list_schema_version").fetchall() == [(1,)]
        assert conn.execute("SELECT COUNT(*) FROM list_imports").fetchone()[0] == 2


def test_failed_import_changes_nothing(assets: Path, tmp_path: Path) -> None:
    db = tmp_path / "audit.db"
    import_list(db, assets / "ofac" / "SDN.CSV", "ofac-sdn")
    before = (current_imports(db), load_names(db))
    folder = _copy(assets / "ofac_new", tmp_path / "bad")
    _truncate(folder / "SDN.CSV", 0.8)
    with pytest.raises(DataFileError):
        import_list(db, folder / "SDN.CSV", "ofac-sdn")
    assert (current_imports(db), load_names(db)) == before
    fresh = tmp_path / "fresh.db"
    with pytest.raises(DataFileError):
        import_list(fresh, folder / "SDN.CSV", "ofac-sdn")
    assert current_imports(fresh) == ()


def test_missing_db_means_no_lists(tmp_path: Path) -> None:
    assert current_imports(tmp_path / "nope.db") == () and load_names(None) == ()
    assert not (tmp_path / "nope.db").exists()


# --- matching and the assessment ------------------------------------------------------------


def test_normal_forms() -> None:
    assert normal_form("HANGZHOU HIKVISION DIGITAL TECHNOLOGY CO., LTD.") == normal_form(
        "Hangzhou Hikvision Digital Technology Co."
    )
    assert normal_form("Société Générale S.A.") == "societe generale"
    assert loose_form("Zhejiang Dahua Technology Co., Ltd.") == "zhejiang dahua"


def test_new_sdn_listing_changes_the_assessment(
    assets: Path, tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    db = tmp_path / "audit.db"
    camera = make_ident("Hikvision", device_type=DeviceType.NVR)
    import_list(db, assets / "ofac" / "SDN.CSV", "ofac-sdn")
    before = Assessor.load(db).assess(camera, Audience.EU_PRIVATE)
    sdn = before.by_instrument()["us-ofac-sdn"]
    assert [e.status for e in sdn] == [ExposureStatus.NOT_LISTED]
    assert not sdn[0].uncertain and "imported lists" in sdn[0].effect  # checked live
    assert before.remediation.action is RemediationAction.NONE
    import_list(db, assets / "ofac_new" / "SDN.CSV", "ofac-sdn")
    after = Assessor.load(db).assess(camera, Audience.EU_PRIVATE)
    sdn = after.by_instrument()["us-ofac-sdn"]
    assert [e.status for e in sdn] == [ExposureStatus.LISTED]
    assert sdn[0].severity is Severity.HIGH and sdn[0].match_score == 100.0
    assert sdn[0].list_row is not None and "90003" in sdn[0].list_row
    assert sdn[0].source.endswith("SDN.CSV")
    assert after.remediation.action is RemediationAction.REPLACE
    assert after.remediation.priority == 3  # high, and a recorder


def test_fuzzy_match_is_only_possible(
    assets: Path, tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    folder = _copy(assets / "ofac_new", tmp_path / "fuzzy")
    for name in ("SDN.CSV", "ALT.CSV"):
        path = folder / name
        text = path.read_bytes().decode()
        text = text.replace("HANGZHOU HIKVISION DIGITAL", "HANGZHOU HIKVISON DIGITAL")
        path.write_bytes(text.replace('"HIKVISION"', '"HIK-VISON GROUP"').encode())
    db = tmp_path / "audit.db"
    import_list(db, folder / "SDN.CSV", "ofac-sdn")
    result = Assessor.load(db).assess(make_ident("Hikvision"), Audience.US_FEDERAL_CONTRACTOR)
    sdn = result.by_instrument()["us-ofac-sdn"]
    assert [e.status for e in sdn] == [ExposureStatus.POSSIBLE_MATCH]
    assert sdn[0].severity is Severity.MEDIUM and 88 <= (sdn[0].match_score or 0) < 100
    assert "not a listing" in sdn[0].effect


def test_list_row_enriches_reviewed_listing(
    assets: Path, tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    db = tmp_path / "audit.db"
    import_list(db, assets / "opensanctions" / "entities.ftm.json", "ftm-json")
    import_list(db, assets / "csl" / "consolidated.json", "csl-json")
    assessor = Assessor.load(db)
    uniview = assessor.assess(make_ident("Uniview"), Audience.GENERIC)
    el = uniview.by_instrument()["us-bis-entity-list"]
    assert len(el) == 1 and el[0].status is ExposureStatus.LISTED
    assert el[0].list_row and "synthetic-ftm-0004" in el[0].list_row
    assert el[0].source.startswith("https://hornobservers.com")  # the reviewed source stays
    axis = assessor.assess(make_ident("Axis"), Audience.GENERIC)
    assert not any(e.match_score for e in axis.exposures)
    versions = {v.name for v in assessor.data_versions()}
    assert versions == {"regulatory data", "list ftm-json", "list csl-json"}


def test_exact_beats_fuzzy(
    assets: Path, tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    folder = _copy(assets / "ofac_new", tmp_path / "both")
    sdn = folder / "SDN.CSV"
    rows = sdn.read_bytes().decode().rstrip("\x1a").rstrip("\r\n").split("\r\n")
    fuzzy = rows[-1].replace("90003", "90004").replace("HIKVISION DIGITAL", "HIKVISON DIGITAL")
    sdn.write_bytes(("\r\n".join([*rows, fuzzy]) + "\r\n\x1a").encode())
    db = tmp_path / "audit.db"
    import_list(db, sdn, "ofac-sdn")
    result = Assessor.load(db).assess(make_ident("Hikvision"), Audience.GENERIC)
    statuses = [e.status for e in result.by_instrument()["us-ofac-sdn"]]
    assert statuses == [ExposureStatus.LISTED]


def test_chinese_name_matches(
    tmp_path: Path, assets: Path, make_ident: Callable[..., Identification]
) -> None:
    db = tmp_path / "audit.db"
    import_list(db, assets / "opensanctions" / "targets.simple.csv", "opensanctions-csv")
    matches = Assessor.load(db).matcher.match(["海康威视"])
    assert [(m.exact, m.entry.key) for m in matches] == [(True, "synthetic-os-0001")]


def test_listed_parent_reaches_the_maker(
    assets: Path, tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    folder = _copy(assets / "ofac", tmp_path / "parent")
    sdn = folder / "SDN.CSV"
    rows = sdn.read_bytes().decode().rstrip("\x1a").rstrip("\r\n").split("\r\n")
    parent = (
        rows[1]
        .replace("90001", "90009")
        .replace(
            "ZORVANE KILDRAKE TRADING CO., LTD.", "CHINA ELECTRONICS TECHNOLOGY GROUP CORPORATION"
        )
    )
    sdn.write_bytes(("\r\n".join([*rows, parent]) + "\r\n\x1a").encode())
    db = tmp_path / "audit.db"
    import_list(db, sdn, "ofac-sdn")
    result = Assessor.load(db).assess(make_ident("Hikvision"), Audience.US_FEDERAL_CONTRACTOR)
    got = [(e.status, e.entity, e.uncertain) for e in result.by_instrument()["us-ofac-sdn"]]
    assert (ExposureStatus.COVERED_THROUGH_OWNERSHIP, "CETC", True) in got
    assert (ExposureStatus.LISTED, "Hikvision", False) not in got


@pytest.mark.parametrize("kind", sorted(LIST_FORMATS))
def test_garbage_gives_a_data_file_error(kind: str, tmp_path: Path) -> None:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    path = tmp_path / "LIST.CSV"

    @settings(
        max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
    )
    @given(st.binary(max_size=400) | st.text(alphabet=',"-0 \r\n{}[]:;abc1\x1a', max_size=300))
    def check(blob: bytes | str) -> None:
        path.write_bytes(blob if isinstance(blob, bytes) else blob.encode())
        # The one acceptable failure: a DataFileError naming the file (and the line where known).
        with contextlib.suppress(DataFileError):
            LIST_FORMATS[kind].parse(path)

    check()


def test_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    from auditor.errors import StoreError

    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a readable camaudit store"):
        Assessor.load(bogus)
