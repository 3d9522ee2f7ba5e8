"""Shared pytest configuration: markers skip, with a clear reason, where a tool is missing."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest

# The PostgreSQL fixtures are shared by every folder that needs a real server.
from tests.pgcluster import pg_cluster, pg_database, skip_postgres_items  # noqa: F401


def _netns_available() -> str | None:
    """Return None when network namespaces can be made here, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root for ip netns (runs in CI, which is root)"
    if shutil.which("ip") is None:
        return "needs iproute2 (apt-get install iproute2)"
    probe = "camaudit-probe-ns"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if made.returncode != 0:
        return f"ip netns add failed: {made.stderr.decode(errors='replace').strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    netns_reason: str | None = None
    netns_checked = False
    nmap_missing = shutil.which("nmap") is None
    for item in items:
        if "netns" in item.keywords:
            if not netns_checked:
                netns_reason = _netns_available()
                netns_checked = True
            if netns_reason:
                item.add_marker(pytest.mark.skip(reason=netns_reason))
        if "nmap" in item.keywords and nmap_missing:
            item.add_marker(pytest.mark.skip(reason="needs nmap (apt-get install nmap)"))
    skip_postgres_items(items)


@pytest.fixture(autouse=True, scope="session")
def _isolated_data_folder():
    """No test reads the data bundles installed on this machine: an empty data folder for all.

    World-readable, outside pytest's root-only folder, so that the tests that run camaudit as an
    ordinary user can read it too (an unreadable data folder is an error, never skipped).
    """
    folder = tempfile.mkdtemp(prefix="camaudit-test-data-")
    os.chmod(folder, 0o755)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CAMAUDIT_DATA_DIR", folder)
        yield
    shutil.rmtree(folder, ignore_errors=True)
