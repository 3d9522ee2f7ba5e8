"""Probes: read-only questions to a host (HTTP, TLS, RTSP, ONVIF, vendor APIs), registered."""

from __future__ import annotations

from auditor.probes.interface import Probe, attempt

#: The one place a probe is registered; the engine runs them in this order.
PROBES: dict[str, type[Probe]] = {}

__all__ = ["PROBES", "Probe", "attempt"]
