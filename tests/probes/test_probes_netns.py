"""The probes inside network namespaces (lab NamespaceSite): real interfaces, standard ports."""

from __future__ import annotations

from dataclasses import replace

import pytest

from auditor.context import NetContext
from auditor.credentials import Credential, CredentialStore, Secret
from auditor.models import Host, Outcome, Service
from auditor.models import ObservationKind as K
from auditor.probes import PROBES, attempt
from auditor.scope import Scope

pytestmark = pytest.mark.netns


def test_every_probe_against_namespace_devices():
    netns = pytest.importorskip("auditor.lab.netns")
    NamespaceSite = netns.NamespaceSite  # noqa: N806

    with NamespaceSite(["hikvision-ipc", "dahua-ipc", "xiongmai-dvr"]) as site:
        user, password = site.credentials
        ctx = NetContext(
            scope=Scope.parse(list(site.targets)),
            timeout=0.5,
            ports=site.port_plan,
            credentials=CredentialStore(default=Credential(user, Secret(password))),
        )

        def probe_all():
            out = {}
            for d in site.devices:
                served = {d.port(p) for p in d.profile.tcp_ports}
                ports = sorted(p for p in served if p in site.port_plan.roles)
                host = Host(d.address, mac=d.mac, services=tuple(Service(p) for p in ports))
                results = {}
                for n, c in PROBES.items():
                    # In registry order, each probe seeing the evidence before it (as the engine).
                    results[n] = attempt(c(), host, ctx)
                    seen = host.observations + results[n].observations
                    host = replace(host, observations=seen)
                out[d.profile.id] = results
            return out

        results = site.call_in_auditor(probe_all)
    hik = results["hikvision-ipc"]
    assert hik["http"].outcome is Outcome.COMPLETED, hik["http"].detail
    assert any(o.kind is K.HTTP_SERVER for o in hik["http"].observations)
    assert hik["onvif"].outcome is Outcome.COMPLETED, hik["onvif"].detail
    assert any(o.kind is K.ONVIF_DEVICE_INFORMATION for o in hik["onvif"].observations)
    assert {o.port for o in hik["http"].observations} == {80}
    dahua = results["dahua-ipc"]
    assert any(o.value == "Dahua Rtsp Server" for o in dahua["rtsp"].observations)
    assert dahua["dahua"].outcome is Outcome.COMPLETED, dahua["dahua"].detail
    xm = results["xiongmai-dvr"]
    assert any(o.kind is K.DVRIP_BANNER for o in xm["dvrip"].observations)
