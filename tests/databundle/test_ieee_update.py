"""`camaudit data update DIR` with the IEEE's CSV files: a current MAC registry, built locally."""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from auditor import resources
from auditor.cli.app import main
from auditor.identify import Identifier
from auditor.identify.reference import load_oui
from auditor.store import Store
from tests.render.camaudit_sample_audit import sample_report

ASSETS = Path(__file__).parent / "assets" / "ieee"
#: The prefixes in the excerpt files: one per row, headers left out.
EXCERPT_ROWS = sum(
    len((ASSETS / name).read_text().splitlines()) - 1
    for name in ("oui.csv", "mam.csv", "oui36.csv", "iab.csv")
)


def shipped_registry_date() -> datetime:
    table = load_oui(resources.shipped_fingerprints_dir())
    return datetime.fromisoformat(table.as_of).replace(tzinfo=UTC)


def ieee_folder(tmp_path: Path, published: datetime) -> Path:
    folder = tmp_path / "ieee-data"
    shutil.copytree(ASSETS, folder, ignore=shutil.ignore_patterns("*.md"))
    (folder / ".lastupdate").write_text(f"{int(published.timestamp())}\n")
    return folder


def test_ieee_files_newer_than_the_shipped_registry_become_the_registry_in_use(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    published = shipped_registry_date() + timedelta(days=30)
    folder = ieee_folder(tmp_path, published)
    assert len(Identifier.default().data.oui.entries) > 1000  # the shipped registry, before
    assert main(["data", "update", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"{EXCERPT_ROWS} prefixes" in out and "now the MAC registry in use" in out
    oui = Identifier.default().data.oui
    assert len(oui.entries) == EXCERPT_ROWS and oui.as_of == published.date().isoformat()
    assert "4447CC" in oui.entries  # Hikvision's MA-L block, as the IEEE registered it
    assert main(["data", "status"]) == 0
    status = capsys.readouterr().out
    line = next(x for x in status.splitlines() if x.strip().startswith("MAC registry"))
    assert "IEEE files" in line and published.date().isoformat() in line
    # Reports name it with the data they used.
    label = next(v for v in _versions(tmp_path) if v["name"] == "data bundle")["version"]
    assert f"MAC registry from IEEE files as of {published.date()}" in label
    # Back to the shipped data: the registry built here goes too.
    assert main(["data", "use", "shipped"]) == 0
    assert len(Identifier.default().data.oui.entries) > 1000


def test_older_ieee_files_are_built_but_not_used(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = ieee_folder(tmp_path, shipped_registry_date() - timedelta(days=400))
    assert main(["data", "update", str(folder)]) == 0
    assert "not used" in capsys.readouterr().out
    assert len(Identifier.default().data.oui.entries) > 1000


def test_a_file_that_is_not_the_ieee_registry_is_refused_and_the_registry_stays(
    tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = ieee_folder(tmp_path, shipped_registry_date() + timedelta(days=30))
    assert main(["data", "update", str(good)]) == 0
    registry = resources.ieee_registry_path(data_dir)
    before = registry.read_bytes()
    bad = tmp_path / "bad"
    shutil.copytree(good, bad)
    (bad / "mam.csv").write_text("Prefix,Name\n0000,Someone\n")
    os.utime(bad / ".lastupdate")
    capsys.readouterr()
    assert main(["data", "update", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "not usable IEEE registry files" in err and "refused" in err
    assert registry.read_bytes() == before
    assert not list(registry.parent.glob("*.new"))


def _versions(tmp_path: Path) -> list[dict[str, str]]:
    """The data versions a report rendered now names."""
    db = tmp_path / "c.db"
    report = sample_report()
    with Store(db) as store:
        store.begin_audit(report.audit)
        assert report.audit.finished is not None
        store.finish_audit(report.audit.id, report.audit.finished, report.notes)
    out = tmp_path / "r.json"
    assert main(["report", "--db", str(db), "-f", "json", "-o", str(out)]) == 0
    versions: list[dict[str, str]] = json.loads(out.read_text())["audit"]["data_versions"]
    return versions
