"""The `camaudit` command line: argument parsing, logging and error rendering. Thin glue only."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.logging import RichHandler

from auditor import __version__, resources
from auditor.cli import data, fingerprints, history, identify, lab, lists, push, scan
from auditor.cli.console import clean, make_console
from auditor.cli.logtext import SanitiseDeviceText
from auditor.errors import CamauditError
from auditor.exitcodes import ExitCode, help_text

#: The one place a command group is registered.
COMMAND_MODULES = (scan, identify, history, push, lists, data, fingerprints, lab)

EPILOG = (
    help_text()
    + """

camaudit is read-only: it never changes a device, never guesses credentials and never
contacts an address outside the targets you give it."""
)

logger = logging.getLogger("auditor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="camaudit",
        description="Audit a camera network for supply-chain and sanctions risk: who really made "
        "each camera, NVR and DVR, and what that means for your organisation.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"camaudit {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more detail (-vv for debug)"
    )
    parser.add_argument("-q", "--quiet", action="count", default=0, help="errors only")
    parser.add_argument(
        "--data-dir",
        dest="global_data_dir",
        type=Path,
        metavar="DIR",
        help="the data folder with installed data bundles, for every command (default: "
        "$CAMAUDIT_DATA_DIR, else the user's data folder)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module in COMMAND_MODULES:
        module.register(sub)
    return parser


def _configure_logging(verbose: int, quiet: int) -> None:
    level = logging.WARNING - 10 * verbose + 10 * quiet
    level = max(logging.DEBUG, min(logging.CRITICAL, level))
    handler = RichHandler(console=make_console(), show_path=False, show_time=verbose > 1)
    # Messages quote device text (URLs, banners): sanitised like the console report.
    handler.addFilter(SanitiseDeviceText())
    # The package logger only: camaudit used as a library must not touch the root logger.
    logger.handlers[:] = [handler]
    logger.setLevel(level)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage and 0 on --help
        return int(exc.code or 0)
    _configure_logging(args.verbose, args.quiet)
    # Every run starts from its own --data-dir (or none), never from an earlier run's.
    resources.use_data_root(args.global_data_dir)
    func: Callable[[argparse.Namespace], ExitCode] = args.func
    console = make_console()
    try:
        return int(func(args))
    except CamauditError as exc:
        console.print(f"[bold red]camaudit: error:[/] {clean(exc)}", soft_wrap=True)
        if args.verbose:
            console.print_exception()
        return int(ExitCode.USAGE_ERROR)
    except KeyboardInterrupt:
        console.print("camaudit: interrupted")
        return int(ExitCode.INTERRUPTED)
    except Exception as exc:
        if args.verbose:
            console.print_exception()
        else:
            console.print(
                f"[bold red]camaudit: internal error:[/] {type(exc).__name__}: {clean(exc)} "
                "(run with -v for the traceback, and please report it)"
            )
        return int(ExitCode.INTERNAL_ERROR)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
