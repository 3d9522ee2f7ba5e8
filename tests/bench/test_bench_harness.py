"""The benchmark harness: measurement of real child processes, scoring of real nmap output, the
micro-benchmarks on a captured loopback audit, and one tiny namespace site end to end.

The full benchmark (bench/run) is not part of the test suite: it takes minutes to hours.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from auditor.lab import GroundTruth
from bench.measure import run_measured
from bench.scoring import makers_in, nmap_coverage, parse_nmap
from bench.sites import SiteSpec, device_mix

ROOT = Path(__file__).resolve().parents[2]

ASSET = ROOT / "tests" / "discovery" / "assets" / "lab-loopback-sV.xml"


def truth(address: str, maker: str | None, device_type: str = "ip_camera") -> GroundTruth:
    return GroundTruth(address, "p", maker, maker, "m", device_type, "02:00:00:00:00:01", False)


def test_a_child_is_measured_with_its_own_peak_rss_and_cpu():
    # On Linux a child's ru_maxrss also counts the memory of the process that forked it (the
    # pre-exec copy), so the harness is meant to run as a small process, as bench/run does. The
    # pytest process is large by now: measure from a fresh, small Python, as the harness runs.
    code = (
        "import json, sys\n"
        "from bench.measure import run_measured\n"
        "grow = \"b = bytearray(80 << 20); b[::4096] = b'x' * len(b[::4096]); "
        'sum(range(3_000_000))"\n'
        "big = run_measured([sys.executable, '-c', grow])\n"
        "small = run_measured([sys.executable, '-c', 'pass'])\n"
        "print(json.dumps([big.returncode, big.peak_rss_mb, big.cpu_s, big.wall_s, "
        "small.peak_rss_mb]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    returncode, peak, cpu, wall, small_peak = json.loads(out)
    assert returncode == 0
    assert peak >= 80
    assert 0 < cpu < 30 and wall >= cpu * 0.5
    assert small_peak < 60  # wait4: not the earlier, bigger child's maximum


def test_a_failing_or_hung_child_is_reported_and_stopped():
    m = run_measured([sys.executable, "-c", "import sys; sys.exit('boom')"])
    assert m.returncode == 1 and "boom" in m.stderr_tail
    hung = run_measured([sys.executable, "-c", "import time; time.sleep(60)"], timeout=1)
    assert hung.returncode != 0 and hung.wall_s < 10


def test_nmap_strings_name_makers_by_vendor_name_only():
    hosts = parse_nmap(ASSET)
    assert makers_in(hosts["127.88.1.10"].strings) == {"Hikvision"}
    assert makers_in(hosts["127.88.1.11"].strings) == {"Dahua"}
    # uc-httpd is the Xiongmai web server, but nmap's strings never say so: no credit.
    assert makers_in(hosts["127.88.1.12"].strings) == set()
    assert makers_in(["AXIS P1375 Network Camera"]) == {"Axis"}
    assert makers_in(["HP LaserJet", "Hikvision and Dahua"]) == {"HP", "Hikvision", "Dahua"}
    assert makers_in(["Synaxis httpd"]) == set()  # whole words only


def test_nmap_coverage_against_ground_truth():
    hosts = parse_nmap(ASSET)
    t = [
        truth("127.88.1.10", "Hikvision"),
        truth("127.88.1.11", "Dahua"),
        truth("127.88.1.12", "Xiongmai", "dvr"),
        truth("127.88.1.99", "Axis"),  # not in the scan at all
        truth("127.88.1.15", None, "unknown"),  # nothing knowable: not counted
    ]
    cov = nmap_coverage(hosts, t, video_only=True)
    assert (cov.correct, cov.total) == (2, 4)
    assert len(cov.wrong) == 2


def test_site_mix_spreads_silent_hosts_and_keeps_counts():
    spec = SiteSpec("t", "10.0.0.0/24", devices=20, silent=5, sparse=False, description="",
                    wall_target_s=1)  # fmt: skip
    mix = device_mix(spec)
    assert len(mix) == 25 and mix.count("silent-host") == 5
    spots = [i for i, name in enumerate(mix) if name == "silent-host"]
    assert spots[0] >= 3 and all(b - a > 1 for a, b in zip(spots, spots[1:], strict=False))


@pytest.mark.slow
def test_micro_benchmarks_run_on_a_captured_loopback_audit():
    from bench.micro import bench_identify, bench_render, capture_report, replicate

    report = capture_report(["hikvision-ipc", "dahua-ipc", "axis-p1375"])
    assert {d.identification.manufacturer for d in report.devices} == {"Hikvision", "Dahua", "Axis"}
    big = replicate(report, 10)
    assert len({d.host.address for d in big.devices}) == 10
    ident = bench_identify(report, runs=1, seconds=0.2)
    assert ident.observations > 0 and ident.direct_obs_per_s > 0 and ident.cli_obs_per_s > 0
    rend = bench_render(report, 10, runs=1)
    assert rend.sizes["html"] > 0 and rend.seconds["json"] > 0
    # The layers: summary < standard < full, and the summary PDF counted in pages.
    assert rend.sizes["html-summary"] < rend.sizes["html"] < rend.sizes["html-full"]
    if rend.summary_pdf_pages is not None:
        assert 1 <= rend.summary_pdf_pages <= 20


@pytest.mark.netns
@pytest.mark.nmap
@pytest.mark.slow
def test_a_tiny_site_end_to_end():
    from bench.sitebench import run_site

    spec = SiteSpec("tiny", "10.209.0.0/28", devices=4, silent=1, sparse=False,
                    description="a /28: 4 devices, 1 silent", wall_target_s=30)  # fmt: skip
    messages: list[str] = []
    result = run_site(spec, runs=1, nmap_timeout=60, nmap_runs=0, progress=messages.append)
    (run,) = result.camaudit
    assert run.measurement.returncode == 0, run.measurement.stderr_tail
    assert run.measurement.peak_rss_mb > 20 and run.measurement.cpu_s > 0
    # amcrest, annke, axis, bosch: every maker named, and the silent host reported too.
    assert (run.cameras.correct, run.cameras.total) == (4, 4), run.cameras.wrong
    assert run.devices_found == 5
    from bench.timeline import TOTAL, WINDOW

    # The discovery window comes from the store's record of the round (issue 16).
    assert run.timeline[TOTAL] >= run.timeline[WINDOW] > 0
    assert "http" in run.probe_seconds
    assert any("torn down" in m for m in messages)
    from auditor.lab import nsutil

    assert nsutil.list_namespaces("ca-btiny") == []
