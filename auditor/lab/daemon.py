"""The long-running process behind `camaudit lab up`: builds a namespace site, records its state,
serves until SIGTERM/SIGINT, then removes everything it made.

Run as ``python -m auditor.lab.daemon --state FILE [--tag NAME] [--devices N] ...``; the CLI
starts it in its own session and returns once the state file says ``ready``.

Several labs can run side by side, one daemon per tag: each has its own namespaces
(``ca-<tag>-*``) and its own state folder. The default tag ``lab`` keeps the names and the state
file it always had (``ca-lab-a``, ``/run/camaudit-lab/state.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from auditor.lab import nsutil

logger = logging.getLogger(__name__)

DEFAULT_TAG = "lab"
STATE_NAME = "state.json"


def state_dir() -> Path:
    """/run/camaudit-lab for root, else the user's runtime folder."""
    if os.geteuid() == 0:
        return Path("/run/camaudit-lab")
    runtime = os.environ.get("XDG_RUNTIME_DIR") or f"/tmp/camaudit-lab-{os.getuid()}"
    return Path(runtime) / "camaudit-lab"


def tag_dir(tag: str = DEFAULT_TAG) -> Path:
    """Where the lab tagged ``tag`` keeps its state and daemon log: the state folder itself for
    the default tag, a sub-folder named after any other."""
    base = state_dir()
    return base if nsutil.check_tag(tag) == DEFAULT_TAG else base / tag


def state_file(tag: str = DEFAULT_TAG) -> Path:
    return tag_dir(tag) / STATE_NAME


def tags_with_state() -> list[str]:
    """Every tag with a state file (running, starting, or left by a daemon that died)."""
    base = state_dir()
    tags = [DEFAULT_TAG] if (base / STATE_NAME).is_file() else []
    if base.is_dir():
        for sub in sorted(base.iterdir()):
            if sub.name != DEFAULT_TAG and (sub / STATE_NAME).is_file():
                with contextlib.suppress(ValueError):  # not a folder this module made
                    tags.append(nsutil.check_tag(sub.name))
    return tags


def write_state(path: Path, data: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


def read_state(path: Path | None = None) -> dict[str, Any] | None:
    target = path or state_file()
    try:
        data = json.loads(target.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def serve(args: argparse.Namespace) -> int:
    # Here, not at the top: `camaudit lab status|down` read the state helpers above and need
    # none of the site machinery (every camaudit command imports this module's CLI).
    from auditor.lab.netns import NamespaceSite
    from auditor.lab.site import DEMO_DEVICES

    path = Path(args.state)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.set())
    devices = None if args.devices else list(DEMO_DEVICES)
    try:
        site = NamespaceSite(
            devices=devices,
            count=args.devices,
            subnet=args.subnet,
            routed_subnet=args.routed_subnet,
            routed_devices=list(DEMO_DEVICES[:3]) if args.routed_subnet else (),
            sparse=args.sparse,
            tag=args.tag,
        )
        site.start()
    except Exception as exc:  # reported to `lab up` through the state file
        write_state(path, {"pid": os.getpid(), "ready": False, "error": str(exc)})
        return 2
    try:
        state = site.state()
        state.update(pid=os.getpid(), ready=True, routed_targets=list(site.routed_targets))
        write_state(path, state)
        while not stop.wait(1.0):
            pass
    finally:
        site.stop()
        path.unlink(missing_ok=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m auditor.lab.daemon")
    p.add_argument("--state", required=True)
    p.add_argument("--tag", default=DEFAULT_TAG)
    p.add_argument("--devices", type=int, default=None)
    p.add_argument("--subnet", default="192.0.2.0/24")
    p.add_argument("--routed-subnet", default=None)
    p.add_argument("--sparse", action="store_true")
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    return serve(p.parse_args(argv))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
