"""The KEV catalogue and CVE records travel in the signed data bundle (component "vulns")."""

from __future__ import annotations

import tarfile
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from auditor import resources
from auditor.cli.app import main
from auditor.databundle import BundleError, build_bundle, install, signing
from auditor.databundle.build import new_key
from auditor.vulns import VulnAssessor, import_cve, import_kev
from tests.databundle.databundle_helpers import AS_OF, TODAY, make_source
from tests.vulns.conftest import ASSETS, NVD


@pytest.fixture
def key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    private = tmp_path / "keys" / "test.key"
    public = signing.load_public_key(new_key(private), "test key")
    monkeypatch.setattr(signing, "trusted_keys", lambda: (public,))
    return private


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "data"
    resources.use_data_root(folder)
    yield folder
    resources.use_data_root(None)
    resources.forget_loaded_data()


def _bundle(tmp_path: Path, key: Path) -> Path:
    release = tmp_path / "release-data"  # where the maintainer imported the files
    import_kev(release, ASSETS / "kev-excerpt.json")
    import_cve(release, NVD)
    out = tmp_path / "camaudit-data-2099.1.0.tar.gz"
    manifest = build_bundle(
        make_source(tmp_path, AS_OF, "2099.1.0"),
        out,
        version="2099.1.0",
        key_path=key,
        created=AS_OF,
        components=("regulatory", "vulns"),
        vulns_from=release,
    )
    assert {"vulns/kev.json", "vulns/cve.json"} <= set(manifest.files)
    return out


def test_a_bundle_carries_kev_and_cve_data_and_a_newer_import_wins(
    tmp_path: Path, key: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    install(_bundle(tmp_path, key), root=data_dir, now=datetime(2099, 1, 2, tzinfo=UTC))
    resources.forget_loaded_data()
    vulns = VulnAssessor.load(data_dir, today=TODAY)
    assert vulns.data.kev["CVE-2021-36260"].due_date == date(2022, 1, 24)
    assert "CVE-2021-33044" in vulns.data.records
    names = [v.version for v in vulns.data_versions()]
    assert names[0].startswith("bundle 2099.1.0: kev-excerpt.json")
    assert main(["data", "status", "--data-dir", str(data_dir)]) == 0
    assert "bundle 2099.1.0: kev-excerpt.json" in capsys.readouterr().out
    # The user's own import of an older catalogue (the CSV is as of 2024-08-21) does not
    # replace the bundle's newer one; their CVE records add to the bundle's.
    import_kev(data_dir, ASSETS / "kev-excerpt.csv")
    again = VulnAssessor.load(data_dir, today=TODAY)
    assert len(again.data.kev) == 8  # the bundle's 8, not the CSV's 4


def test_a_bundle_with_damaged_vulnerability_data_is_refused(
    tmp_path: Path, key: Path, data_dir: Path
) -> None:
    release = tmp_path / "bad-release"
    (release / "vulns").mkdir(parents=True)
    (release / "vulns" / "kev.json").write_text('{"format_version": 1, "dataset": {}}')
    out = tmp_path / "bad.tar.gz"
    build_bundle(
        make_source(tmp_path, AS_OF, "2099.1.1"),
        out,
        version="2099.1.1",
        key_path=key,
        created=AS_OF,
        components=("regulatory", "vulns"),
        vulns_from=release,
    )
    with tarfile.open(out) as tar:
        assert any(m.name.endswith("vulns/kev.json") for m in tar.getmembers())
    with pytest.raises(BundleError, match="vulnerability data does not load"):
        install(out, root=data_dir, now=datetime(2099, 1, 2, tzinfo=UTC))
    assert not (data_dir / "bundles" / "2099.1.1").exists()


def test_data_diff_names_the_vulnerability_files_a_bundle_adds(
    tmp_path: Path, key: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = _bundle(tmp_path, key)
    assert main(["data", "diff", "shipped", str(bundle), "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "vulns/kev.json" in out and "vulns/cve.json" in out
