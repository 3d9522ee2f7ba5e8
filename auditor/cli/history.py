"""`camaudit audits`, `report` and `diff`: work with audits kept in the store."""

from __future__ import annotations

import argparse
import io
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from auditor import clock, resources
from auditor.cli import diff_output, orgreport
from auditor.cli.common import (
    add_db_option,
    add_gate_options,
    add_output_options,
    add_profile_option,
)
from auditor.cli.console import clean, make_console, report_written
from auditor.cli.stored import rendered_again
from auditor.errors import ConfigError, NotBuiltError, UsageError
from auditor.exitcodes import ExitCode, why_incomplete
from auditor.history.combine import DEMO_SITE, SAME_SITE, combine
from auditor.history.compare import diff
from auditor.models import Audience, AuditId, AuditReport, DeviceResult, Severity
from auditor.render.interface import FormatName
from auditor.render.output import STREAMED, StoredAudit, write_reports, write_stored
from auditor.render.output import _write_atomically as write_file
from auditor.store import Store
from auditor.store.paths import default_db
from auditor.vulns import VulnAssessor
from auditor.vulns.assess import DATA_NAME as VULN_DATA
from auditor.vulns.matching import VulnMatcher

if TYPE_CHECKING:
    from auditor.exposure import Assessor

DIFF_FORMATS = ("console", "json", "markdown")


def register(sub: Any) -> None:
    a: argparse.ArgumentParser = sub.add_parser("audits", help="list the audits in the store")
    add_db_option(a)
    a.set_defaults(func=run_audits)

    r: argparse.ArgumentParser = sub.add_parser(
        "report",
        help="render a stored audit again, in any format, without rescanning",
        description="Render stored audits again, in any format, without rescanning. Several "
        "audit ids (or --all-sites) combine site audits into one organisation-wide report.",
    )
    r.add_argument(
        "audits",
        nargs="*",
        metavar="AUDIT",
        help="audit id or a unique prefix of one (default: the latest); several ids combine "
        "those audits into one organisation-wide report",
    )
    r.add_argument(
        "--all-sites",
        action="store_true",
        help="combine the latest audit of every site into one organisation-wide report; on a "
        "central (postgresql://) store: the organisation view, counted in the database",
    )
    r.add_argument(
        "--site",
        metavar="NAME",
        help="the organisation view of one site: its latest audit's counts, its makers and its "
        "trend over every audit (console, json, markdown or html)",
    )
    add_output_options(r, default_format="console")
    add_profile_option(r)
    # No --profile: re-assess for each audit's own audience; with it, for that audience.
    r.set_defaults(profile=None)
    r.add_argument(
        "--as-recorded",
        action="store_true",
        help="render the assessment stored with the audit, without the official lists imported "
        "or the data installed since (the report says which were not applied)",
    )
    add_db_option(r)
    r.set_defaults(func=run_report)

    d: argparse.ArgumentParser = sub.add_parser(
        "diff",
        help="new, gone and changed devices and exposures between two audits",
        description="New, gone and changed devices and exposures between two audits. Devices "
        "are matched by serial, then MAC, then address, then (when only one fits) by what they "
        "are or the banners they present. Exits 1 when a new or worsened exposure reaches "
        "--fail-on, 3 when the later audit is incomplete, as `scan` does.",
    )
    d.add_argument("old", metavar="A", help="the earlier audit (id or unique prefix)")
    d.add_argument("new", metavar="B", help="the later audit (id or unique prefix)")
    d.add_argument(
        "-f",
        "--format",
        dest="diff_format",
        choices=DIFF_FORMATS,
        default="console",
        metavar="FORMAT",
        help="console, json (schema in reports/schema/) or markdown (default: console)",
    )
    d.add_argument(
        "-o", "--output", metavar="PATH", help="write to this file instead of stdout ('-')"
    )
    add_gate_options(d)
    add_db_option(d)
    d.set_defaults(func=run_diff)


def _stdout() -> Console:
    out = make_console(stderr=False)
    if not out.is_terminal:
        # Piped or redirected: do not squeeze ids and dates into 80 columns.
        out.width = 160
    return out


def _open_store(args: argparse.Namespace) -> tuple[Store, Path | str]:
    where: Path | str = args.db or default_db()
    if isinstance(where, Path) and not where.exists():
        raise ConfigError(
            f"no audit store at {where}; run `camaudit scan` or `camaudit demo` first, "
            "or point --db at one"
        )
    return Store(where, read_only=True), where


def run_audits(args: argparse.Namespace) -> ExitCode:
    store, path = _open_store(args)
    with store:
        audits = store.list_audits()
    out = _stdout()
    if not audits:
        out.print(f"No audits in {store.location} yet.")
        return ExitCode.CLEAN
    table = Table(title=f"Audits in {store.location}", title_justify="left", box=box.SIMPLE_HEAD)
    for col in (
        "audit",
        "site",
        "started (UTC)",
        "finished (UTC)",
        "devices",
        "incomplete",
        "profile",
    ):
        table.add_column(col, justify="right" if col in ("devices", "incomplete") else "left")
    for s in audits:
        table.add_row(
            Text(clean(s.id)),
            Text(clean(s.site)),
            f"{s.started:%Y-%m-%d %H:%M}",
            f"{s.finished:%Y-%m-%d %H:%M}" if s.finished else Text("interrupted", style="yellow"),
            str(s.devices),
            str(s.incomplete),
            s.profile.value,
        )
    out.print(table)
    return ExitCode.CLEAN


def _assessor(db_path: Path | str) -> Assessor:
    try:
        from auditor.exposure import Assessor
    except ImportError as exc:
        raise NotBuiltError(f"re-assessing a stored audit is not available ({exc})") from exc
    return Assessor.load(db_path, today=clock.today())


def _reassess_all(
    reports: list[AuditReport], profile: Audience | None, db_path: Path | str
) -> list[AuditReport]:
    """Each audit assessed again, for ``profile`` or its own audience, with today's data."""
    assessor = _assessor(db_path)  # one load for every audit
    from auditor.exposure import reassess

    return [reassess(r, profile or r.audit.profile, assessor) for r in reports]


def _not_applied(report: AuditReport, db_path: Path | str) -> AuditReport:
    """The stored assessment, saying plainly which newer lists and data it does not reflect."""
    from auditor.exposure.liststore import current_imports
    from auditor.resources import BUNDLE_DATA, data_in_use

    started = report.audit.started
    newer = [r for r in current_imports(db_path) if r.imported_at > started]
    recorded = {v.name: v.version for v in report.audit.data_versions}
    label = data_in_use().label()
    parts = []
    if newer:
        parts.append(
            "the official lists imported since the audit ("
            + ", ".join(f"{r.kind} {r.file_name}, {r.imported_at:%Y-%m-%d}" for r in newer)
            + ")"
        )
    if recorded.get(BUNDLE_DATA) != label:
        parts.append(f"the data now in use ({label})")
    vulns_now = VulnAssessor.load(resources.data_root(), today=clock.today()).data_versions()
    vulns_then = {v.version for v in report.audit.data_versions if v.name.startswith(VULN_DATA)}
    changed = [v for v in vulns_now if v.version not in vulns_then]
    if changed:
        parts.append(
            "the vulnerability data imported since ("
            + ", ".join(f"{v.version.split(' sha256:')[0]} as of {v.as_of}" for v in changed)
            + ")"
        )
    if not parts:
        return report
    note = (
        f"As recorded on {started:%Y-%m-%d}: NOT APPLIED to this assessment: "
        + " and ".join(parts)
        + ". Run `camaudit report` without --as-recorded to apply them."
    )
    return replace(report, notes=(*report.notes, note))


def run_report(args: argparse.Namespace) -> ExitCode:
    if orgreport.wants_org_view(args):
        return orgreport.run(args)
    if args.all_sites and args.audits:
        raise UsageError("give audit ids or --all-sites, not both")
    store, path = _open_store(args)
    with store:
        if args.all_sites:
            sites = sorted({s.site for s in store.list_audits()})
            if DEMO_SITE in sites and len(sites) > 1:
                # The emulated demo site is no part of the organisation.
                sites.remove(DEMO_SITE)
                make_console().print(f"camaudit: leaving out the demo site ({DEMO_SITE})")
            ids = [aid for site in sites if (aid := store.latest_audit(site)) is not None]
        elif args.audits:
            ids = list(dict.fromkeys(store.resolve_audit(a) for a in args.audits))
        else:
            latest = store.latest_audit()
            ids = [latest] if latest is not None else []
        if not ids:
            raise ConfigError(f"no audits in {store.location} yet; run `camaudit scan` first")
        profile = Audience(args.profile) if args.profile else None
        if args.as_recorded and profile is not None:
            raise UsageError("--as-recorded keeps the stored assessment; it cannot take --profile")
        formats = [FormatName(f) for f in (args.formats or [FormatName.CONSOLE.value])]
        reports: list[AuditReport] = []
        if len(ids) == 1 and any(f in STREAMED for f in formats):
            # JSON and CSV are written device by device from the store (issue 16).
            audit = _rendered_again(store, ids[0], args, path, profile)
            _say_same_site(audit.head)
            written = write_stored(audit, formats, args.output, args.template_dir, args.detail)
        else:
            reports = [store.load_report(i) for i in ids]
    if reports:
        report = _prepared(reports, args, path, profile)
        _say_same_site(report)
        written = write_reports(report, formats, args.output, args.template_dir, args.detail)
    err = make_console()
    for target in written:
        if target != "-":
            err.print(report_written(target), soft_wrap=True)
    return ExitCode.CLEAN


def _prepared(
    reports: list[AuditReport], args: argparse.Namespace, path: Path | str, profile: Audience | None
) -> AuditReport:
    """Stored audits as `report` renders them: assessed again (or as recorded), combined."""
    if args.as_recorded:
        reports = [_not_applied(r, path) for r in reports]
    else:
        # Lists imported and data installed since the scan take effect on every re-render.
        reports = _reassess_all(reports, profile, path)
    report = combine(reports, profile)
    if not args.as_recorded:
        # Known-vulnerability findings again, from the KEV and CVE data imported now.
        report = VulnAssessor.load(resources.data_root(), today=clock.today()).attach(report)
    return report


def _rendered_again(
    store: Store,
    audit_id: AuditId,
    args: argparse.Namespace,
    path: Path | str,
    profile: Audience | None,
) -> StoredAudit:
    """One stored audit as _prepared renders it, device by device: the head (which alone bears
    the notes and data versions) through the same steps, each device as it is read."""
    head = store.load_head(audit_id)

    def load() -> AuditReport:
        return _prepared([store.load_report(audit_id)], args, path, profile)

    if args.as_recorded:
        return rendered_again(store, audit_id, _not_applied(head, path), lambda d: d, load)
    assessor = _assessor(path)
    from auditor.exposure import reassess

    head = reassess(head, profile or head.audit.profile, assessor)
    vulns = VulnAssessor.load(resources.data_root(), today=clock.today())
    head = vulns.attach(head)
    audience, matcher = head.audit.profile, VulnMatcher(vulns.data)

    def device(d: DeviceResult) -> DeviceResult:
        # reassess's and attach's steps for one device.
        assessed = assessor.assess(d.identification, audience)
        d = replace(d, exposures=assessed.exposures, remediation=assessed.remediation)
        return vulns.device(d, matcher, audience)

    return rendered_again(store, audit_id, head, device, load)


def _say_same_site(report: AuditReport) -> None:
    err = make_console()
    for note in report.notes:
        if note.startswith(SAME_SITE):
            err.print(f"camaudit: {clean(note)}", soft_wrap=True)


def run_diff(args: argparse.Namespace) -> ExitCode:
    store, _ = _open_store(args)
    with store:
        old = store.load_report(store.resolve_audit(args.old))
        new = store.load_report(store.resolve_audit(args.new))
    result = diff(old, new)
    fail_on = Severity.from_label(args.fail_on)
    # The new audit decides completeness: an exposure it could not see is not "no change".
    incomplete = why_incomplete(new)
    if args.exit_zero:
        code = ExitCode.CLEAN
    elif result.escalations(fail_on):
        code = ExitCode.EXPOSURE_FOUND
    elif incomplete:
        code = ExitCode.INCOMPLETE
    else:
        code = ExitCode.CLEAN
    fmt = args.diff_format
    if fmt == "console" and args.output in (None, "-"):
        diff_output.print_console(result, _stdout(), fail_on, incomplete)
        return code
    if fmt == "console":
        console = Console(record=True, width=160, file=io.StringIO(), no_color=True)
        diff_output.print_console(result, console, fail_on, incomplete)
        data = console.export_text().encode("utf-8")
    elif fmt == "json":
        data = diff_output.render_json(result, fail_on, int(code), incomplete)
    else:
        data = diff_output.render_markdown(result, fail_on, incomplete)
    if args.output in (None, "-"):
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
    else:
        write_file(Path(args.output), data)
    return code
