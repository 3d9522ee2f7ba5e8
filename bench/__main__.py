"""``bench/run [site24|site16|identify|render|vulns|store|central|import|all]``: benchmarks."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench import table, timeline
from bench.measure import median
from bench.sites import SITES


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def _fmt_s(v: float) -> str:
    return f"{v:.2f} s" if v < 100 else f"{v:.0f} s"


def _nm(runs: list[Any], field: str) -> str:
    """An nmap figure, or why there is none (a run stopped at --nmap-timeout wrote nothing)."""
    if not runs:
        return "-"
    if runs[-1].measurement.returncode != 0:
        return "(stopped)"
    return str(getattr(runs[-1], field))


def site_table(result: Any) -> str:
    spec = result.spec
    ca, nm = result.camaudit, result.nmap
    wall_c = median([r.measurement.wall_s for r in ca])
    cpu_c = median([r.measurement.cpu_s for r in ca])
    rss_c = max(r.measurement.peak_rss_mb for r in ca)
    rows: list[list[str]] = []
    if nm:
        # nmap runs fewer times (it takes minutes to hours): each nmap run is compared with
        # the median of the camaudit runs made on the same site in the same invocation.
        wall_n = median([r.measurement.wall_s for r in nm])
        cpu_n = median([r.measurement.cpu_s for r in nm])
        rss_n = max(r.measurement.peak_rss_mb for r in nm)
        ratio = wall_n / wall_c
        cpu_ratio = cpu_n / max(1e-9, cpu_c)
        stopped = any(r.measurement.returncode != 0 for r in nm)
        more = "> " if stopped else ""  # killed at --nmap-timeout: a lower bound
    speed_ok = None if spec.speedup_target is None or not nm else ratio >= spec.speedup_target
    rows.append([
        "wall time (median)", _fmt_s(wall_c), more + _fmt_s(wall_n) if nm else "-",
        f"{more}{ratio:.1f}x" if nm else "-",
        f"< {spec.wall_target_s:.0f} s"
        + (f", >= {spec.speedup_target:.0f}x" if spec.speedup_target else ""),
        table.verdict(wall_c < spec.wall_target_s and speed_ok is not False),
    ])  # fmt: skip
    for label, key, target in (
        ("total / discovery window (median)", timeline.WINDOW, spec.window_ratio_target),
        ("total / own nmap sweep (median)", timeline.SWEEP, spec.sweep_ratio_target),
    ):
        ratios = [r for r in (timeline.ratio(run.timeline, key) for run in ca) if r is not None]
        if ratios:
            mid = median(ratios)
            rows.append([
                label, f"{mid:.2f}", "", "", f"<= {target:g}" if target else "",
                table.verdict(mid <= target) if target else "",
            ])  # fmt: skip
    rows.append([
        "CPU user+sys (median)", _fmt_s(cpu_c), more + _fmt_s(cpu_n) if nm else "-",
        f"{more}{cpu_ratio:.1f}x" if nm else "-", "", "",
    ])  # fmt: skip
    rows.append([
        "peak RSS (max of runs)", f"{rss_c:.0f} MB", f"{rss_n:.0f} MB" if nm else "-", "",
        f"< {spec.rss_target_mb:.0f} MB" if spec.rss_target_mb else "",
        table.verdict(rss_c < spec.rss_target_mb) if spec.rss_target_mb else "",
    ])  # fmt: skip
    cam = ca[-1]
    rows.append([
        "cameras/NVRs/DVRs: true maker named", str(cam.cameras), _nm(nm, "cameras"),
        "", "all", table.verdict(cam.cameras.correct == cam.cameras.total),
    ])  # fmt: skip
    if nm:
        rows.append([
            "  same, nmap also by MAC vendor", "", _nm(nm, "cameras_with_mac"), "", "", "",
        ])  # fmt: skip
    rows.append([
        "any device with a knowable maker", str(cam.knowable), _nm(nm, "knowable"),
        "", "", "",
    ])  # fmt: skip
    rows.append([
        "hosts reported (nmap: with an open port)", str(cam.devices_found),
        _nm(nm, "devices_found"), "", "", "",
    ])  # fmt: skip
    pace = f", both paced at {spec.rate:g}/s" if spec.rate else ""
    title = (
        f"{spec.name}: {spec.description} — camaudit {len(ca)} run(s), nmap {len(nm)}, "
        f"{len(result.ports)} ports{pace}; site up {result.setup_s:.0f} s, "
        f"down {result.teardown_s:.0f} s"
    )
    text = table.render(title, rows)
    if cam.cameras.wrong:
        text += "\ncamaudit missed: " + "; ".join(cam.cameras.wrong[:10])
    if cam.timeline:
        text += "\n\n" + table.render(
            f"{spec.name}: where the time goes (the last camaudit scan, from its own report)",
            [[k, f"{v:.1f} s"] for k, v in cam.timeline.items()],
            ("stage", "seconds"),
        )
        total = sum(cam.probe_seconds.values()) or 1.0
        text += "\n\n" + table.render(
            f"{spec.name}: probe time summed over hosts (thread-seconds, shared by the workers)",
            [
                [k, f"{v:.1f} s", f"{100 * v / total:.0f} %"]
                for k, v in sorted(cam.probe_seconds.items(), key=lambda kv: -kv[1])
            ],
            ("probe", "seconds", "share"),
        )
    if result.stages:
        text += "\n\n" + table.render(
            f"{spec.name}: where the time goes (one in-process audit)",
            [[k, f"{v:.1f} s"] for k, v in result.stages.items()],
            ("stage", "seconds"),
        )
    return text


def identify_table(r: Any) -> str:
    rows = [
        ["Identifier.identify, one core", f"{r.direct_obs_per_s:,.0f} obs/s", ">= 20,000 obs/s",
         table.verdict(r.direct_obs_per_s >= 20000)],
        [f"camaudit identify, one core, {r.cli_observations:,} obs (start-up included)",
         f"{r.cli_obs_per_s:,.0f} obs/s", ">= 20,000 obs/s",
         table.verdict(r.cli_obs_per_s >= 20000)],
    ]  # fmt: skip
    return table.render(
        f"identify: {r.observations} real observations from {r.records} lab devices, replayed",
        rows,
        ("path", "throughput", "target", "verdict"),
    )


def render_table(r: Any) -> str:
    html = r.seconds["html"]
    rows = [
        ["HTML, standard detail", f"{html:.2f} s", f"{r.sizes['html'] / 1e6:.1f} MB", "< 3 s",
         table.verdict(html < 3)],
        ["HTML, summary detail", f"{r.seconds['html-summary']:.2f} s",
         f"{r.sizes['html-summary'] / 1e3:.0f} KB", "", ""],
        ["HTML, full detail", f"{r.seconds['html-full']:.2f} s",
         f"{r.sizes['html-full'] / 1e6:.1f} MB", "", ""],
        ["JSON", f"{r.seconds['json']:.2f} s", f"{r.sizes['json'] / 1e6:.0f} MB", "", ""],
    ]  # fmt: skip
    if r.summary_pdf_pages is not None:
        pages = r.summary_pdf_pages
        rows.append(
            ["PDF, summary detail", f"{r.seconds['pdf-summary']:.2f} s", f"{pages} pages",
             "<= 20 pages", table.verdict(pages <= 20)]
        )  # fmt: skip
    return table.render(
        f"render: report of {r.devices:,} devices (a real lab audit, replicated)",
        rows,
        ("format", "median", "size", "target", "verdict"),
    )


def vulns_table(r: Any) -> str:
    total = r.load_s + r.match_s
    rows = [
        ["import (parse and store) KEV + CVE files", f"{r.import_s:.2f} s", "", ""],
        ["load + match 2,000 devices (per audit or report)", f"{total:.2f} s", "< 10 s",
         table.verdict(total < 10)],
        ["  of which matching", f"{r.match_s:.2f} s", "", ""],
    ]  # fmt: skip
    return table.render(
        f"vulns: {r.devices:,} devices (a real lab audit, replicated) against KEV "
        f"({r.kev_entries:,} entries, {r.kev_source}) and {r.cve_records:,} CVE records "
        f"({r.cpes:,} CPEs, synthetic from real NVD record shapes); {r.findings:,} findings",
        rows,
        ("measure", "time", "target", "verdict"),
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("what", nargs="?", default="all",
                   choices=["site24", "site16", "identify", "render", "vulns", "micro", "recog",
                            "store", "central", "import", "all"])  # fmt: skip
    p.add_argument("--recog-dir", type=Path, default=None, metavar="DIR",
                   help="Recog's xml/ folder (default: $CAMAUDIT_RECOG_XML or "
                   "/work/shared/peers/recog/xml)")  # fmt: skip
    p.add_argument("--misses", action="store_true", help="recog: also list every miss")
    p.add_argument("--kev", type=Path, metavar="FILE",
                   help="vulns: the full KEV catalogue (JSON) to match against; default: a "
                   "synthetic catalogue of the same size built from real entries")  # fmt: skip
    p.add_argument("--runs", type=int, help="runs per measure (default: 3; site16: 1)")
    p.add_argument("--nmap-runs", type=int, default=1, metavar="N",
                   help="runs of the nmap -sV baseline (default 1: it is minutes to hours, "
                   "so its noise does not matter); 0 skips it")  # fmt: skip
    p.add_argument("--stages", action="store_true",
                   help="also time the stages in-process (always on for site16)")  # fmt: skip
    p.add_argument("--nmap-timeout", type=float, default=3600.0, metavar="S",
                   help="stop the nmap baseline after S seconds (a lower bound)")  # fmt: skip
    p.add_argument("--import-hosts", type=int, default=50_000, metavar="N",
                   help="import: hosts in the generated nmap XML (default 50,000)")  # fmt: skip
    p.add_argument("--json", type=Path, metavar="FILE", help="also write the raw results")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    def on_term(signum: int, frame: object) -> None:
        raise KeyboardInterrupt  # the site's context tears everything down

    signal.signal(signal.SIGTERM, on_term)
    what = args.what
    sites = ["site24", "site16"] if what == "all" else [what] if what in SITES else []
    micro = what in ("identify", "render", "vulns", "micro", "all")
    if sites and os.geteuid() != 0:
        print(
            "bench/run: the site benchmarks build network namespaces: run as root", file=sys.stderr
        )
        return 2
    outputs: list[str] = []
    raw: dict[str, Any] = {}
    if what in ("recog", "all"):
        from bench import recog

        xml_dir = args.recog_dir or recog.xml_dir_from_env()
        if not (xml_dir / "http_servers.xml").is_file():
            say(f"recog: skipped, no Recog xml/ folder at {xml_dir} (--recog-dir DIR)")
        else:
            from auditor.identify import Identifier

            say(f"recog: identifying every example in {xml_dir} ...")
            identifier = Identifier.default()
            result = recog.run(
                xml_dir,
                identifier,
                recog.default_same_maker(identifier),
                recog.canonical_vendor(identifier),
            )
            outputs.append(recog.report(result, verbose=args.misses))
            raw["recog"] = recog.summary(result)
    if what in ("store", "all"):
        from bench.store import bench_store, store_table

        say(
            "store benchmark: 2,000 devices on SQLite and PostgreSQL, then the JSON and CSV "
            "reports' peak RSS at 2,000 and 20,000 devices ..."
        )
        store_results = bench_store()
        outputs.append(store_table(store_results))
        raw["store"] = [asdict(r) for r in store_results]
        from bench import report_rss

        rss_results = report_rss.run(progress=say)
        outputs.append(report_rss.table_text(rss_results))
        raw["report_rss"] = [asdict(r) for r in rss_results]
    if what in ("import", "all"):
        from bench import imports

        imp = imports.run(args.import_hosts, args.runs or 1, progress=say)
        outputs.append(imports.table_text(imp))
        raw["import"] = {
            "hosts": imp.hosts,
            "runs": [asdict(m) for m in imp.runs],
            "hosts_per_s": imp.hosts_per_s,
            "devices": imp.devices,
            "makers_named": imp.makers_named,
            "cameras": imp.cameras,
            "import_s": imp.import_s,
        }
    if micro:
        from bench.micro import bench_identify, bench_render, capture_report

        runs = args.runs or 3
        say("capturing a real loopback audit of every lab profile ...")
        report = capture_report()
        if what in ("identify", "micro", "all"):
            say("identify micro-benchmark ...")
            ident = bench_identify(report, runs)
            outputs.append(identify_table(ident))
            raw["identify"] = asdict(ident)
        if what in ("render", "micro", "all"):
            say("render micro-benchmark ...")
            rend = bench_render(report, 2000, runs)
            outputs.append(render_table(rend))
            raw["render"] = asdict(rend)
        if what in ("vulns", "micro", "all"):
            from bench.vulns import bench_vulns

            say("known-vulnerability matching benchmark ...")
            vres = bench_vulns(report, 2000, args.kev)
            outputs.append(vulns_table(vres))
            raw["vulns"] = asdict(vres)
    if what in ("central", "all"):
        from bench import central

        say("central store: 20 collectors pushing at once, then the organisation view ...")
        cres = central.run(say)
        outputs.append(central.render(cres))
        raw["central"] = asdict(cres)
    for name in sites:
        from bench.sitebench import run_site

        spec = SITES[name]
        runs = args.runs or (1 if name == "site16" else 3)
        site_result = run_site(
            spec,
            runs,
            args.nmap_timeout,
            nmap_runs=args.nmap_runs,
            stages=args.stages,
            progress=say,
        )
        outputs.append(site_table(site_result))
        raw[name] = {
            "camaudit": [asdict(r.measurement) for r in site_result.camaudit],
            "nmap": [asdict(r.measurement) for r in site_result.nmap],
            "camaudit_cameras": [str(r.cameras) for r in site_result.camaudit],
            "nmap_cameras": [str(r.cameras) for r in site_result.nmap],
            "stages": site_result.stages,
            "timeline": [r.timeline for r in site_result.camaudit],
            "probe_seconds": [r.probe_seconds for r in site_result.camaudit],
            "camaudit_argv": site_result.camaudit_argv,
            "nmap_argv": site_result.nmap_argv,
        }
    print("\n\n".join(outputs))
    if args.json:
        args.json.write_text(json.dumps(raw, indent=2, default=str), encoding="utf-8")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench/run: interrupted; the lab site was torn down", file=sys.stderr)
        sys.exit(130)
