"""Linux network-namespace plumbing for the lab: setns for one thread, ip batches, cleanup by name.

Everything the lab creates is named with a prefix (``ca-<tag>-``), lives inside namespaces it
created, and is removed by deleting those namespaces: interfaces go with them, nothing is left
in the host's own namespace. Only the namespace names carry the tag; interface names (``ca-a0``,
``ca-d17``...) are the same in every lab, since each lab's interfaces live in its own namespaces,
so a tag never meets the kernel's 15-character interface-name limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from auditor.errors import ConfigError

logger = logging.getLogger(__name__)

CLONE_NEWNET = 0x40000000
NETNS_DIR = Path("/run/netns")
PREFIX = "ca-"
#: The namespaces of one lab are ``ca-<tag>-<role>``: auditor, router, site.
ROLES = ("a", "r", "s")
#: Tags become namespace names (files under /run/netns) and state folder names.
MAX_TAG = 40

_libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def require_root() -> None:
    if os.geteuid() != 0:
        raise ConfigError("namespace mode needs root (loopback mode does not: use LoopbackSite)")
    if not _which("ip"):
        raise ConfigError("namespace mode needs iproute2's `ip` command (apt-get install iproute2)")


def check_tag(tag: str) -> str:
    """``tag`` if it can name a lab (letters, digits and inner dashes), else ValueError."""
    if not tag or len(tag) > MAX_TAG or not tag.replace("-", "").isalnum() or not tag.isascii():
        raise ValueError(f"tag {tag!r}: use up to {MAX_TAG} letters, digits and dashes")
    if tag.startswith("-") or tag.endswith("-"):
        raise ValueError(f"tag {tag!r}: a tag starts and ends with a letter or digit")
    return tag


def lab_prefix(tag: str) -> str:
    """The namespace-name prefix of the lab tagged ``tag``."""
    return f"{PREFIX}{check_tag(tag)}-"


def _which(cmd: str) -> bool:
    return any((Path(d) / cmd).exists() for d in os.environ.get("PATH", "").split(":") if d)


def setns_fd(fd: int) -> None:
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"setns failed: {os.strerror(err)}")


def enter(name: str) -> None:
    """Move the calling *thread* into network namespace ``name`` (other threads stay put)."""
    fd = os.open(NETNS_DIR / name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        setns_fd(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def entered(name: str) -> Iterator[None]:
    """Run the block with this thread inside ``name``; threads started in it inherit it."""
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
    try:
        enter(name)
        try:
            yield
        finally:
            setns_fd(home)
    finally:
        os.close(home)


def run(argv: Sequence[str], stdin: str | None = None, check: bool = True) -> str:
    proc = subprocess.run(
        list(argv), input=stdin, capture_output=True, text=True, timeout=300, check=False
    )
    if check and proc.returncode != 0:
        raise ConfigError(f"{' '.join(argv[:4])} failed: {proc.stderr.strip()[:300]}")
    return proc.stdout


def batch(namespace: str | None, commands: Sequence[str]) -> None:
    """Run ``ip`` commands in one process (``ip -batch``): 1,000 links in well under a second."""
    if not commands:
        return
    argv = ["ip"] + (["-n", namespace] if namespace else []) + ["-batch", "-"]
    run(argv, stdin="\n".join(commands) + "\n")


def sysctl(name: str, values: dict[str, str]) -> None:
    """Write /proc/sys entries as seen from namespace ``name`` (per-netns net.* settings)."""
    with entered(name):
        for key, value in values.items():
            Path("/proc/sys", key.replace(".", "/")).write_text(value)


def list_namespaces(prefix: str = PREFIX) -> list[str]:
    if not NETNS_DIR.is_dir():
        return []
    return sorted(p.name for p in NETNS_DIR.iterdir() if p.name.startswith(prefix))


def lab_namespaces(prefix: str) -> list[str]:
    """The namespaces of the one lab whose prefix is ``prefix`` (``ca-<tag>-``): exactly
    ``<prefix><role>``. A bare prefix match would let tag ``lab`` claim ``ca-lab-2-s``, the site
    of tag ``lab-2``."""
    return [n for n in list_namespaces(prefix) if n[len(prefix) :] in ROLES]


def delete_namespaces(prefix: str) -> list[str]:
    """Delete the namespaces of the lab with ``prefix`` (``ca-<tag>-``), or, given the bare
    :data:`PREFIX`, every lab namespace on the machine; idempotent."""
    if not prefix.startswith(PREFIX):
        raise ValueError(f"refusing to delete namespaces outside the lab prefix: {prefix!r}")
    removed = []
    for name in list_namespaces(PREFIX) if prefix == PREFIX else lab_namespaces(prefix):
        proc = subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)
        if proc.returncode == 0:
            removed.append(name)
        else:
            logger.warning("could not delete namespace %s: %s", name, proc.stderr.decode().strip())
    return removed
