"""The lab: emulated camera sites on loopback or in network namespaces.

``LoopbackSite`` needs no root: every device gets its own 127.x.y.z address and answers every
protocol by unicast. ``NamespaceSite`` (root) gives each device its own MAC on a real L2 segment.
"""

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

__all__ = [
    "LAB_COMMUNITY",
    "DEMO_DEVICES",
    "HOSTILE_DEVICES",
    "LAB_PASSWORD",
    "LAB_USERNAME",
    "DeviceProfile",
    "GroundTruth",
    "LoopbackSite",
    "NamespaceSite",
    "load_hostile_profiles",
    "load_profiles",
]
