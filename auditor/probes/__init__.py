"""Probes: read-only questions to a host (HTTP, TLS, RTSP, ONVIF, vendor APIs), registered."""

from __future__ import annotations

from auditor.probes.banner import BannerProbe
from auditor.probes.dvrip import DvripProbe
from auditor.probes.http import HttpProbe
from auditor.probes.interface import PartialFailure, Probe, ProbeName, attempt
from auditor.probes.mac import MacProbe
from auditor.probes.onvif import OnvifProbe
from auditor.probes.rtsp import RtspProbe
from auditor.probes.snmp import SnmpProbe
from auditor.probes.tls import TlsProbe
from auditor.probes.vendor import AxisProbe, DahuaProbe, IsapiProbe

#: The one place a probe is registered (each is named by a ``ProbeName`` and declared in
#: ``identify/coverage.py``; tests/test_registries.py holds the three together); the engine runs
#: them in this order. Cheap, anonymous probes first: later ones see earlier evidence through
#: ``host.observations`` (the engine adds each attempt's observations to the host it passes on).
#: The order is also the credentials' gate (``probes.access``): ONVIF, DVRIP and the vendor APIs
#: come last, so the anonymous evidence decides whether they may send the user's credentials at
#: all, and the first refusal on a device (``ctx.logins``) keeps every later one from sending
#: them again.
PROBES: dict[ProbeName, type[Probe]] = {
    cls.name: cls
    for cls in (
        MacProbe,
        HttpProbe,
        TlsProbe,
        RtspProbe,
        BannerProbe,
        SnmpProbe,
        OnvifProbe,
        DvripProbe,
        IsapiProbe,
        DahuaProbe,
        AxisProbe,
    )
}

__all__ = ["PROBES", "PartialFailure", "Probe", "ProbeName", "attempt"]
