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

#: The one place a discovery channel is registered, keyed by its Channel value.
CHANNELS: dict[str, type[DiscoveryChannel]] = {
    cls.channel.value: cls
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

__all__ = [
    "CHANNELS",
    "DiscoveryChannel",
    "DiscoveryError",
    "DiscoveryResult",
    "ImportedHosts",
    "discover_all",
    "import_csv_inventory",
    "import_nmap_xml",
    "merge_hosts",
]
