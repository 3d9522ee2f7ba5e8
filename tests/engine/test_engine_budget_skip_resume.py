"""The engine on fakes, with no socket at all: the host time budget, skip reasons, interrupt and
resume (issue 19). The probes and channels are scripted; the store, identifier and assessors are
the real ones."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest

from auditor.discovery.interface import DiscoveryChannel
from auditor.engine import AuditConfig, Auditor
from auditor.models import AuditId, Channel, Host, Outcome, Reason
from auditor.probes import Probe
from auditor.store import Store
from tests.conftest import FakeChannel, FakeProbe, fake_host

pytestmark = pytest.mark.usefixtures("no_sockets")

ADDRESSES = [f"127.0.0.{i}" for i in range(1, 11)]


def _config(tmp_path: Path, **kw: object) -> AuditConfig:
    base: dict[str, object] = {
        "targets": ("127.0.0.0/24",),
        "db_path": tmp_path / "a.db",
        "timeout": 0.5,
        "multicast": False,
        "workers": 2,
    }
    base.update(kw)
    return AuditConfig(**base)  # type: ignore[arg-type]


def _auditor(
    config: AuditConfig, probes: Sequence[Probe], channels: Sequence[DiscoveryChannel]
) -> Auditor:
    def no_unicast(*_: object) -> str | None:
        raise AssertionError("no host here needs a unicast check")

    return Auditor(config, probes=probes, channels=channels, unicast=no_unicast)


def test_a_slow_host_is_cut_off_by_its_time_budget(tmp_path: Path) -> None:
    slow = [FakeProbe("http", delay=0.25), FakeProbe("tls", delay=0.25)]
    never = FakeProbe("rtsp")
    config = _config(tmp_path, targets=("127.0.0.1",), host_budget_s=0.3)
    report = _auditor(config, [*slow, never], [FakeChannel([fake_host("127.0.0.1")])]).run()
    (device,) = report.devices
    first, *_, last = device.attempts
    assert first.outcome is Outcome.COMPLETED
    # The third probe never ran: the 0.3 s budget was spent by the two slow ones.
    assert never.calls == []
    assert last.probe == "rtsp" and last.outcome is Outcome.FAILED
    assert last.reason is Reason.TIMEOUT and "time budget was spent" in last.detail


def test_an_imported_host_outside_the_scope_is_identified_offline_never_probed(
    tmp_path: Path,
) -> None:
    probe = FakeProbe("http")
    outside = Host(
        ipaddress.ip_address("127.0.1.7"),
        seen_by=frozenset({Channel.IMPORT_CSV}),
    )
    inside = fake_host("127.0.0.3", Channel.IMPORT_CSV)
    config = _config(tmp_path, imported=iter([outside, inside]))
    report = _auditor(config, [probe], [FakeChannel([])]).run()
    assert probe.addresses == ["127.0.0.3"]
    by_address = {str(d.host.address): d for d in report.devices}
    (skipped,) = by_address["127.0.1.7"].attempts
    assert skipped.outcome is Outcome.NOT_RUN and skipped.reason is Reason.NOT_APPLICABLE
    assert skipped.detail == "imported host outside the scope: identified offline"
    assert by_address["127.0.0.3"].attempts[0].outcome is Outcome.COMPLETED


def test_an_import_without_targets_contacts_nothing(tmp_path: Path) -> None:
    probe = FakeProbe("http")
    channel = FakeChannel([fake_host("127.0.0.1")])
    config = _config(tmp_path, targets=(), imported=[fake_host("10.1.2.3", Channel.IMPORT_NMAP)])
    report = _auditor(config, [probe], [channel]).run()
    assert probe.calls == [] and not channel.finished.is_set(), "something was contacted"
    (device,) = report.devices
    assert device.attempts[0].detail.endswith("never contacted")


def _stop_on(address: str, auditor: Callable[[], Auditor | None]) -> Callable[[Host], None]:
    def hook(host: Host) -> None:
        a = auditor()
        if str(host.address) == address and a is not None:
            a.stop()

    return hook


def _interrupted_run(tmp_path: Path, stop_at: str) -> tuple[AuditId, set[str]]:
    holder: list[Auditor] = []
    first = FakeProbe("http", hook=_stop_on(stop_at, lambda: holder[0] if holder else None))
    probes = [first, FakeProbe("tls")]
    channel = FakeChannel([fake_host(a) for a in ADDRESSES])
    auditor = _auditor(_config(tmp_path), probes, [channel])
    holder.append(auditor)
    with pytest.raises(KeyboardInterrupt):
        auditor.run()
    with Store(tmp_path / "a.db") as store:
        (summary,) = store.list_audits()
        assert summary.finished is None, "an interrupted audit must show as unfinished"
        saved = store.completed_addresses(summary.id)
        report = store.load_report(summary.id)
    # Every saved host was probed whole; the host in flight at the stop was not saved.
    for device in report.devices:
        assert all(a.reason is not Reason.INTERRUPTED for a in device.attempts)
        assert [a.probe for a in device.attempts] == ["http", "tls"]
    assert stop_at not in saved
    assert len(saved) < len(ADDRESSES)
    return summary.id, saved


def test_stop_mid_audit_keeps_finished_hosts_and_drops_those_in_flight(tmp_path: Path) -> None:
    _interrupted_run(tmp_path, "127.0.0.5")


def test_resume_probes_only_what_was_not_saved(tmp_path: Path) -> None:
    audit_id, saved = _interrupted_run(tmp_path, "127.0.0.5")
    probe = FakeProbe("http")
    channel = FakeChannel([fake_host(a) for a in ADDRESSES])
    resumed = _auditor(_config(tmp_path, resume=audit_id), [probe, FakeProbe("tls")], [channel])
    report = resumed.run()
    assert sorted(probe.addresses) == sorted(set(ADDRESSES) - saved)
    addresses = [str(d.host.address) for d in report.devices]
    assert sorted(addresses) == sorted(ADDRESSES), "a host was lost or held twice"
    assert report.audit.id == audit_id and report.audit.finished is not None
