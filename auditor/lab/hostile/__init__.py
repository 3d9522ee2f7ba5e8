"""Hostile devices for the lab (issue 9): attacks and faults a scanner meets on real sites.

One attack per device, so a report row proves one thing. The server behaviours are the lab's
own variants (``auditor/lab/variants.py``: slowloris, huge_body, endless_chunked, many_headers,
garbage, stall, flood, huge_length) plus the few registered here on import (``payload``,
``reset``, ``vanish``; ``xml_bomb`` for WS-Discovery and SADP). Each device is an ordinary
profile in ``auditor/lab/hostile/profiles/``; :func:`hostile_site` builds a loopback site with
all of them, the lab's bundled hostile profiles (``auditor/lab/profiles/hostile/``) and a
normal camera.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from auditor.lab.hostile import servers, udp
from auditor.lab.profiles import PROFILE_DIR, DeviceProfile, load_profiles
from auditor.lab.site import LoopbackSite

HOSTILE_PROFILE_DIR = Path(__file__).with_name("profiles")
#: Issue 13's devices (an independent review's findings): generic 401 servers, a device echoing
#: the Authorization value, a printer with a stalling port. Not part of the default hostile site.
REVIEW_PROFILE_DIR = Path(__file__).with_name("review")
#: The lab helper's bundled hostile profiles (several attacks per device).
LAB_HOSTILE_DIR = PROFILE_DIR / "hostile"

#: Attacks that need a real L2 segment (namespace lab): forged source addresses mean nothing
#: on loopback, where they are only a flood of out-of-scope datagrams that crowds out the other
#: devices' replies. The loopback site leaves them out unless named.
NAMESPACE_ONLY = frozenset({"hostile-spoofed-flood"})

servers.register_all()
udp.register_all()


def hostile_profiles() -> dict[str, DeviceProfile]:
    """Every hostile profile (one attack each, and the lab's bundled ones), keyed by id."""
    profiles = load_profiles(HOSTILE_PROFILE_DIR)
    if LAB_HOSTILE_DIR.is_dir():
        profiles.update(load_profiles(LAB_HOSTILE_DIR))
    return profiles


def review_profiles() -> dict[str, DeviceProfile]:
    """Issue 13's devices (where credentials go; what is not a camera), keyed by id."""
    return load_profiles(REVIEW_PROFILE_DIR)


def hostile_site(
    devices: Sequence[str] | None = None,
    extra: Sequence[str] = ("hikvision-ipc",),
    **kwargs: Any,
) -> LoopbackSite:
    """A loopback site with ``devices`` (any shipped or hostile profile ids), by default every
    hostile device plus ``extra`` ordinary ones (to prove the rest of the audit completes next
    to them)."""
    hostile = hostile_profiles()
    known = {**load_profiles(), **hostile}
    default = sorted(set(hostile) - NAMESPACE_ONLY)
    chosen = list(devices) if devices is not None else [*default, *extra]
    return LoopbackSite(chosen, profiles=known, **kwargs)


__all__ = [
    "REVIEW_PROFILE_DIR",
    "HOSTILE_PROFILE_DIR",
    "NAMESPACE_ONLY",
    "review_profiles",
    "hostile_profiles",
    "hostile_site",
]
