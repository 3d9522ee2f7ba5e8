"""The lab: emulated camera sites on loopback or in network namespaces.

``LoopbackSite`` needs no root: every device gets its own 127.x.y.z address and answers every
protocol by unicast. ``NamespaceSite`` (root) gives each device its own MAC on a real L2 segment.

The names below load on first use (PEP 562): every ``camaudit`` command registers the ``lab``
subcommand, which reaches ``auditor.lab.daemon``, and importing the whole lab (TLS certificates,
ONVIF, the site engine) cost each command about 0.1 s of start-up.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from auditor.lab.netns import NamespaceSite
    from auditor.lab.profiles import (
        LAB_PASSWORD,
        LAB_USERNAME,
        DeviceProfile,
        load_hostile_profiles,
        load_profiles,
    )
    from auditor.lab.site import DEMO_DEVICES, HOSTILE_DEVICES, GroundTruth, LoopbackSite
    from auditor.lab.snmp import LAB_COMMUNITY

#: Each public name and the module that defines it.
_HOME = {
    "NamespaceSite": "auditor.lab.netns",
    "LAB_PASSWORD": "auditor.lab.profiles",
    "LAB_USERNAME": "auditor.lab.profiles",
    "DeviceProfile": "auditor.lab.profiles",
    "load_hostile_profiles": "auditor.lab.profiles",
    "load_profiles": "auditor.lab.profiles",
    "DEMO_DEVICES": "auditor.lab.site",
    "HOSTILE_DEVICES": "auditor.lab.site",
    "GroundTruth": "auditor.lab.site",
    "LoopbackSite": "auditor.lab.site",
    "LAB_COMMUNITY": "auditor.lab.snmp",
}

__all__ = [
    "DEMO_DEVICES",
    "HOSTILE_DEVICES",
    "LAB_COMMUNITY",
    "LAB_PASSWORD",
    "LAB_USERNAME",
    "DeviceProfile",
    "GroundTruth",
    "LoopbackSite",
    "NamespaceSite",
    "load_hostile_profiles",
    "load_profiles",
]


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'auditor.lab' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value
