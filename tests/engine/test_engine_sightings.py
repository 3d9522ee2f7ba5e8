"""The sightings a streaming audit keeps in the store (issue 16): nothing a channel reported is
lost on the way through the store, and hosts become ready in the order the engine needs."""

from __future__ import annotations

import ipaddress
from datetime import UTC, datetime
from pathlib import Path

from auditor.models import AuditId, AuditInfo, Channel, Host, Observation, ObservationKind, Service
from auditor.store import Store
from auditor.store.sightings import Sightings, host_from_json, host_to_json


def _store(db: Path | str) -> Path | str:
    with Store(db) as store:
        store.begin_audit(
            AuditInfo(AuditId("a1"), "site", datetime.now(UTC), "0", ("10.0.0.0/24",))
        )
    return db


def test_a_host_survives_the_store_whole() -> None:
    at = datetime(2026, 12, 1, 10, 0, 0, 123456, tzinfo=UTC)
    host = Host(
        ipaddress.ip_address("fe80::1"),
        mac="c4:2f:90:00:00:05",
        mac_vendor="Hangzhou Hikvision",
        services=(
            Service(
                80,
                name="http",
                product="Hikvision Web",
                version="1.0",
                extrainfo="x",
                device_type="webcam",
                tunnel="ssl",
                cpes=("cpe:/h:hikvision",),
            ),
            Service(161, protocol="udp"),
        ),  # fmt: skip
        seen_by=frozenset({Channel.NMAP, Channel.SADP}),
        endpoint_ids=frozenset({"urn:uuid:1"}),
        observations=(
            Observation(ObservationKind.SADP_PROBE_MATCH, "<x>é</x>", "sadp", at, 37020),
        ),
        mac_on_wire=True,
    )
    back = host_from_json(host_to_json(host))
    assert back == host
    assert [o.sha256 for o in back.observations] == [o.sha256 for o in host.observations]


def test_hosts_wait_for_the_port_scan_then_come_in_order(store_location: Path | str) -> None:
    db = _store(store_location)
    book = Sightings(db, "a1", ports_pending=True)
    udp_only = Host(ipaddress.ip_address("10.0.0.9"), seen_by=frozenset({Channel.SADP}))
    scanned = Host(
        ipaddress.ip_address("10.0.0.20"),
        services=(Service(80),),
        seen_by=frozenset({Channel.NMAP}),
    )
    book.add(udp_only)
    book.add(scanned)
    book.flush()
    assert [str(s.host.address) for s in book.ready(0, 10)] == ["10.0.0.20"]
    book.ports_known()
    ready = book.ready(0, 10)
    assert [str(s.host.address) for s in ready] == ["10.0.0.20", "10.0.0.9"]
    # A later sighting merges into the stored host.
    book.add(Host(ipaddress.ip_address("10.0.0.9"), seen_by=frozenset({Channel.MDNS})))
    host, _ = book.current("10.0.0.9")
    assert host is not None and host.seen_by == {Channel.SADP, Channel.MDNS}
    book.close()
    # A new run with a port scan to come: the host nmap never saw waits for it again.
    again = Sightings(db, "a1", ports_pending=True)
    assert [str(s.host.address) for s in again.ready(0, 10)] == ["10.0.0.20"]
    again.close()
