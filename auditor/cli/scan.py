"""`camaudit scan` and `camaudit demo`: run an audit."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from auditor import children
from auditor.cli.common import (
    add_db_option,
    add_gate_options,
    add_output_options,
    add_profile_option,
    port_plan,
    positive_float,
)
from auditor.cli.console import make_console, report_written
from auditor.cli.progress import ProgressObserver, estimate_discovery_s
from auditor.cli.stored import write_audit
from auditor.credentials import Credential, CredentialStore, Secret, scrub_environment
from auditor.engine import AuditConfig, Auditor
from auditor.errors import UsageError
from auditor.exitcodes import ExitCode, exit_code_for
from auditor.history.combine import DEMO_SITE
from auditor.models import Audience, AuditId, AuditReport, Host, Severity
from auditor.ports import PortPlan
from auditor.redact import Redactor, redact_logs
from auditor.render.interface import FormatName
from auditor.store import Store
from auditor.store.location import describe
from auditor.store.paths import ENV_DB, default_db
from auditor.store.summary import AuditCounts


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "scan",
        help="audit the cameras in a network scope",
        description="Discover, probe, identify and assess every camera, NVR and DVR in scope. "
        "Read-only: nothing on a device is changed, and no address outside the targets is "
        "contacted.",
    )
    p.add_argument(
        "targets",
        nargs="*",
        metavar="TARGET",
        help="address, CIDR (192.0.2.0/24), range (192.0.2.10-20) or @file; IPv4 and IPv6",
    )
    p.add_argument(
        "--exclude", action="append", default=[], metavar="T", help="leave out (same forms)"
    )
    p.add_argument(
        "--ports",
        type=port_plan,
        metavar="LIST",
        help="TCP ports to scan, e.g. 80,443,554,8000-8010; PORT/ROLE says what a port speaks "
        "(7443/https, 10554/rtsp; roles: http, https, rtsp, onvif, hik-sdk, dahua-sdk, dvrip, "
        "ssh, telnet, ftp). Default: the camera port set",
    )
    p.add_argument(
        "--credentials",
        type=Path,
        metavar="FILE",
        help="YAML file of device credentials (mode 600), with an optional snmp: {community: ...} "
        "section; or set CAMAUDIT_USERNAME and CAMAUDIT_PASSWORD (and CAMAUDIT_SNMP_COMMUNITY). "
        "Never given on the command line; SNMP is asked only with a community given here",
    )
    p.add_argument("--site", metavar="NAME", help="site name for the report and the store")
    add_db_option(p)
    add_output_options(p, default_format="console")
    add_profile_option(p)
    add_gate_options(p)
    p.add_argument(
        "--rate", type=positive_float, metavar="N", help="at most N new connections per second"
    )
    p.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="NAME",
        help="send multicast/broadcast discovery only on this interface (repeatable); a "
        "link-local target (fe80::...) needs one, or a zone: fe80::1%%eth0",
    )
    p.add_argument(
        "--timeout",
        type=positive_float,
        metavar="S",
        help=f"seconds per network operation (default: {DEFAULT_TIMEOUT:g}; --resume: the "
        "original run's, as are --rate and the scope guards)",
    )
    p.add_argument("--resume", metavar="AUDIT", help="finish an interrupted audit from the store")
    p.add_argument(
        "--from-nmap", type=Path, metavar="FILE", help="take hosts from nmap XML made elsewhere"
    )
    p.add_argument(
        "--from-csv",
        type=Path,
        metavar="FILE",
        help="take hosts from a CSV inventory (ip, mac, hostname, ...), e.g. a DHCP lease export",
    )
    p.add_argument(
        "--allow-large-scope", action="store_true", help="allow a scope larger than a /16"
    )
    p.add_argument(
        "--allow-public",
        action="store_true",
        help="allow public addresses in scope (only with written authorisation)",
    )
    p.set_defaults(func=run_scan)

    d: argparse.ArgumentParser = sub.add_parser(
        "demo",
        help="audit an emulated site on loopback, with no setup",
        description="Start a dozen emulated cameras, recorders and other devices on loopback "
        "addresses, audit them exactly as a real site, print the summary, write a report, and "
        "stop the site. The audit is kept in the store (site name: "
        f"{DEMO_SITE!r}), so `camaudit audits`, `report` and `diff` work on it; `report "
        "--all-sites` leaves it out beside real sites. Needs no root and sends nothing beyond "
        "loopback.",
    )
    add_output_options(d, default_format="html")
    add_profile_option(d)
    add_db_option(d)
    d.set_defaults(func=run_demo)


def _credentials(args: argparse.Namespace) -> CredentialStore:
    try:
        if args.credentials is not None:
            store = CredentialStore.load(args.credentials)
        else:
            store = CredentialStore.from_env()
        # Device text reaches the log at -v: a device that echoes the password must not put
        # it on the terminal either.
        redact_logs(Redactor(store.all()))
        return store
    finally:
        # Read once; no child process (nmap, Chromium for a PDF) inherits them.
        scrub_environment()


def _imported(args: argparse.Namespace) -> Iterable[Host]:
    """The import files' hosts, streamed into the audit; a bad file fails here, before the audit
    begins (each file is read through once when opened)."""
    from auditor.discovery import ImportedHosts

    if args.from_nmap is None and args.from_csv is None:
        return ()
    return ImportedHosts(args.from_nmap, args.from_csv)


def _run(
    config: AuditConfig,
    args: argparse.Namespace,
    default_output: str | None,
    large_at: int | None = None,
) -> AuditReport | AuditCounts:
    """Run an audit with progress on stderr; SIGTERM stops it like Ctrl-C (resumable).

    Returns the report, or its counts when the report was not loaded: for an audit of more than
    ``large_at`` devices (LARGE_AUDIT; the console then shows a cut summary read from the store),
    or when only JSON or CSV files were asked for (written from the store device by device)."""
    large_at = LARGE_AUDIT if large_at is None else large_at
    console = make_console()
    auditor = Auditor(config, None)
    with ProgressObserver(
        console, quiet=args.quiet > 0, discovery_estimate_s=estimate_discovery_s(config)
    ) as observer:
        auditor.observer = observer
        stops = (signal.SIGINT, signal.SIGTERM)
        previous = {signum: signal.getsignal(signum) for signum in stops}

        def on_stop(signum: int, frame: object) -> None:
            # Installed for SIGINT too: a scan started from a background script inherits SIGINT
            # ignored, and Python keeps it so unless a handler is set. Children (nmap) run in
            # their own process group, so they are ended here, not left scanning.
            auditor.stop()
            children.terminate_all()
            raise KeyboardInterrupt

        in_main = threading.current_thread() is threading.main_thread()
        if in_main:
            for signum in stops:
                signal.signal(signum, on_stop)
        try:
            audit_id = auditor.execute()
        except KeyboardInterrupt:
            children.terminate_all()
            console.print(
                "camaudit: interrupted; what was done is in the store. Finish it with: "
                "camaudit scan --resume <AUDIT> (see `camaudit audits`)",
                soft_wrap=True,
            )
            raise
        finally:
            if in_main:
                for signum, handler in previous.items():
                    signal.signal(signum, handler)
    formats = [FormatName(f) for f in (args.formats or [])] or [
        FormatName(default_output or "console")
    ]
    with Store(config.db_path) as store:
        result, written = write_audit(store, audit_id, formats, args, large_at, CUT_LIST)
    for path in written:
        console.print(report_written(path), soft_wrap=True)
    return result


#: Above this many devices, `scan` prints a cut summary counted in the store instead of the whole
#: console report. Why 2,000: the console report lists every device, and a 2,000-row table is
#: already more than anyone reads in a terminal (the HTML/JSON report is the place for it); a
#: report of 2,000 devices loads in about 1-2 s and 15-30 MB (50,000 took 12 s CPU and 351-674
#: MB, bench/run import), so up to here the full report costs little and every existing console
#: output stays exactly as it was.
LARGE_AUDIT = 2_000
#: Devices the cut summary lists, the most severe first: one screenful or two.
CUT_LIST = 50


def _exit_code(
    result: AuditReport | AuditCounts, fail_on: Severity, *, exit_zero: bool
) -> ExitCode:
    """auditor.exitcodes.exit_code_for, also for an audit summarised from its counts."""
    if isinstance(result, AuditReport):
        return exit_code_for(result, fail_on, exit_zero=exit_zero)
    if exit_zero:
        return ExitCode.CLEAN
    if result.worst >= fail_on:
        return ExitCode.EXPOSURE_FOUND
    if result.incomplete or result.audit.channel_failures:
        return ExitCode.INCOMPLETE
    return ExitCode.CLEAN


#: Seconds per network operation when neither --timeout nor a resumed audit says otherwise.
DEFAULT_TIMEOUT = 3.0


def run_scan(args: argparse.Namespace) -> ExitCode:
    if not args.targets and args.from_nmap is None and args.from_csv is None and not args.resume:
        raise UsageError("give at least one TARGET (or --from-nmap/--from-csv, or --resume)")
    db_path: Path | str = args.db or default_db()
    resume = AuditId(args.resume) if args.resume else None
    targets, excludes, profile = tuple(args.targets), tuple(args.exclude), Audience(args.profile)
    ports = args.ports or PortPlan.default()
    site = args.site or "default"
    rate: float | None = args.rate
    timeout: float | None = args.timeout
    allow_large, allow_public = bool(args.allow_large_scope), bool(args.allow_public)
    if resume is not None:
        # Resume repeats the stored audit's scope and settings; only runtime options may change.
        with Store(db_path) as store:
            resume = store.resolve_audit(resume)  # a unique prefix is enough, as in `report`
            info = store.load_audit_info(resume)
        if info.finished is not None and not info.channel_failures:
            raise UsageError(f"audit {resume} is already finished; nothing to resume")
        if not info.targets and args.from_nmap is None and args.from_csv is None:
            # An audit without targets was an offline import: its hosts are only in the file.
            # Resumed without it, the audit would be finished with what was saved.
            raise UsageError(
                f"audit {resume} imported a file without targets; give the same --from-nmap / "
                "--from-csv file again to finish it (hosts already saved are passed over)"
            )
        targets, excludes, profile, site = info.targets, info.excludes, info.profile, info.site
        # As gentle as the original run on a fragile network, unless told otherwise now.
        rate = rate if rate is not None else info.rate
        timeout = timeout if timeout is not None else info.timeout
        allow_large = allow_large or info.allow_large
        allow_public = allow_public or info.allow_public
        if info.port_spec:
            ports = PortPlan.parse(info.port_spec)
        elif info.ports:
            ports = PortPlan.from_ports(info.ports)
    config = AuditConfig(
        targets=targets,
        excludes=excludes,
        db_path=db_path,
        site=site,
        profile=profile,
        ports=ports,
        timeout=timeout if timeout is not None else DEFAULT_TIMEOUT,
        rate=rate,
        credentials=_credentials(args),
        allow_large=allow_large,
        allow_public=allow_public,
        interfaces=tuple(args.interface),
        imported=_imported(args),
        resume=resume,
    )
    result = _run(config, args, "console")
    return _exit_code(result, Severity.from_label(args.fail_on), exit_zero=args.exit_zero)


def run_demo(args: argparse.Namespace) -> ExitCode:
    # The demo lands in the same store as a real scan (--db, $CAMAUDIT_DB or the data folder),
    # under its own site name, so `camaudit audits`, `report` and `diff` work on it next.
    db_path: Path | str = args.db or default_db()
    kept = True
    with contextlib.ExitStack() as stack:
        if args.db is None and not os.environ.get(ENV_DB) and isinstance(db_path, Path):
            problem = _unwritable(db_path)
            if problem:
                # A demo must run anywhere (a read-only home, a container): it still runs, in a
                # store that goes away with it, and says so.
                make_console().print(
                    f"camaudit: cannot keep the demo audit in {db_path} ({problem}); it goes to "
                    "a temporary store instead (give --db PATH to keep it)",
                    soft_wrap=True,
                )
                tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="camaudit-demo-"))
                db_path, kept = Path(tmp) / "demo.db", False
        report = _run_demo(args, db_path)
    if args.quiet == 0 and kept:
        make_console().print(
            f"camaudit: demo audit {report.audit.id} is in the store {describe(db_path)}. Next: "
            "`camaudit audits`, `camaudit report -f json -o -`; after another demo, "
            f"`camaudit diff {report.audit.id} <the new audit>`.",
            soft_wrap=True,
        )
    return ExitCode.CLEAN


def _unwritable(db_path: Path) -> str | None:
    """Why a store cannot be written at ``db_path``, or None when it can."""
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return exc.strerror or str(exc)
    target = db_path if db_path.exists() else db_path.parent
    if not os.access(target, os.W_OK):
        return "not writable"
    return None


def _run_demo(args: argparse.Namespace, db_path: Path | str) -> AuditReport | AuditCounts:
    from auditor.lab import DEMO_DEVICES, LoopbackSite

    with LoopbackSite(DEMO_DEVICES) as site:
        user, password = site.credentials
        # The lab's own, published test credentials: they show what credentialed probes add.
        creds = CredentialStore(default=Credential(user, Secret(password)))
        config = AuditConfig(
            targets=site.targets,
            db_path=db_path,
            site=DEMO_SITE,
            profile=Audience(args.profile),
            ports=site.port_plan,
            timeout=2.0,
            credentials=creds,
            multicast=False,
        )
        if args.output is None and not args.formats:
            args.output = "camaudit-demo.html"
        if not args.formats:
            args.formats = ["console", "html"] if args.output != "-" else ["html"]
        # A dozen devices: always the full console report.
        return _run(config, args, "html", large_at=sys.maxsize)
