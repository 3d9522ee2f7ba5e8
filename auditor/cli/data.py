"""`camaudit data status|update|use|diff`: the reviewed data, its age, and signed updates."""

from __future__ import annotations

import argparse
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from rich import box
from rich.table import Table
from rich.text import Text

from auditor import clock, resources, vulns
from auditor.cli.console import clean, make_console
from auditor.databundle import (
    BundleError,
    DataDir,
    diff_data,
    install,
    read_bundle,
    signing,
)
from auditor.databundle.ieee_local import install_ieee, looks_like_ieee
from auditor.databundle.manifest import DATA_PREFIX
from auditor.errors import UsageError
from auditor.exitcodes import ExitCode
from auditor.vulns.assess import MAX_AGE_DAYS as VULN_MAX_AGE


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="the data folder holding installed bundles (default: $CAMAUDIT_DATA_DIR, else "
        "the user's data folder); point every command at it with $CAMAUDIT_DATA_DIR",
    )


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "data",
        help="the reviewed data in use (version, age, sources) and signed data bundle updates",
    )
    dsub = p.add_subparsers(dest="data_command", metavar="COMMAND", required=True)
    st: argparse.ArgumentParser = dsub.add_parser(
        "status", help="the data in use: versions, as-of dates, age, sources, installed bundles"
    )
    _add_data_dir(st)
    st.set_defaults(func=run_status)
    up: argparse.ArgumentParser = dsub.add_parser(
        "update",
        help="install a signed data bundle (a .tar.gz file or an unpacked folder), or build the "
        "MAC registry from a folder of the IEEE's CSV files (e.g. /usr/share/ieee-data)",
        description="Verify a data bundle against the signing keys shipped with camaudit and "
        "install it into the data folder. A bundle that is unsigned, signed by another key, "
        "altered after signing or unreadable is refused and nothing changes.",
    )
    up.add_argument("bundle", type=Path, metavar="FILE|DIR|IEEE-DIR")
    up.add_argument(
        "--allow-older",
        action="store_true",
        help="install a bundle older than the active one (going back on purpose)",
    )
    _add_data_dir(up)
    up.set_defaults(func=run_update)
    use: argparse.ArgumentParser = dsub.add_parser(
        "use", help="switch to an installed bundle, or back to the data shipped with camaudit"
    )
    use.add_argument("version", metavar="VERSION|shipped")
    _add_data_dir(use)
    use.set_defaults(func=run_use)
    df: argparse.ArgumentParser = dsub.add_parser(
        "diff", help="what facts, listings, brands and MAC prefixes differ between two data sets"
    )
    df.add_argument("old", metavar="A", help="a bundle file or folder, 'shipped' or 'active'")
    df.add_argument("new", metavar="B", help="a bundle file or folder, 'shipped' or 'active'")
    _add_data_dir(df)
    df.set_defaults(func=run_diff)
    kev: argparse.ArgumentParser = dsub.add_parser(
        "import-kev",
        help="import CISA's Known Exploited Vulnerabilities catalogue (JSON or CSV)",
        description="Import the KEV catalogue you downloaded from "
        "https://www.cisa.gov/known-exploited-vulnerabilities-catalog (JSON or CSV) into the "
        "data folder; it replaces the catalogue imported before. Every audit and report then "
        "marks the devices whose firmware carries a known-exploited flaw.",
    )
    kev.add_argument("file", type=Path, metavar="FILE")
    _add_data_dir(kev)
    kev.set_defaults(func=run_import_kev)
    cve: argparse.ArgumentParser = dsub.add_parser(
        "import-cve",
        help="import CVE records with their affected products and versions (NVD CVE API 2.0 "
        "JSON and/or CVE List v5 JSON)",
        description="Import CVE records (NVD CVE API 2.0 responses or records, CVE List v5 "
        "records, or JSON lists of them) into the data folder. A record replaces an earlier "
        "import of the same CVE. One unreadable file imports nothing.",
    )
    cve.add_argument("files", type=Path, nargs="+", metavar="FILE")
    _add_data_dir(cve)
    cve.set_defaults(func=run_import_cve)


def _root(args: argparse.Namespace) -> Path:
    if args.data_dir is not None:
        resources.use_data_root(args.data_dir)
    return resources.data_root()


def _out() -> Any:
    out = make_console(stderr=False)
    if not out.is_terminal:
        out.width = max(out.width, 160)
    return out


def _age(days: int, limit: int) -> Text:
    if days > limit:
        return Text(f"{days} STALE", style="bold red")
    return Text(str(days))


def run_status(args: argparse.Namespace) -> ExitCode:
    root = _root(args)
    today = clock.today()
    out = _out()
    store = DataDir(root)
    shipped = resources._shipped_meta()
    limit = shipped.max_age_days
    try:
        use = resources.data_in_use()
        problem = ""
    except BundleError as exc:
        use, problem = None, str(exc)
    table = Table(title=f"camaudit data (data folder {clean(root)})", box=box.SIMPLE_HEAD)
    for col in ("data", "version", "as of", "age (days)", "components", "signed by", "in use"):
        table.add_column(col)
    table.add_row(
        "shipped with camaudit",
        shipped.version,
        shipped.as_of.isoformat(),
        _age((today - shipped.as_of).days, limit),
        "regulatory, brands, oui, fingerprints",
        "-",
        "yes" if use is not None and use.bundle is None else "",
    )
    keys = signing.trusted_keys()
    active = store.active_version() if not problem else None
    for version in store.versions():
        try:
            installed = store.open(version, keys)
        except BundleError:
            table.add_row(
                f"bundle {clean(version)}", "-", "-", "-", "-", Text("FAILS ITS CHECK", "red"), ""
            )
            continue
        m = installed.manifest
        in_use = use is not None and use.bundle is not None and use.bundle.path == installed.path
        table.add_row(
            f"bundle {clean(version)}" + (" (active)" if version == active else ""),
            m.version,
            m.as_of.isoformat(),
            _age((today - m.as_of).days, limit),
            ", ".join(m.components),
            installed.key_id,
            "yes" if in_use else "",
        )
    out.print(table)
    if use is not None:
        parts = Table(title="The data in use, part by part", box=box.SIMPLE_HEAD)
        for col in ("part", "version", "as of", "age (days)", "from"):
            parts.add_column(col)
        for p in resources.part_dates():
            parts.add_row(
                p.part,
                clean(p.version),
                p.as_of.isoformat() if p.as_of else "-",
                _age((today - p.as_of).days, limit) if p.as_of else Text("-"),
                p.origin,
            )
        out.print(parts)
        out.print(f"In use: {clean(use.label())}, as of {use.as_of} ", soft_wrap=True)
        if use.bundle is not None:
            for source in use.bundle.manifest.sources:
                out.print(f"  source: {clean(source)}", soft_wrap=True)
            for note in use.bundle.manifest.notes:
                out.print(f"  note: {clean(note)}", soft_wrap=True)
        if use.note:
            out.print(f"[yellow]note:[/] {clean(use.note)}", soft_wrap=True)
        age = (today - use.as_of).days
        if age > limit:
            out.print(
                f"[bold red]Stale data:[/] the data in use is {age} days old (more than {limit}); "
                f"install a current bundle with `{resources.UPDATE_COMMAND}`.",
                soft_wrap=True,
            )
    vuln_table = Table(
        title="Vulnerability data (camaudit data import-kev / import-cve)", box=box.SIMPLE_HEAD
    )
    for col in ("data", "file", "entries", "as of", "age (days)", "sha256"):
        vuln_table.add_column(col)
    try:
        # The user's imports and, when the bundle in use carries some, the bundle's.
        vuln_sets = vulns.VulnAssessor.load(root, today=today).data.datasets
    except (vulns.VulnDataError, BundleError) as exc:
        vuln_sets = ()
        problem = problem or str(exc)
    for ds in vuln_sets:
        vuln_table.add_row(
            "CISA KEV catalogue" if ds.kind == "kev" else "CVE records",
            clean(ds.file_name),
            str(ds.entries),
            ds.as_of.isoformat() if ds.as_of else "unknown",
            (
                _age((today - ds.as_of).days, VULN_MAX_AGE)
                if ds.kind == "kev"
                else Text(str((today - ds.as_of).days))
            )
            if ds.as_of
            else Text("-"),
            ds.sha256[:16],
        )
    if vuln_sets:
        out.print(vuln_table)
    else:
        out.print("No vulnerability data imported: `camaudit data import-kev FILE`.")
    out.print(
        "Sources of each fact: fingerprints/regulatory/*.yaml (every entry cites one); "
        "official lists: `camaudit lists status`.",
        soft_wrap=True,
    )
    if problem:
        out.print(f"[bold red]error:[/] {clean(problem)}", soft_wrap=True)
        return ExitCode.USAGE_ERROR
    return ExitCode.CLEAN


def run_update(args: argparse.Namespace) -> ExitCode:
    root = _root(args)
    path: Path = args.bundle
    if not path.exists():
        raise UsageError(f"{path}: no such file or folder")
    if looks_like_ieee(path):
        return _update_ieee(path, root)
    installed = install(path, root=root, now=datetime.now(UTC), allow_older=args.allow_older)
    resources.forget_loaded_data()
    m = installed.manifest
    out = _out()
    out.print(
        f"installed data bundle {m.version} (data as of {m.as_of}; {', '.join(m.components)}; "
        f"{len(m.files)} files; signed by key {installed.key_id}) into {clean(installed.path)}",
        soft_wrap=True,
    )
    use = resources.data_in_use()
    if use.bundle is None:
        out.print(f"[yellow]warning:[/] not used: {clean(use.note)}", soft_wrap=True)
    else:
        out.print("it is now the data in use, and every report names it")
    return ExitCode.CLEAN


def _update_ieee(folder: Path, root: Path) -> ExitCode:
    registry = resources.ieee_registry_path(root)
    rows, as_of = install_ieee(folder, registry, datetime.now(UTC))
    resources.forget_loaded_data()
    out = _out()
    out.print(
        f"built the MAC registry from the IEEE files in {clean(folder)}: {rows} prefixes, "
        f"as of {as_of}, into {clean(registry)}",
        soft_wrap=True,
    )
    use = resources.data_in_use()
    if use.ieee is None:
        out.print(f"[yellow]warning:[/] not used: {clean(use.ieee_note)}", soft_wrap=True)
    else:
        out.print("it is now the MAC registry in use, and every report names it")
    return ExitCode.CLEAN


def run_use(args: argparse.Namespace) -> ExitCode:
    root = _root(args)
    store = DataDir(root)
    version = None if args.version == "shipped" else args.version
    if version is not None:
        store.open(version, signing.trusted_keys())  # refuse a missing or failing bundle up front
    store.use(version, datetime.now(UTC))
    if version is None:
        # Back to exactly the shipped data: the registry built from IEEE files goes too.
        resources.ieee_registry_path(root).unlink(missing_ok=True)
    resources.forget_loaded_data()
    _out().print(f"now using {'the shipped data' if version is None else f'bundle {version}'}")
    return ExitCode.CLEAN


def run_import_kev(args: argparse.Namespace) -> ExitCode:
    root = _root(args)
    path: Path = args.file
    if not path.is_file():
        raise UsageError(f"{path}: no such file")
    ds = vulns.import_kev(root, path)
    _out().print(
        f"imported the KEV catalogue {clean(ds.file_name)}: {ds.entries} entries, "
        f"as of {ds.as_of or 'unknown'} ({clean(ds.detail)}), sha256 {ds.sha256[:16]}, into "
        f"{clean(root / 'vulns')}",
        soft_wrap=True,
    )
    return ExitCode.CLEAN


def run_import_cve(args: argparse.Namespace) -> ExitCode:
    root = _root(args)
    for path in args.files:
        if not path.is_file():
            raise UsageError(f"{path}: no such file")
    out = _out()
    for ds in vulns.import_cve(root, args.files):
        out.print(
            f"imported {clean(ds.file_name)}: {ds.entries} CVE record(s) ({clean(ds.detail)}), "
            f"updated up to {ds.as_of or 'unknown'}, sha256 {ds.sha256[:16]}",
            soft_wrap=True,
        )
    return ExitCode.CLEAN


def _side(spec: str, stack: ExitStack, out: Any) -> tuple[Traversable, str]:
    if spec == "shipped":
        return resources.shipped_fingerprints_dir(), "shipped data"
    if spec == "active":
        use = resources.data_in_use()
        return resources.fingerprints_dir(), use.label()
    path = Path(spec)
    if not path.exists():
        raise UsageError(f"{spec}: not a bundle file or folder, 'shipped' or 'active'")
    bundle = read_bundle(path, (), require_signature=False)
    try:
        read_bundle(path, signing.trusted_keys())
        trust = "signature verified"
    except BundleError as exc:
        trust = "NOT VERIFIED"
        out.print(f"[yellow]warning:[/] {clean(exc)}", soft_wrap=True)
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="camaudit-diff-")))
    for name, data in bundle.files.items():
        dest = folder / DATA_PREFIX / name
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(data)
    m = bundle.manifest
    label = f"bundle {m.version} (as of {m.as_of}, {trust})"
    return resources.layered(folder / DATA_PREFIX.rstrip("/"), frozenset(m.components)), label


def run_diff(args: argparse.Namespace) -> ExitCode:
    _root(args)
    out = _out()
    with ExitStack() as stack:
        old, old_label = _side(args.old, stack, out)
        new, new_label = _side(args.new, stack, out)
        result = diff_data(old, new, old_label, new_label)
    out.print(
        Text.assemble(("From ", "bold"), clean(old_label), ("  to  ", "bold"), clean(new_label))
    )
    if not result.changes:
        out.print("No fact, listing, brand, MAC prefix or file differs.")
        return ExitCode.CLEAN
    titles = {
        "listing": "Listings (entity x instrument)",
        "instrument": "Instruments",
        "entity": "Entities",
        "brand": "Brands",
        "oui": "MAC prefixes",
        "file": "Files",
    }
    for kind, title in titles.items():
        rows = result.of(kind)
        if not rows:
            continue
        table = Table(
            title=f"{title}: {len(rows)} changed", title_justify="left", box=box.SIMPLE_HEAD
        )
        for col in ("", "what", "detail"):
            table.add_column(col, overflow="fold")
        for c in rows[:200]:
            sign = {"added": "+", "removed": "-", "changed": "~"}[c.change]
            table.add_row(sign, Text(clean(c.key)), Text(clean(c.detail)))
        if len(rows) > 200:
            table.add_row("", f"... and {len(rows) - 200} more", "")
        out.print(table)
    return ExitCode.CLEAN
