"""`camaudit data update|status|use|diff` with bundles built and signed by the release script."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from auditor.cli.app import main
from auditor.clock import TODAY_ENV
from auditor.databundle import BundleError, DataDir, build_bundle, install
from auditor.databundle.manifest import MANIFEST, SIGNATURE
from auditor.exposure import Assessor
from tests.databundle.databundle_helpers import AS_OF, REPO, SHIPPED_AS_OF, TODAY, make_source


def release(source: Path, out: Path, key: Path, version: str) -> Path:
    """Build and sign a bundle the documented way: the release script, in its own process."""
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "tools" / "make_bundle.py"),
            "build",
            "--key",
            str(key),
            "--version",
            version,
            "--source",
            str(source),
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"bundle {version}" in done.stdout
    return out


def members(bundle: Path) -> dict[str, bytes]:
    with tarfile.open(bundle) as tar:
        return {
            m.name: tar.extractfile(m).read()  # type: ignore[union-attr]
            for m in tar
            if m.isreg()
        }


def rewrite(bundle: Path, out: Path, **changes: bytes | None) -> Path:
    """The same bundle with some members replaced (or, given None, left out)."""
    files = members(bundle)
    for name, data in changes.items():
        key = name.replace("__", "/").replace("_dot_", ".")
        if data is None:
            files.pop(key)
        else:
            files[key] = data
    with tarfile.open(out, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return out


@pytest.fixture
def bundle(tmp_path: Path, test_key: Path) -> Path:
    src = make_source(tmp_path, AS_OF, "2026.12.01-test", drop_listing=True)
    return release(src, tmp_path / "camaudit-data-2026.12.0.tar.gz", test_key, "2026.12.0")


def test_update_installs_a_signed_bundle_and_status_names_it(
    bundle: Path,
    data_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(TODAY_ENV, TODAY.isoformat())
    assert Assessor.load(None).data.as_of == SHIPPED_AS_OF  # the shipped data, before
    assert main(["data", "update", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "installed data bundle 2026.12.0" in out and f"as of {AS_OF}" in out
    assert (data_dir / "bundles" / "2026.12.0" / "data" / "regulatory" / "listings.yaml").is_file()
    # Every loader now reads the bundle's data.
    data = Assessor.load(None).data
    assert data.as_of == AS_OF and data.version == "2026.12.01-test"
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "bundle 2026.12.0 (active)" in out and "In use: bundle 2026.12.0" in out
    assert AS_OF.isoformat() in out and "STALE" not in out.split("In use")[1]
    assert "source: camaudit repository @" in out  # the release records its commit
    # Part by part: what came from the bundle, what is still the shipped data.
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    assert "bundle 2026.12.0" in lines["regulatory"] and "2026.12.01-test" in lines["regulatory"]
    assert "bundle 2026.12.0" in lines["brands"] and "prefixes" in lines["MAC"]
    assert "bundle 2026.12.0" in lines["MAC"] and lines["fingerprints"].rstrip().endswith("shipped")
    row = next(line for line in out.splitlines() if "bundle 2026.12.0 (active)" in line)
    assert " 3 " in row  # 3 days old on the pinned day
    # A year later the same bundle is stale, and status names the update command.
    monkeypatch.setenv(TODAY_ENV, (TODAY + timedelta(days=365)).isoformat())
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "368 STALE" in out and "camaudit data update" in out


def test_a_tampered_or_unsigned_bundle_is_refused_and_nothing_changes(
    bundle: Path,
    data_dir: Path,
    tmp_path: Path,
    other_key: tuple[Path, object],
    test_key: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["data", "update", str(bundle)]) == 0
    before = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*"))
    active = (data_dir / "active.json").read_bytes()
    capsys.readouterr()
    good = members(bundle)
    listings = good["data/regulatory/listings.yaml"]
    manifest = json.loads(good[MANIFEST])
    manifest["as_of"] = "2027-01-01"
    src = make_source(tmp_path, AS_OF + timedelta(days=19), "2026.12.20-test")
    foreign = tmp_path / "foreign.tar.gz"
    build_bundle(
        src,
        foreign,
        version="2026.12.5",
        key_path=other_key[0],
        created=AS_OF,
    )
    cases = {
        "a listing edited after signing": (
            rewrite(
                bundle,
                tmp_path / "edited.tar.gz",
                data__regulatory__listings_dot_yaml=listings.replace(b"listed", b"covered", 1),
            ),
            "differs from the signed manifest",
        ),
        "the manifest edited after signing": (
            rewrite(
                bundle,
                tmp_path / "manifest.tar.gz",
                manifest_dot_json=json.dumps(manifest).encode(),
            ),
            "does not verify",
        ),
        "no signature": (
            rewrite(bundle, tmp_path / "unsigned.tar.gz", manifest_dot_sig=None),
            "not signed",
        ),
        "an extra file": (
            rewrite(bundle, tmp_path / "extra.tar.gz", data__evil_dot_yaml=b"x: 1\n"),
            "not in the manifest",
        ),
        "signed by another key": (foreign, "does not verify against any key"),
    }
    for what, (path, message) in cases.items():
        assert main(["data", "update", str(path)]) == 2, what
        err = capsys.readouterr().err
        assert message in err and "refused" in err, (what, err)
        after = sorted(p.relative_to(data_dir).as_posix() for p in data_dir.rglob("*"))
        assert after == before, what  # no half-installed bundle, no staging folder left
        assert (data_dir / "active.json").read_bytes() == active, what
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(bundle.read_bytes()[:300])
    assert main(["data", "update", str(truncated)]) == 2
    assert "truncated" in capsys.readouterr().err


def test_a_bundle_with_an_unsafe_member_name_is_refused(
    bundle: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with tarfile.open(tmp_path / "evil2.tar", "w") as tar:
        for name, data in [*members(bundle).items(), ("../outside.yaml", b"x")]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    assert main(["data", "update", str(tmp_path / "evil2.tar")]) == 2
    assert "unsafe" in capsys.readouterr().err
    assert not (tmp_path / "outside.yaml").exists() and not data_dir.exists()


def test_an_installed_bundle_altered_on_disk_stops_every_command(
    bundle: Path, data_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["data", "update", str(bundle)]) == 0
    listings = data_dir / "bundles" / "2026.12.0" / "data" / "regulatory" / "listings.yaml"
    listings.write_text(listings.read_text() + "\n# edited\n")
    from auditor import resources

    resources.forget_loaded_data()
    capsys.readouterr()
    assert main(["data", "status"]) == 2
    assert "failed its check" in capsys.readouterr().out
    assert main(["lists", "status", "--db", str(tmp_path / "c.db")]) == 2
    err = capsys.readouterr().err
    assert "failed its check" in err and "camaudit data use shipped" in err
    assert main(["data", "use", "shipped"]) == 0
    assert main(["data", "status"]) == 0
    assert "In use: shipped with camaudit" in capsys.readouterr().out


def test_an_older_bundle_is_refused_unless_asked(
    tmp_path: Path, test_key: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    newer = release(
        make_source(tmp_path, AS_OF + timedelta(days=9), "2026.12.10-test"),
        tmp_path / "b1.tar.gz",
        test_key,
        "2026.12.1",
    )
    older = release(
        make_source(tmp_path, AS_OF, "2026.12.01-test"),
        tmp_path / "b0.tar.gz",
        test_key,
        "2026.12.0",
    )
    assert main(["data", "update", str(newer)]) == 0
    assert main(["data", "update", str(older)]) == 2
    assert "older than the active bundle 2026.12.1" in capsys.readouterr().err
    assert DataDir(data_dir).active_version() == "2026.12.1"
    assert main(["data", "update", str(older), "--allow-older"]) == 0
    assert DataDir(data_dir).active_version() == "2026.12.0"


def test_a_bundle_older_than_the_shipped_data_is_not_used(
    tmp_path: Path, test_key: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = release(
        make_source(tmp_path, SHIPPED_AS_OF - timedelta(days=200), "2026.01.01-test"),
        tmp_path / "old.tar.gz",
        test_key,
        "2026.1.0",
    )
    assert main(["data", "update", str(stale)]) == 0
    assert "not used: installed bundle 2026.1.0" in capsys.readouterr().out
    assert main(["data", "status"]) == 0
    out = capsys.readouterr().out
    assert "In use: shipped with camaudit" in out and "older than the data shipped" in out
    assert Assessor.load(None).data.as_of == SHIPPED_AS_OF


def test_data_dir_option_for_air_gapped_sites(
    bundle: Path, tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    offline = tmp_path / "usb-stick" / "camaudit-data"
    assert main(["data", "update", str(bundle), "--data-dir", str(offline)]) == 0
    assert (offline / "active.json").is_file() and not data_dir.exists()
    capsys.readouterr()
    assert main(["data", "status", "--data-dir", str(offline)]) == 0
    assert "In use: bundle 2026.12.0" in capsys.readouterr().out


def test_diff_names_the_listings_that_changed(
    bundle: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shipped = yaml.safe_load(
        (REPO / "fingerprints" / "regulatory" / "listings.yaml").read_text(encoding="utf-8")
    )["listings"][0]
    assert main(["data", "diff", "shipped", str(bundle)]) == 0
    out = capsys.readouterr().out
    assert "signature verified" in out
    assert "Listings (entity x instrument): 1 changed" in out
    assert f"{shipped['entity']} x {shipped['instrument']}" in out
    assert "regulatory/dataset.yaml" in out and "regulatory/listings.yaml" in out
    assert main(["data", "diff", str(bundle), str(bundle)]) == 0
    assert "No fact, listing" in capsys.readouterr().out


def test_install_api_refuses_a_bundle_whose_data_does_not_load(
    tmp_path: Path, test_key: Path, data_dir: Path
) -> None:
    src = make_source(tmp_path, AS_OF, "2026.12.01-test")
    (src / "regulatory" / "instruments.yaml").write_text("instruments: [{id: x}]\n")
    out = tmp_path / "broken.tar.gz"
    build_bundle(src, out, version="2026.12.0", key_path=test_key, created=AS_OF)
    with pytest.raises(BundleError, match="does not load"):
        install(out, root=data_dir, now=datetime(2026, 12, 4, tzinfo=UTC))
    assert not (data_dir / "active.json").exists()
    assert [p.name for p in (data_dir / "bundles").iterdir()] == []
    assert {MANIFEST, SIGNATURE} <= set(members(out))


def test_global_data_dir_option_reaches_every_command(
    bundle: Path, tmp_path: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    offline = tmp_path / "site-data"
    assert main(["--data-dir", str(offline), "data", "update", str(bundle)]) == 0
    capsys.readouterr()
    db = tmp_path / "c.db"
    assert main(["--data-dir", str(offline), "lists", "status", "--db", str(db)]) == 0
    assert "2026.12.01-test" in capsys.readouterr().out  # the bundle's regulatory data
    assert main(["lists", "status", "--db", str(db)]) == 0  # without it: the shipped data
    assert "2026.12.01-test" not in capsys.readouterr().out


def test_a_hostile_active_file_is_a_clear_error(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data_dir.mkdir(parents=True)
    (data_dir / "active.json").write_text(json.dumps({"version": "../../etc"}))
    assert main(["lists", "status", "--db", str(tmp_path / "c.db")]) == 2
    assert "is not YYYY.MM.N" in capsys.readouterr().err
    assert main(["data", "use", "shipped"]) == 0
    assert main(["lists", "status", "--db", str(tmp_path / "c.db")]) == 0
