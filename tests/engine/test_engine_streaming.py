"""Streaming (issue 16), on fakes with no socket: a host is probed while discovery still runs,
waits only for the evidence it needs, and what discovery found survives an interrupt."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.context import NetContext
from auditor.discovery.interface import DiscoveryChannel
from auditor.engine import AuditConfig, AuditObserver, Auditor
from auditor.models import Channel, DeviceResult, Host, Observation, ObservationKind
from auditor.probes import Probe
from auditor.store import Store
from tests.conftest import FakeChannel, FakeProbe, fake_host

pytestmark = pytest.mark.usefixtures("no_sockets")

#: A test's channels hold discovery open at most this long (a broken engine must not hang).
SAFETY_S = 5.0


def _config(tmp_path: Path, **kw: object) -> AuditConfig:
    base: dict[str, object] = {
        "targets": ("127.0.0.0/24",),
        "db_path": tmp_path / "a.db",
        "timeout": 0.5,
        "multicast": False,
        "workers": 4,
    }
    base.update(kw)
    return AuditConfig(**base)  # type: ignore[arg-type]


def _auditor(
    config: AuditConfig,
    probes: Sequence[Probe],
    channels: Sequence[DiscoveryChannel],
    observer: AuditObserver | None = None,
) -> Auditor:
    def no_unicast(*_: object) -> str | None:
        raise AssertionError("no host here needs a unicast check")

    return Auditor(config, observer, probes=probes, channels=channels, unicast=no_unicast)


def _held() -> threading.Event:
    hold = threading.Event()
    timer = threading.Timer(SAFETY_S, hold.set)
    timer.daemon = True
    timer.start()
    return hold


def _sighting(address: str, channel: Channel, kind: ObservationKind, value: str) -> Host:
    obs = Observation(kind, value, channel.value, datetime.now(UTC))
    return Host(fake_host(address).address, seen_by=frozenset({channel}), observations=(obs,))


class Recorder(AuditObserver):
    def __init__(self, watch: FakeChannel | None = None) -> None:
        self.watch = watch
        self.stages: list[tuple[str, int | None]] = []
        self.done_while_discovering: list[bool] = []

    def on_stage(self, stage: str, total: int | None = None) -> None:
        self.stages.append((stage, total))

    def on_host_done(self, device: DeviceResult) -> None:
        if self.watch is not None:
            self.done_while_discovering.append(not self.watch.finished.is_set())


def test_a_host_is_probed_while_a_channel_still_waits_out_its_window(tmp_path: Path) -> None:
    hold = _held()
    slow = FakeChannel([], Channel.SSDP, hold=hold)
    seen_running: list[bool] = []

    def hook(host: Host) -> None:
        seen_running.append(not slow.finished.is_set())
        hold.set()

    probe = FakeProbe("http", hook=hook)
    observer = Recorder()
    channels = [FakeChannel([fake_host("127.0.0.1")]), slow]
    report = _auditor(_config(tmp_path), [probe], channels, observer).run()
    assert seen_running == [True], "the host waited for discovery to end"
    assert [d.host.address for d in report.devices] == [fake_host("127.0.0.1").address]
    # The probing total is known once discovery is over; the stages come in order.
    assert [s for s, _ in observer.stages] == ["discovery", "probing", "report"]


def test_a_host_waits_for_the_port_scan_before_its_probes(tmp_path: Path) -> None:
    # SADP reports the host at once; nmap reports its open ports a moment later.
    sadp = FakeChannel([_sighting("127.0.0.2", Channel.SADP, ObservationKind.SADP_PROBE_MATCH,
                                  "<ProbeMatch/>")], Channel.SADP)  # fmt: skip
    nmap = FakeChannel([fake_host("127.0.0.2", ports=(80, 554))], delay=0.3)
    # ... and SSDP is still waiting out its window: the host does not wait for it.
    hold = _held()
    ssdp = FakeChannel([], Channel.SSDP, hold=hold)
    observer = Recorder(watch=ssdp)
    probe = FakeProbe("http")
    try:
        _auditor(_config(tmp_path), [probe], [sadp, nmap, ssdp], observer).run()
    finally:
        hold.set()
    (host,) = probe.calls
    assert host.open_tcp_ports == {80, 554}, "probed before the port scan reported the host"
    assert observer.done_while_discovering == [True], "the host waited for SSDP's window"


def test_onvif_waits_for_the_ws_discovery_xaddrs_of_a_camera(tmp_path: Path) -> None:
    # Port 8899 (the ONVIF role) open: WS-Discovery may still announce its XAddrs.
    nmap = FakeChannel([fake_host("127.0.0.3", ports=(80, 8899))])
    match = _sighting("127.0.0.3", Channel.WS_DISCOVERY, ObservationKind.ONVIF_PROBE_MATCH,
                      "<ProbeMatch>xaddrs</ProbeMatch>")  # fmt: skip
    wsd = FakeChannel([match], Channel.WS_DISCOVERY, delay=0.4)
    http, onvif = FakeProbe("http"), FakeProbe("onvif")
    report = _auditor(_config(tmp_path), [http, onvif], [nmap, wsd]).run()
    (early,) = http.calls
    (gated,) = onvif.calls
    assert Channel.WS_DISCOVERY not in early.seen_by, "the anonymous probes waited too"
    assert Channel.WS_DISCOVERY in gated.seen_by
    assert any(o.kind is ObservationKind.ONVIF_PROBE_MATCH for o in gated.observations)
    (device,) = report.devices
    assert Channel.WS_DISCOVERY in device.host.seen_by


def test_a_host_that_does_not_look_like_onvif_does_not_wait(tmp_path: Path) -> None:
    hold = _held()
    wsd = FakeChannel([], Channel.WS_DISCOVERY, hold=hold)
    printer = fake_host("127.0.0.4", ports=(9100,))
    observer = Recorder(watch=wsd)
    probes = [FakeProbe("http", value="Server: HP-ChaiSOE/1.0"), FakeProbe("onvif")]
    try:
        _auditor(_config(tmp_path), probes, [FakeChannel([printer]), wsd], observer).run()
    finally:
        hold.set()
    assert observer.done_while_discovering == [True], "a printer waited for WS-Discovery"


def test_a_sighting_after_the_host_was_saved_is_not_lost(tmp_path: Path) -> None:
    # mDNS answers late, after the host's probes ran and it was saved: it is probed again
    # with the sighting once discovery is over, and saved once.
    late = _sighting("127.0.0.5", Channel.MDNS, ObservationKind.MDNS_SERVICE, "_http._tcp")
    mdns = FakeChannel([late], Channel.MDNS)
    saved = threading.Event()

    class Gate(DiscoveryChannel):
        channel = Channel.MDNS

        def discover(self, ctx: NetContext) -> Iterator[Host]:
            saved.wait(SAFETY_S)  # report only once the host is in the store
            yield from mdns.discover(ctx)

    class Saved(AuditObserver):
        def on_host_done(self, device: DeviceResult) -> None:
            saved.set()

    probe = FakeProbe("http")
    report = _auditor(
        _config(tmp_path), [probe], [FakeChannel([fake_host("127.0.0.5")]), Gate()], Saved()
    ).run()
    (device,) = report.devices
    assert Channel.MDNS in device.host.seen_by
    assert len(probe.calls) == 2 and Channel.MDNS in probe.calls[1].seen_by


def test_resume_after_a_stop_during_discovery_keeps_what_was_found(tmp_path: Path) -> None:
    addresses = ["127.0.0.10", "127.0.0.11", "127.0.0.12"]
    hold = _held()
    holder: list[Auditor] = []

    def stop_at_once(host: Host) -> None:
        holder[0].stop()

    nmap = FakeChannel([fake_host(a) for a in addresses], hold=hold)
    probes = [FakeProbe("http", hook=stop_at_once), FakeProbe("tls")]
    first = _auditor(_config(tmp_path, workers=1), probes, [nmap])
    holder.append(first)
    with pytest.raises(KeyboardInterrupt):
        first.run()
    hold.set()
    with Store(tmp_path / "a.db") as store:
        (summary,) = store.list_audits()
        assert store.completed_addresses(summary.id) == set()
    # The second discovery round finds nothing (the devices went quiet): the hosts the first
    # round found are probed all the same.
    probe = FakeProbe("http")
    resumed = _auditor(_config(tmp_path, resume=summary.id), [probe], [FakeChannel([])])
    report = resumed.run()
    assert sorted(probe.addresses) == addresses
    assert sorted(str(d.host.address) for d in report.devices) == addresses


def test_a_host_probed_again_is_counted_once_in_the_notes(tmp_path: Path) -> None:
    # Seen only in UDP discovery replies, never answering: unconfirmed. A second reply after
    # it was saved sends it through the probes again; the audit's note still counts it once.
    first = _sighting("127.0.0.7", Channel.SADP, ObservationKind.SADP_PROBE_MATCH, "<a/>")
    again = _sighting("127.0.0.7", Channel.DHIP, ObservationKind.DHIP_REPLY, "{}")
    saved = threading.Event()

    class Late(DiscoveryChannel):
        channel = Channel.DHIP

        def discover(self, ctx: NetContext) -> Iterator[Host]:
            saved.wait(SAFETY_S)
            yield again

    class Saved(AuditObserver):
        def on_host_done(self, device: DeviceResult) -> None:
            saved.set()

    probe = FakeProbe("http", value="")
    config = _config(tmp_path)
    auditor = Auditor(
        config,
        Saved(),
        probes=[probe],
        channels=[FakeChannel([first], Channel.SADP), Late()],
        unicast=lambda *_: None,
    )
    report = auditor.run()
    assert len(probe.calls) == 2
    (device,) = report.devices
    assert device.unconfirmed
    assert any(n.startswith("Unconfirmed: 1 host was") for n in report.notes), report.notes
