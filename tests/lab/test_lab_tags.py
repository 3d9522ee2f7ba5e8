"""Two `camaudit lab` sites at once, told apart by --tag (issue 19)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from auditor.lab import nsutil

pytestmark = pytest.mark.netns

LAB = [sys.executable, "-m", "auditor.cli.app", "lab"]
#: Both sites use the same subnet: each lives in its own namespaces, so they cannot meet.
SUBNET = "10.206.0.0/24"
#: The devices of both sites sit at .10 upward; ask for the larger site's range from each.
RANGE = "10.206.0.10-15"


def lab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*LAB, *args], capture_output=True, text=True, timeout=timeout)


def status(tag: str) -> dict[str, Any]:
    shown = lab("status", "--tag", tag, "--json", timeout=60)
    assert shown.returncode == 0, shown.stderr
    state: dict[str, Any] = json.loads(shown.stdout)
    return state


def macs_seen(auditor_netns: str) -> int:
    """Devices that answer ARP in ``RANGE``, seen from one site's auditor namespace."""
    scan = subprocess.run(
        ["ip", "netns", "exec", auditor_netns, "nmap", "-n", "-sn", RANGE],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert scan.returncode == 0, scan.stderr
    return scan.stdout.count("MAC Address:")


def test_two_tagged_sites_run_side_by_side_and_come_down_one_at_a_time() -> None:
    # The second tag starts with the first: `lab down --tag first` must not take the second's
    # namespaces (ca-<first>-2-s also starts with ca-<first>-).
    first = f"side{os.getpid() % 10000}"
    second = f"{first}-2"
    pids: list[int] = []
    try:
        up_first = lab("up", "--tag", first, "--devices", "2", "--subnet", SUBNET)
        assert up_first.returncode == 0, up_first.stderr
        up_second = lab("up", "--tag", second, "--devices", "5", "--subnet", SUBNET)
        assert up_second.returncode == 0, up_second.stderr
        assert f"ca-{second}-a" in up_second.stderr + up_second.stdout

        one, two = status(first), status(second)
        pids = [int(one["pid"]), int(two["pid"])]
        assert one["running"] and two["running"]
        assert (len(one["devices"]), len(two["devices"])) == (2, 5)
        assert (one["auditor_netns"], two["auditor_netns"]) == (f"ca-{first}-a", f"ca-{second}-a")
        assert nsutil.lab_namespaces(f"ca-{first}-") == [f"ca-{first}-a", f"ca-{first}-s"]
        assert nsutil.lab_namespaces(f"ca-{second}-") == [f"ca-{second}-a", f"ca-{second}-s"]
        # `lab status` of the default site points at the tagged ones.
        overview = lab("status", timeout=60)
        assert f"--tag {first}" in overview.stdout and f"--tag {second}" in overview.stdout
        # Each auditor sees its own site only, although the addresses overlap.
        assert macs_seen(one["auditor_netns"]) == 2
        assert macs_seen(two["auditor_netns"]) == 5

        # The same tag twice is refused; the running site is untouched.
        again = lab("up", "--tag", first, "--devices", "1", "--subnet", SUBNET)
        assert again.returncode != 0
        assert f"--tag {first}" in again.stderr
        assert status(first)["pid"] == pids[0]

        down = lab("down", "--tag", first)
        assert down.returncode == 0, down.stderr
        assert not Path(f"/proc/{pids[0]}").exists(), "the first site's daemon still runs"
        assert nsutil.lab_namespaces(f"ca-{first}-") == []
        assert status(first)["running"] is False
        # The second site is still up, whole and reachable.
        after = status(second)
        assert after["running"] is True and after["pid"] == pids[1]
        assert nsutil.lab_namespaces(f"ca-{second}-") == [f"ca-{second}-a", f"ca-{second}-s"]
        assert macs_seen(after["auditor_netns"]) == 5
    finally:
        for tag in (first, second):
            lab("down", "--tag", tag)
    assert nsutil.lab_namespaces(f"ca-{second}-") == []
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
