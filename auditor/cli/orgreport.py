"""`camaudit report --site NAME` and, on a central store, `report --all-sites`: the organisation
view (every site's latest audit, makers, and each site's trend), counted in the database."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from auditor.cli.console import clean, make_console, report_written
from auditor.errors import ConfigError, UsageError
from auditor.exitcodes import ExitCode
from auditor.history.combine import DEMO_SITE
from auditor.render.org_format import ORG_FORMATS, print_console, render
from auditor.render.output import _write_atomically as write_file
from auditor.store import Store
from auditor.store import location as loc
from auditor.store.org import OrgView, store_view
from auditor.store.paths import default_db

_SUFFIX = {"console": "txt", "json": "json", "markdown": "md", "html": "html"}


def wants_org_view(args: argparse.Namespace) -> bool:
    """--site always; --all-sites on a central (PostgreSQL) store, where loading every device of
    every site would not fit in memory. On a local file --all-sites combines the full reports."""
    if getattr(args, "site", None) is not None:
        return True
    return bool(args.all_sites) and loc.is_url(args.db or default_db())


def _check(args: argparse.Namespace) -> list[str]:
    if args.audits:
        raise UsageError("give audit ids, --site or --all-sites, one of them")
    if args.site is not None and args.all_sites:
        raise UsageError("give --site or --all-sites, not both")
    if args.profile is not None or args.as_recorded:
        raise UsageError(
            "the organisation view counts the assessment stored with each audit; --profile "
            "and --as-recorded apply to `camaudit report AUDIT`"
        )
    formats = list(dict.fromkeys(args.formats or ["console"]))
    other = [f for f in formats if f not in ORG_FORMATS]
    if other:
        raise UsageError(
            f"the organisation view renders as {', '.join(ORG_FORMATS)}, not "
            f"{', '.join(other)}; for a device-level report give an audit id"
        )
    return formats


def _view(args: argparse.Namespace) -> tuple[OrgView, str]:
    where = args.db or default_db()
    if isinstance(where, Path) and not where.exists():
        raise ConfigError(f"no audit store at {where}; run `camaudit scan` first, or use --db")
    with Store(where, read_only=True) as store:
        sites = [args.site] if args.site is not None else None
        view = store_view(store, sites, leave_out=DEMO_SITE)
        location = store.location
    if not view.sites:
        what = f"site {args.site!r}" if args.site is not None else "any site"
        raise ConfigError(f"no audits of {what} in {location} (see `camaudit audits`)")
    return view, location


def run(args: argparse.Namespace) -> ExitCode:
    formats = _check(args)
    view, _ = _view(args)
    err = make_console()
    if view.left_out:
        err.print(f"camaudit: leaving out the demo site ({DEMO_SITE})")
    output: str | None = args.output
    if len(formats) > 1 and output in (None, "-"):
        raise UsageError("several formats need -o BASE (each format's suffix is added)")
    for fmt in formats:
        if output in (None, "-"):
            if fmt == "console" and sys.stdout.isatty():
                print_console(view, make_console(stderr=False))
            else:
                sys.stdout.buffer.write(render(view, fmt, args.template_dir))
                sys.stdout.flush()
            continue
        assert output is not None
        target = Path(output)
        if len(formats) > 1:
            target = target.with_suffix("") if target.suffix else target
            target = target.parent / f"{target.name}.{_SUFFIX[fmt]}"
        write_file(target, render(view, fmt, args.template_dir))
        err.print(report_written(clean(str(target))), soft_wrap=True)
    return ExitCode.CLEAN
