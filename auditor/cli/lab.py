"""`camaudit lab up|down|status`: emulated camera sites in network namespaces."""

from __future__ import annotations

import argparse
from typing import Any

from auditor.errors import NotBuiltError
from auditor.exitcodes import ExitCode


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "lab", help="run an emulated camera site (namespace mode needs root)"
    )
    lsub = p.add_subparsers(dest="lab_command", metavar="COMMAND", required=True)
    up: argparse.ArgumentParser = lsub.add_parser("up", help="build and start a lab site")
    up.add_argument("--devices", type=int, default=None, metavar="N")
    up.add_argument("--subnet", default=None, metavar="CIDR")
    up.set_defaults(func=run_up)
    down: argparse.ArgumentParser = lsub.add_parser("down", help="remove everything the lab made")
    down.set_defaults(func=run_down)
    st: argparse.ArgumentParser = lsub.add_parser("status", help="what runs, with ground truth")
    st.add_argument("--json", action="store_true", help="ground truth as JSON")
    st.set_defaults(func=run_status)


def run_up(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit lab up` is not built yet (issue: the lab)")


def run_down(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit lab down` is not built yet (issue: the lab)")


def run_status(args: argparse.Namespace) -> ExitCode:
    raise NotBuiltError("`camaudit lab status` is not built yet (issue: the lab)")
