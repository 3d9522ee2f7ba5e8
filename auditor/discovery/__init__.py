"""Discovery: every channel that can find a camera, and the registry that lists them."""

from __future__ import annotations

from auditor.discovery.dhip import DhipChannel
from auditor.discovery.engine import DiscoveryResult, discover_all, merge_hosts
from auditor.discovery.imports import ImportedHosts, import_csv_inventory, import_nmap_xml
from auditor.discovery.interface import DiscoveryChannel, DiscoveryError
from auditor.discovery.mdns import MdnsChannel
from auditor.discovery.nmap import NmapChannel
from auditor.discovery.sadp import SadpChannel
from auditor.discovery.ssdp import SsdpChannel
from auditor.discovery.wsd import WsDiscoveryChannel
from auditor.discovery.xmeye import XmeyeChannel
from auditor.models import Channel

#: The one place a discovery channel is registered, keyed by its ``Channel``.
CHANNELS: dict[Channel, type[DiscoveryChannel]] = {
    cls.channel: cls
    for cls in (
        NmapChannel,
        WsDiscoveryChannel,
        SadpChannel,
        DhipChannel,
        XmeyeChannel,
        SsdpChannel,
        MdnsChannel,
    )
}

#: The ``Channel`` values that are not discovery channels: the inventory imports, the user's own
#: target list and camaudit's unicast check also report hosts. Every ``Channel`` is here or in
#: ``CHANNELS`` (a test holds the three together).
OTHER_SOURCES = frozenset(
    {Channel.IMPORT_NMAP, Channel.IMPORT_CSV, Channel.TARGET, Channel.UNICAST}
)

__all__ = [
    "CHANNELS",
    "OTHER_SOURCES",
    "DiscoveryChannel",
    "DiscoveryError",
    "DiscoveryResult",
    "ImportedHosts",
    "discover_all",
    "import_csv_inventory",
    "import_nmap_xml",
    "merge_hosts",
]
