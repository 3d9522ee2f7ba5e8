"""The MAC probe: no traffic; turns the MAC and OUI vendor discovery found into observations so
fusion sees them with the rest of the evidence (the OUI table itself lives in fingerprints/)."""

from __future__ import annotations

from typing import ClassVar

from auditor.context import NetContext
from auditor.errors import ProbeNotRun
from auditor.models import Host, Observation, ObservationKind, Reason, normalise_mac
from auditor.probes.common import observation
from auditor.probes.interface import Probe, ProbeName


class MacProbe(Probe):
    name: ClassVar[ProbeName] = ProbeName.MAC

    def run(self, host: Host, ctx: NetContext) -> list[Observation]:
        if not host.mac:
            raise ProbeNotRun(
                Reason.NOT_APPLICABLE, "no MAC known (the host is not on the local segment)"
            )
        out = [observation(ObservationKind.MAC, normalise_mac(host.mac), "discovery", None)]
        if host.mac_vendor:
            out.append(
                observation(ObservationKind.MAC_VENDOR, host.mac_vendor.strip(), "discovery", None)
            )
        return out
