"""`camaudit lists import|status` through the real entry point."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from auditor.cli.app import main
from auditor.clock import TODAY_ENV
from auditor.exposure import Assessor


@pytest.mark.parametrize("age", [91, 456])
def test_import_then_status(
    assets: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    age: int,
) -> None:
    # The data's age depends on the day: pin it, relative to the shipped data's as-of date so a
    # data review does not break the test (91 days: just stale; 456: a year later).
    as_of = Assessor.load(None).data.as_of
    monkeypatch.setenv(TODAY_ENV, (as_of + timedelta(days=age)).isoformat())
    db = tmp_path / "camaudit.db"
    code = main(
        ["lists", "import", str(assets / "ofac" / "SDN.CSV"), "--kind", "ofac-sdn", "--db", str(db)]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "2 entries" in out and "3 rows" in out and "ofac-sdn" in out
    code = main(
        [
            "lists",
            "import",
            str(assets / "csl" / "consolidated.csv"),
            "--kind",
            "csl-csv",
            "--db",
            str(db),
        ]
    )
    assert code == 0
    capsys.readouterr()
    assert main(["lists", "status", "--db", str(db)]) == 0
    out = capsys.readouterr().out
    assert "ofac-sdn" in out and "csl-csv" in out and "SDN.CSV" in out
    assert (
        "regulatory (reviewed)" in out and f"{age} STALE" in out
    )  # the reviewed data is over 90 days old on both days
    assert "not legal advice" not in out  # the status table shows data, the report says that


def test_status_within_the_age_limit_is_not_stale(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    as_of = Assessor.load(None).data.as_of
    monkeypatch.setenv(TODAY_ENV, (as_of + timedelta(days=10)).isoformat())
    assert main(["lists", "status", "--db", str(tmp_path / "c.db")]) == 0
    out = capsys.readouterr().out
    assert "STALE" not in out and as_of.isoformat() in out


def test_a_pinned_day_that_is_not_a_date_is_a_usage_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TODAY_ENV, "yesterday")
    assert main(["lists", "status", "--db", str(tmp_path / "c.db")]) == 2
    assert TODAY_ENV in capsys.readouterr().err


def test_malformed_file_is_a_clear_error(
    assets: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "SDN.CSV"
    bad.write_bytes((assets / "ofac" / "SDN.CSV").read_bytes()[:150])
    db = tmp_path / "camaudit.db"
    code = main(["lists", "import", str(bad), "--kind", "ofac-sdn", "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 2
    assert "SDN.CSV:2" in captured.err and "truncated" in captured.err
    assert main(["lists", "status", "--db", str(db)]) == 0
    assert "SDN.CSV" not in capsys.readouterr().out


def test_wrong_kind_and_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lists", "import", str(tmp_path / "x.csv"), "--kind", "nope"]) == 2
    code = main(
        [
            "lists",
            "import",
            str(tmp_path / "x.csv"),
            "--kind",
            "csl-csv",
            "--db",
            str(tmp_path / "d.db"),
        ]
    )
    assert code == 2 and "no such file" in capsys.readouterr().err


def test_default_db_from_environment(
    assets: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db = tmp_path / "env.db"
    monkeypatch.setenv("CAMAUDIT_DB", str(db))
    assert (
        main(
            [
                "lists",
                "import",
                str(assets / "opensanctions" / "entities.ftm.json"),
                "--kind",
                "ftm-json",
            ]
        )
        == 0
    )
    assert db.exists()
    capsys.readouterr()
    assert main(["lists", "status"]) == 0
    assert "entities.ftm.json" in capsys.readouterr().out
