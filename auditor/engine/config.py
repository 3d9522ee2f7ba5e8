"""What one audit is given: its configuration, the progress callbacks, and its identifier."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from auditor.credentials import CredentialStore
from auditor.models import Audience, AuditId, DeviceResult, Host
from auditor.ports import PortPlan

#: One host's probes together take at most this many ``timeout``s, a hard limit: the probe
#: running when it is spent is cut off at the same moment (README: resource bounds).
HOST_FACTOR = 40.0


@dataclass(frozen=True)
class AuditConfig:
    """Everything one audit needs; built by the CLI (or a library user) and never changed."""

    targets: tuple[str, ...]
    db_path: Path | str  # an SQLite file or a postgresql:// URL (see auditor.store)
    excludes: tuple[str, ...] = ()
    site: str = "default"
    profile: Audience = Audience.GENERIC
    ports: PortPlan = field(default_factory=PortPlan.default)
    timeout: float = 3.0
    rate: float | None = None
    credentials: CredentialStore = field(default_factory=CredentialStore.empty)
    allow_large: bool = False
    allow_public: bool = False
    multicast: bool = True
    interfaces: tuple[str, ...] = ()
    workers: int = 64
    snmp_port: int = 161
    """UDP port of the SNMP agents (161; the unprivileged loopback lab serves it elsewhere)."""
    channels: tuple[str, ...] | None = None
    """Discovery channels to run (None: all registered)."""
    imported: Iterable[Host] = ()
    """Hosts from --from-nmap / --from-csv, read once (a lazy iterable is fine: a 50,000-host
    file is never held whole): probed when in the targets, else identified offline (all of
    them when there are no targets: an import alone never sends anything)."""
    resume: AuditId | None = None
    host_budget_s: float | None = None
    """One host's probes together take at most this long (None: ``timeout * HOST_FACTOR``)."""

    @property
    def host_budget(self) -> float:
        return self.host_budget_s if self.host_budget_s is not None else self.timeout * HOST_FACTOR


class AuditObserver:
    """Progress callbacks for the CLI; the library never prints. All methods may be called from
    worker threads, so implementations must be thread-safe."""

    def on_stage(self, stage: str, total: int | None = None) -> None:
        """A stage begins: "discovery", "probing", "report".

        Hosts are probed while discovery still runs (``on_host_done`` comes during
        "discovery" too); "probing" marks the end of discovery, when the number of hosts this
        run probes is known: ``total`` counts those already done and those left."""

    def on_host_discovered(self, host: Host) -> None:
        """Discovery saw a host (may be called again for the same address by another channel)."""

    def on_channel_error(self, channel: str, message: str) -> None:
        """A discovery channel could not run; the audit goes on without it."""

    def on_host_done(self, device: DeviceResult) -> None:
        """A host was probed, identified, assessed and saved."""


def new_audit_id(now: datetime) -> AuditId:
    """Sortable and unique: the start time plus a random suffix."""
    return AuditId(f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}")
