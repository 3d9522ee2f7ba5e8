"""`camaudit lab up|down|status`: emulated camera sites in network namespaces.

Each takes ``--tag NAME`` so several sites run side by side, each with its own namespaces and
state; without it they act on the default site (tag ``lab``).
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from rich.table import Table

from auditor.cli.console import clean, make_console
from auditor.errors import ConfigError, UsageError
from auditor.exitcodes import ExitCode
from auditor.lab import daemon, nsutil

UP_TIMEOUT = 300.0


def _add_tag(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--tag",
        default=daemon.DEFAULT_TAG,
        metavar="NAME",
        help=f"{what} (letters, digits and dashes; default: {daemon.DEFAULT_TAG})",
    )


def _tag(args: argparse.Namespace) -> str:
    try:
        return nsutil.check_tag(str(args.tag))
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _down_command(tag: str) -> str:
    return "camaudit lab down" + ("" if tag == daemon.DEFAULT_TAG else f" --tag {tag}")


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "lab", help="run an emulated camera site (namespace mode needs root)"
    )
    lsub = p.add_subparsers(dest="lab_command", metavar="COMMAND", required=True)
    up: argparse.ArgumentParser = lsub.add_parser("up", help="build and start a lab site")
    up.add_argument(
        "--devices",
        type=int,
        default=None,
        metavar="N",
        help="number of devices, cycling through every profile (default: the demo set)",
    )
    up.add_argument(
        "--subnet",
        default="192.0.2.0/24",
        metavar="CIDR",
        help="the site's subnet inside the namespaces (default: 192.0.2.0/24)",
    )
    up.add_argument(
        "--routed-subnet",
        default=None,
        metavar="CIDR",
        help="also build a second subnet reachable only through a router",
    )
    up.add_argument(
        "--sparse",
        action="store_true",
        help="scatter the devices over the whole subnet (e.g. 2000 in a /16)",
    )
    _add_tag(up, "name this site, so several can run at once")
    up.set_defaults(func=run_up)
    down: argparse.ArgumentParser = lsub.add_parser("down", help="remove everything the lab made")
    down.add_argument(
        "--all",
        action="store_true",
        help="stop every lab site (all tags) and remove leftovers of interrupted test runs "
        "(every ca-* namespace)",
    )
    _add_tag(down, "the site to remove")
    down.set_defaults(func=run_down)
    st: argparse.ArgumentParser = lsub.add_parser("status", help="what runs, with ground truth")
    st.add_argument("--json", action="store_true", help="ground truth as JSON on stdout")
    _add_tag(st, "the site to show")
    st.set_defaults(func=run_status)


def _check_subnet(text: str | None) -> None:
    if text is None:
        return
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        raise UsageError(f"not an IPv4 network: {text!r} ({exc})") from None
    if net.prefixlen > 28:
        raise UsageError(f"subnet {text} is too small for a lab site")


def run_up(args: argparse.Namespace) -> ExitCode:
    nsutil.require_root()
    tag = _tag(args)
    _check_subnet(args.subnet)
    _check_subnet(args.routed_subnet)
    if args.devices is not None and args.devices < 1:
        raise UsageError("--devices must be at least 1")
    path = daemon.state_file(tag)
    state = daemon.read_state(path)
    if state and daemon.alive(int(state.get("pid", 0))):
        raise ConfigError(
            f"a lab site with tag {tag!r} is already up; run `{_down_command(tag)}` first, "
            "or give another --tag"
        )
    path.unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    argv = [
        sys.executable,
        "-m",
        "auditor.lab.daemon",
        "--state",
        str(path),
        "--tag",
        tag,
        "--subnet",
        args.subnet,
    ]
    if args.devices is not None:
        argv += ["--devices", str(args.devices)]
    if args.routed_subnet:
        argv += ["--routed-subnet", args.routed_subnet]
    if args.sparse:
        argv.append("--sparse")
    log = path.with_name("daemon.log")
    console = make_console()
    started = time.monotonic()
    with log.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=out,
            start_new_session=True,
            close_fds=True,
        )
    try:
        state = _wait_ready(proc, path, log, console, started)
    except BaseException:
        # Ctrl-C or a failure while waiting: the daemon tears its namespaces down on SIGTERM.
        if proc.poll() is None:
            proc.terminate()
        raise
    took = time.monotonic() - started
    named = "" if tag == daemon.DEFAULT_TAG else f" (tag {tag})"
    console.print(
        f"lab up{named}: {len(state['devices'])} devices on {state['subnet']} in {took:.1f} s; "
        f"run the auditor with: ip netns exec {state['auditor_netns']} camaudit ...  "
        f"(state: {path})"
    )
    return ExitCode.CLEAN


def _wait_ready(
    proc: subprocess.Popen[bytes], path: Path, log: Path, console: Any, started: float
) -> dict[str, Any]:
    with console.status("building the lab site..."):
        while time.monotonic() - started < UP_TIMEOUT:
            state = daemon.read_state(path)
            if state and state.get("ready"):
                return state
            if state and state.get("error"):
                raise ConfigError(f"lab up failed: {state['error']}")
            if proc.poll() is not None:
                tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise ConfigError(f"lab daemon exited ({proc.returncode}): {tail[0]}")
            time.sleep(0.2)
        raise ConfigError(f"lab site not ready after {UP_TIMEOUT:.0f} s")


def run_down(args: argparse.Namespace) -> ExitCode:
    nsutil.require_root()
    tag = _tag(args)
    console = make_console()
    # --all stops every tagged site's daemon first: sweeping the namespaces of a running
    # daemon would leave it serving nothing.
    tags = sorted(set(daemon.tags_with_state()) | {tag}) if args.all else [tag]
    stopped = [pid for t in tags if (pid := _stop_daemon(daemon.state_file(t))) is not None]
    prefix = nsutil.PREFIX if args.all else nsutil.lab_prefix(tag)
    removed = nsutil.delete_namespaces(prefix)
    said = "".join(f"stopped the lab daemon (pid {pid}); " for pid in stopped)
    swept = f"removed leftovers: {', '.join(removed)}" if removed else "nothing else was left"
    named = "" if tag == daemon.DEFAULT_TAG or args.all else f" (tag {tag})"
    console.print(f"lab down{named}: {said}{swept}")
    return ExitCode.CLEAN


def _stop_daemon(path: Path) -> int | None:
    """SIGTERM the daemon recorded in ``path`` and wait for it; the pid if one was running.
    The state file goes either way."""
    state = daemon.read_state(path)
    pid = int(state.get("pid", 0)) if state else 0
    running = pid > 0 and daemon.alive(pid)
    if running:
        # The daemon removes its own namespaces on SIGTERM; the sweep after this catches the rest.
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while daemon.alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    path.unlink(missing_ok=True)
    return pid if running else None


def _running(state: dict[str, Any] | None) -> bool:
    return bool(state and state.get("ready") and daemon.alive(int(state.get("pid", 0))))


def run_status(args: argparse.Namespace) -> ExitCode:
    tag = _tag(args)
    state = daemon.read_state(daemon.state_file(tag))
    running = _running(state)
    if args.json:
        payload = dict(state or {})
        payload["running"] = running
        payload.setdefault("tag", tag)
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return ExitCode.CLEAN
    console = make_console(stderr=False)
    others = [
        t
        for t in daemon.tags_with_state()
        if t != tag and _running(daemon.read_state(daemon.state_file(t)))
    ]
    if others:
        console.print(f"other lab sites up: {', '.join(f'--tag {t}' for t in others)}")
    if not running or state is None:
        if tag == daemon.DEFAULT_TAG:
            console.print("no lab site is running (start one with: camaudit lab up)")
        else:
            console.print(
                f"no lab site tagged {tag} is running (start one with: camaudit lab up --tag {tag})"
            )
        return ExitCode.CLEAN
    table = Table(
        title=f"lab site {'' if tag == daemon.DEFAULT_TAG else clean(tag) + ': '}"
        f"{state['subnet']} (auditor: {state['auditor_netns']} "
        f"{state['auditor_address']})"
    )
    for column in ("address", "profile", "manufacturer", "brand", "model", "type", "mac"):
        table.add_column(column)
    for dev in state["devices"]:
        table.add_row(
            *(
                clean(dev.get(k) or "-")
                for k in (
                    "address",
                    "profile",
                    "manufacturer",
                    "brand",
                    "model",
                    "device_type",
                    "mac",
                )
            )
        )
    console.print(table)
    return ExitCode.CLEAN
