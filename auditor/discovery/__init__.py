"""Discovery: every channel that can find a camera, and the registry that lists them."""

from __future__ import annotations

from auditor.discovery.interface import DiscoveryChannel, DiscoveryError

#: The one place a discovery channel is registered (filled by the discovery modules).
CHANNELS: dict[str, type[DiscoveryChannel]] = {}

__all__ = ["CHANNELS", "DiscoveryChannel", "DiscoveryError"]
