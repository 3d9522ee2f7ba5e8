"""After `camaudit demo`, the README's next commands work on its audit, and two demo runs compare.

Real processes against the real loopback lab; the default store is found the way a user's is
(the data folder under $HOME), with nothing pointing at it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.history.combine import DEMO_SITE

pytestmark = [pytest.mark.nmap, pytest.mark.slow]


def _camaudit(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CAMAUDIT_DB", "XDG_DATA_HOME")}
    env.update(HOME=str(home), NO_COLOR="1")
    return subprocess.run(
        [sys.executable, "-m", "auditor", *args],
        cwd=home if home.is_dir() else home.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_demo_lands_in_the_default_store_and_two_runs_compare(tmp_path: Path) -> None:
    ids = []
    for run in (1, 2):
        done = _camaudit(tmp_path, "demo", "-f", "json", "-o", f"demo{run}.json")
        assert done.returncode == 0, done.stderr
        ids.append(json.loads((tmp_path / f"demo{run}.json").read_text())["audit"]["id"])
        assert "camaudit audits" in done.stderr  # the demo says what to run next
    store = tmp_path / ".local" / "share" / "camaudit" / "camaudit.db"
    assert store.is_file()

    # The README's next steps, exactly as written there.
    audits = _camaudit(tmp_path, "audits")
    assert audits.returncode == 0, audits.stderr
    assert all(i in audits.stdout for i in ids) and "camaudit demo" in audits.stdout
    latest = _camaudit(tmp_path, "report", "-f", "json", "-o", "-")
    assert latest.returncode == 0, latest.stderr
    doc = json.loads(latest.stdout)
    assert doc["audit"]["id"] == ids[1] and doc["audit"]["site"] == DEMO_SITE
    assert len(doc["devices"]) == 14

    # Each run used its own loopback subnet; the devices are still the same devices.
    changes = _camaudit(tmp_path, "diff", ids[0], ids[1], "-f", "json")
    result = json.loads(changes.stdout)
    assert result["summary"]["new"] == 0 and result["summary"]["gone"] == 0, result["devices"]
    assert result["summary"]["changed"] + result["summary"]["unchanged"] == 14
    assert result["gate"]["reached"] is False
    assert changes.returncode == result["gate"]["exit_code"] in (0, 3), changes.stderr

    # Two demo audits of the one emulated site: the combined report counts each device once.
    both = _camaudit(tmp_path, "report", ids[0], ids[1], "-f", "json", "-o", "-")
    assert both.returncode == 0, both.stderr
    assert json.loads(both.stdout)["summary"]["devices"] == 14
    assert "counted once" in both.stderr


def test_demo_without_a_writable_data_folder_still_runs_and_says_where_it_went(
    tmp_path: Path,
) -> None:
    # $HOME is a file: no data folder can be made under it (for root too).
    home = tmp_path / "home-is-a-file"
    home.write_text("")
    out = tmp_path / "demo.json"
    done = _camaudit(home, "demo", "-f", "json", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert "temporary store" in done.stderr and "--db PATH" in done.stderr
    assert len(json.loads(out.read_text())["devices"]) == 14
    assert "camaudit audits" not in done.stderr  # nothing was kept to list
