"""Which instrument an imported list row means: only what the official data says."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.exposure import Assessor
from auditor.exposure.lists import LIST_FORMATS
from auditor.exposure.liststore import import_list
from auditor.models import Audience, ExposureStatus, Identification

# --- Consolidated Screening List: the Military End-User and Unverified lists ------------------


@pytest.mark.parametrize(
    ("kind", "name"), [("csl-csv", "meu_uvl.csv"), ("csl-json", "meu_uvl.json")]
)
def test_csl_military_end_user_and_unverified_rows_get_their_own_instruments(
    assets: Path, kind: str, name: str
) -> None:
    parsed = LIST_FORMATS[kind].parse(assets / "csl" / name)
    got = {e.name: (e.instrument, e.since) for e in parsed.entries}
    assert got["AECC Aviation Power Co. Ltd."] == ("us-bis-meu-list", "2020-12-23")
    assert got["Atlas Sanatgaran"] == ("us-bis-unverified-list", None)


def test_a_maker_on_the_meu_list_is_reported_under_that_list(
    assets: Path, tmp_path: Path, make_ident: Callable[..., Identification]
) -> None:
    db = tmp_path / "audit.db"
    import_list(db, assets / "csl" / "meu_uvl.csv", "csl-csv")
    assessor = Assessor.load(db)
    result = assessor.assess(make_ident("AECC Aviation Power Co. Ltd."), Audience.GENERIC)
    meu = result.by_instrument()["us-bis-meu-list"]
    assert [e.status for e in meu] == [ExposureStatus.LISTED]
    assert meu[0].instrument_name.startswith("US BIS Military End-User (MEU) List")
    assert "744.21" in meu[0].effect and meu[0].since is not None
    assert "us-csl-other" not in result.by_instrument()
    uvl = assessor.assess(make_ident("Atlas Sanatgaran"), Audience.GENERIC)
    assert [e.status for e in uvl.by_instrument()["us-bis-unverified-list"]] == [
        ExposureStatus.LISTED
    ]


# --- OpenSanctions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "name"),
    [("ftm-json", "special_leg.ftm.json"), ("opensanctions-csv", "special_leg.simple.csv")],
)
def test_special_legislation_maps_only_section_889_to_section_889(
    assets: Path, kind: str, name: str
) -> None:
    parsed = LIST_FORMATS[kind].parse(assets / "opensanctions" / name)
    got = {e.name: e.instrument for e in parsed.entries}
    assert got["Hangzhou Hikvision Digital Technology Company"] == "us-ndaa-889-a"
    # Section 5949 (chips) is not section 889: kept as another listing, program quoted.
    assert got["Semiconductor Manufacturing International Corporation"] == "opensanctions-other"
    smic = next(e for e in parsed.entries if e.name.startswith("Semiconductor"))
    assert "Section 5949" in smic.program
    # The source rows carry no listing date; the crawl date is not one.
    assert all(e.since is None for e in parsed.entries)


def test_since_is_the_listing_date_not_the_crawl_date(assets: Path, tmp_path: Path) -> None:
    ftm = LIST_FORMATS["ftm-json"].parse(assets / "opensanctions" / "entities.ftm.json")
    dahua = next(e for e in ftm.entries if e.name.startswith("Zhejiang Dahua"))
    assert dahua.since == "2022-10-05"  # the sanction's start; first_seen is 2022-10-06
    uniview = next(e for e in ftm.entries if e.name.startswith("Zhejiang Uniview"))
    assert (uniview.instrument, uniview.since) == ("us-bis-entity-list", "2024-12-11")
    simple = (assets / "opensanctions" / "targets.simple.csv").read_text()
    dated = tmp_path / "targets.simple.csv"
    dated.write_text(
        simple.replace("CMIC-EO13959 - SYNTHETIC", "CMIC-EO13959 - 2021-06-03 - SYNTHETIC")
    )
    rows = LIST_FORMATS["opensanctions-csv"].parse(dated).entries
    hik = next(e for e in rows if e.name.startswith("Hangzhou"))
    assert (hik.instrument, hik.since) == ("us-ofac-ns-cmic", "2021-06-03")
    undated = LIST_FORMATS["opensanctions-csv"].parse(
        assets / "opensanctions" / "targets.simple.csv"
    )
    assert next(e for e in undated.entries if e.name.startswith("Hangzhou")).since is None


def test_ofac_consolidated_rows_follow_their_program(tmp_path: Path) -> None:
    # Two sanctions of the us_ofac_cons dataset, in the FtM shape (SYNTHETIC rows).
    rows = [
        '{"id": "synthetic-c1", "schema": "Company", "properties": {"name": ["Cmic Co"]}, '
        '"datasets": ["us_ofac_cons"]}',
        '{"id": "synthetic-s1", "schema": "Sanction", "properties": {"entity": ["synthetic-c1"], '
        '"program": ["CMIC-EO13959"], "listingDate": ["2021-06-03"]}, '
        '"datasets": ["us_ofac_cons"]}',
        '{"id": "synthetic-c2", "schema": "Company", "properties": {"name": ["Ssi Co"]}, '
        '"datasets": ["us_ofac_cons"]}',
        '{"id": "synthetic-s2", "schema": "Sanction", "properties": {"entity": ["synthetic-c2"], '
        '"program": ["UKRAINE-EO13662"]}, "datasets": ["us_ofac_cons"]}',
    ]
    path = tmp_path / "cons.ftm.json"
    path.write_text("\n".join(rows) + "\n")
    got = {e.name: (e.instrument, e.since) for e in LIST_FORMATS["ftm-json"].parse(path).entries}
    assert got == {
        "Cmic Co": ("us-ofac-ns-cmic", "2021-06-03"),
        "Ssi Co": ("us-ofac-non-sdn-other", None),
    }


def test_no_made_up_dataset_names() -> None:
    from auditor.exposure.lists import opensanctions

    assert "us_bis_entity" not in opensanctions.DATASET_KEYS
    assert set(opensanctions.DATASET_KEYS) == {
        "us_ofac_sdn",
        "us_fcc_covered_list",
        "us_dod_chinese_milcorps",
    }


@pytest.mark.parametrize(
    ("kind", "name"),
    [("ftm-json", "entities.ftm.json"), ("opensanctions-csv", "targets.simple.csv")],
)
def test_opensanctions_import_shows_the_licence(
    assets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, name: str
) -> None:
    db = tmp_path / "c.db"
    args = ["lists", "import", str(assets / "opensanctions" / name), "--kind", kind]
    assert main([*args, "--db", str(db)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "CC BY-NC 4.0" in out and "non-commercial" in out
    assert "https://www.opensanctions.org/licensing/" in out
    assert (
        main(
            [
                "lists",
                "import",
                str(assets / "csl" / "meu_uvl.csv"),
                "--kind",
                "csl-csv",
                "--db",
                str(db),
            ]
        )
        == 0
    )
    assert "licence" not in capsys.readouterr().out  # US government lists carry no such terms
