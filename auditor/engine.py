"""The audit engine: scope -> discover -> probe -> identify -> assess, stored as it goes.

The engine owns ordering and concurrency only; each stage lives in its own package. Hosts are
probed concurrently (the work waits on the network), probes run in registry order within a host
(later probes read earlier evidence, e.g. ONVIF uses the XAddrs that WS-Discovery reported), and
each finished host is committed to the store at once so an interrupted audit loses nothing.
"""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from auditor import __version__, clock, offline, redact, resources
from auditor.context import NetContext, RateLimiter
from auditor.credentials import CredentialStore
from auditor.discovery import discover_all
from auditor.discovery.confirm import unicast_answer
from auditor.exposure import Assessor
from auditor.identify import Identifier
from auditor.models import (
    Audience,
    AuditId,
    AuditInfo,
    AuditReport,
    Channel,
    ChannelFailure,
    DeviceResult,
    Host,
    Identification,
    Outcome,
    OutOfScopeReference,
    ProbeAttempt,
    Reason,
)
from auditor.net.exchange import host_budget
from auditor.net.wire import Deadline
from auditor.ports import PortPlan
from auditor.probes import PROBES, Probe, attempt
from auditor.resources import bundle_data_version, fingerprint_data_version
from auditor.scope import Scope
from auditor.store import Store
from auditor.vulns import VulnAssessor, VulnMatcher
from auditor.vulns.records import VulnData

logger = logging.getLogger(__name__)

UNCONFIRMED_RATIONALE = (
    "unconfirmed: seen only in discovery replies, and nothing at the address answered a unicast "
    "exchange; the maker the replies claim is not used (they may come from a forged source)"
)

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
    """Hosts from --from-nmap / --from-csv: probed when in the targets, else identified offline
    (all of them when there are no targets: an import alone never sends anything). May be
    lazy (``ImportedHosts``): it is iterated once."""
    resume: AuditId | None = None


class AuditObserver:
    """Progress callbacks for the CLI; the library never prints. All methods may be called from
    worker threads, so implementations must be thread-safe."""

    def on_stage(self, stage: str, total: int | None = None) -> None:
        """A stage begins: "discovery", "probing" (with the number of hosts), "report"."""

    def on_host_discovered(self, host: Host) -> None:
        """Discovery saw a host (may be called again for the same address by another channel)."""

    def on_channel_error(self, channel: str, message: str) -> None:
        """A discovery channel could not run; the audit goes on without it."""

    def on_host_done(self, device: DeviceResult) -> None:
        """A host was probed, identified, assessed and saved."""


def new_audit_id(now: datetime) -> AuditId:
    """Sortable and unique: the start time plus a random suffix."""
    return AuditId(f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}")


class Auditor:
    """Runs one audit. ``run()`` returns the report as loaded back from the store; ``execute()``
    returns only the audit's id, for callers that read the store in bounded queries (a 50,000-
    device report loaded whole takes hundreds of MB)."""

    def __init__(self, config: AuditConfig, observer: AuditObserver | None = None) -> None:
        self.config = config
        self.observer = observer or AuditObserver()
        self._stop = threading.Event()
        self._count_lock = threading.Lock()
        self._unconfirmed = 0
        # Empty until run() loads the vulnerability data imported by then.
        self._vulns = VulnAssessor(VulnData(), datetime.now(UTC).date())
        self._vuln_matcher = VulnMatcher(self._vulns.data)

    def stop(self) -> None:
        """Ask a running audit to stop after the hosts in flight (SIGTERM/SIGINT)."""
        self._stop.set()

    def run(self) -> AuditReport:
        audit_id = self.execute()
        with Store(self.config.db_path) as store:
            return store.load_report(audit_id)

    def execute(self) -> AuditId:
        """Run the audit into the store and return its id, without loading the report."""
        cfg = self.config
        scope = self._scope()
        ctx = NetContext(
            scope=scope,
            timeout=cfg.timeout,
            rate=RateLimiter(cfg.rate, stop=self._stop),
            credentials=cfg.credentials,
            ports=cfg.ports,
            interfaces=cfg.interfaces,
            # A loopback-only scope has no segment to multicast on: never send multicast then.
            multicast=cfg.multicast and not all(n.is_loopback for n in scope.includes),
            workers=cfg.workers,
            stopping=self._stop,
            snmp_port=cfg.snmp_port,
        )
        identifier = Identifier.default()
        assessor = Assessor.load(cfg.db_path, today=clock.today())
        # Known vulnerabilities of each host's firmware, from the KEV/CVE data imported now;
        # they are saved with the host (a resumed or re-rendered audit keeps them).
        self._vulns = VulnAssessor.load(resources.data_root(), today=assessor.today)
        self._vuln_matcher = VulnMatcher(self._vulns.data)
        probes = [cls() for cls in PROBES.values()]
        with Store(cfg.db_path) as store:
            info, done = self._begin(store, assessor, probes)
            self.observer.on_stage("discovery")
            failures: tuple[ChannelFailure, ...] = ()
            if not cfg.targets:
                # An import without targets: no discovery, no probe; each host is identified
                # and saved as the file is read (auditor.offline).
                self.observer.on_stage("probing", offline.count(cfg.imported, done))
                offline.identify_offline(
                    cfg.imported,
                    offline.OfflineImport(
                        probes=tuple(p.name for p in probes),
                        finish=lambda d: self._finish(d, identifier, assessor, info.profile),
                        secrets=ctx.secrets,
                    ),
                    store,
                    info.id,
                    done=done,
                    stop=self._stop,
                    on_done=self.observer.on_host_done,
                )
            else:
                hosts, failures = self._discover(ctx)
                # What discovery was told about addresses outside the scope is kept now, not at
                # the end: a killed audit must not lose it (probes' references go with their
                # host).
                store.save_out_of_scope(info.id, _references(ctx))
                todo = [h for h in hosts if str(h.address) not in done]
                self.observer.on_stage("probing", len(todo))
                self._probe_all(todo, ctx, probes, identifier, assessor, store, info)
                store.save_out_of_scope(info.id, _references(ctx))
            if self._stop.is_set():
                raise KeyboardInterrupt
            # The disclaimer and stale-data warnings travel with the audit into every report,
            # and so do the credential sets a device refused (by label and user, never password).
            notes = (
                *assessor.notes(),
                *ctx.logins.notes(),
                *ctx.discovery_caps,
                *self._unconfirmed_note(),
                *self._vulns.notes(),
                *(ctx.secrets.text(n) for n in ctx.hostile_replies),
                *(
                    f"Discovery channel {f.channel} failed: {f.message}. Devices only it would "
                    f"find may be missing; `camaudit scan --resume {info.id}` runs discovery "
                    "again and probes what was not saved."
                    for f in failures
                ),
            )
            store.finish_audit(info.id, datetime.now(UTC), notes=notes, channel_failures=failures)
            self.observer.on_stage("report")
            return info.id

    def _check_unicast(self, device: DeviceResult, ctx: NetContext) -> DeviceResult:
        """Give a host that only discovery replies named one unicast check of its own."""
        if self._stop.is_set():
            return device
        tried = any(a.reason in (Reason.TIMEOUT, Reason.UNREACHABLE) for a in device.attempts)
        how = unicast_answer(ctx, device.host.address, tried_tcp=tried)
        if how is None:
            return device
        logger.debug("%s answered a unicast check (%s)", device.host.address, how)
        seen = device.host.seen_by | {Channel.UNICAST}
        return replace(device, host=replace(device.host, seen_by=seen))

    def _unconfirmed_note(self) -> tuple[str, ...]:
        n = self._unconfirmed
        if not n:
            return ()
        hosts = "1 host was" if n == 1 else f"{n:,} hosts were"
        return (
            f"Unconfirmed: {hosts} seen only in discovery replies and never answered a unicast "
            "exchange (no TCP connection, no probe reply, no open port or ARP reply to nmap); "
            "a discovery reply's source can be forged, so their maker claims are not used.",
        )

    # -- stages -----------------------------------------------------------------------------

    def _scope(self) -> Scope:
        cfg = self.config
        if not cfg.targets:
            # An import without targets is identified offline: the scope is empty, so nothing
            # is contacted. Taking the file's addresses as the scope probed whatever network
            # the laptop auditing a client's file was on (issue 13).
            return Scope(includes=())
        return Scope.parse(
            cfg.targets,
            cfg.excludes,
            allow_large=cfg.allow_large,
            allow_public=cfg.allow_public,
            interfaces=cfg.interfaces,
        )

    def _begin(
        self, store: Store, assessor: Assessor, probes: Sequence[Probe]
    ) -> tuple[AuditInfo, set[str]]:
        cfg = self.config
        if cfg.resume is not None:
            # The pace this run really uses (the original's, unless given again) is recorded.
            info = replace(
                store.load_audit_info(cfg.resume),
                rate=cfg.rate,
                timeout=cfg.timeout,
                allow_large=cfg.allow_large,
                allow_public=cfg.allow_public,
            )
            store.begin_audit(info)
            return info, store.completed_addresses(cfg.resume)
        started = datetime.now(UTC)
        info = AuditInfo(
            id=new_audit_id(started),
            site=cfg.site,
            started=started,
            tool_version=__version__,
            targets=cfg.targets,
            excludes=cfg.excludes,
            profile=cfg.profile,
            data_versions=(
                bundle_data_version(assessor.today),
                fingerprint_data_version(),
                *assessor.data_versions(),
                *self._vulns.data_versions(),
            ),
            ports=cfg.ports.ports,
            port_spec=cfg.ports.spec(),
            probes=tuple(p.name for p in probes),
            rate=cfg.rate,
            timeout=cfg.timeout,
            allow_large=cfg.allow_large,
            allow_public=cfg.allow_public,
        )
        store.begin_audit(info)
        return info, set()

    def _discover(self, ctx: NetContext) -> tuple[list[Host], tuple[ChannelFailure, ...]]:
        # An empty scope (an offline import) runs no channel at all: there is nowhere to send.
        channels = self.config.channels if ctx.scope.includes else ()
        result = discover_all(ctx, channels=channels, on_host=self.observer.on_host_discovered)
        for channel, message in result.errors:
            logger.warning("discovery channel %s did not run: %s", channel, message)
            self.observer.on_channel_error(channel, message)
        failures = tuple(ChannelFailure(c, m) for c, m in result.errors)
        merged: dict[str, Host] = {str(h.address): h for h in result.hosts}
        for host in self.config.imported:
            key = str(host.address)
            merged[key] = merged[key].merge(host) if key in merged else host
        hosts = sorted(merged.values(), key=lambda h: (h.address.version, int(h.address)))
        return hosts, failures

    def _probe_all(
        self,
        hosts: Iterable[Host],
        ctx: NetContext,
        probes: Sequence[Probe],
        identifier: Identifier,
        assessor: Assessor,
        store: Store,
        info: AuditInfo,
    ) -> None:
        store_lock = threading.Lock()

        def one(host: Host) -> DeviceResult:
            device = self._audit_host(host, ctx, probes, identifier, assessor, info.profile)
            if any(a.reason is Reason.INTERRUPTED for a in device.attempts):
                # Stopped mid-host: not saved, so `scan --resume` probes it again from the start
                # (a saved host counts as done, and would stay half-probed for good).
                return device
            refs = _references(ctx, host)
            with store_lock:  # one writer at a time; each host is its own transaction
                store.save_device(info.id, device, refs)
            self.observer.on_host_done(device)
            return device

        self._map_bounded(one, hosts, ctx.workers)

    def _map_bounded(
        self, fn: Callable[[Host], DeviceResult], hosts: Iterable[Host], workers: int
    ) -> None:
        """Run ``fn`` over hosts with at most ``workers`` in flight, stopping on request.

        Submitting lazily keeps memory flat on a /16 and lets a stop request take effect
        without waiting for thousands of queued hosts.
        """
        pending: set[Future[DeviceResult]] = set()
        it = iter(hosts)
        with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="probe") as pool:
            try:
                while True:
                    while len(pending) < workers and not self._stop.is_set():
                        host = next(it, None)
                        if host is None:
                            break
                        pending.add(pool.submit(fn, host))
                    if not pending:
                        break
                    finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
                    for fut in finished:
                        fut.result()  # a store error must stop the audit, not vanish
            except BaseException:
                self._stop.set()
                for fut in pending:
                    fut.cancel()
                raise

    def _skip(self, probe: Probe, reachable: bool, budget: Deadline) -> ProbeAttempt | None:
        """The attempt to record instead of running ``probe``, or None to run it."""
        if self._stop.is_set():
            return ProbeAttempt(
                probe.name,
                Outcome.NOT_RUN,
                reason=Reason.INTERRUPTED,
                detail="the audit was stopped",
            )
        if not reachable:
            return ProbeAttempt(
                probe.name,
                Outcome.NOT_RUN,
                reason=Reason.NOT_APPLICABLE,
                detail=(
                    "imported host outside the scope: identified offline"
                    if self.config.targets
                    else "imported without targets: identified offline, never contacted"
                ),
            )
        if budget.remaining() <= 0:
            return ProbeAttempt(
                probe.name,
                Outcome.FAILED,
                reason=Reason.TIMEOUT,
                detail=f"not run: the host's {budget.seconds:.0f} s time budget was spent",
            )
        return None

    def _audit_host(
        self,
        host: Host,
        ctx: NetContext,
        probes: Sequence[Probe],
        identifier: Identifier,
        assessor: Assessor,
        audience: Audience,
    ) -> DeviceResult:
        attempts: list[ProbeAttempt] = []
        reachable = host.address in ctx.scope
        # One host may not hold a worker for long, whatever each probe's own budget allows:
        # ten probes at PROBE_FACTOR x timeout each could take five minutes on a hostile device.
        # The budget is hard: every probe's deadline is cut to what is left of it.
        with host_budget(ctx.timeout * HOST_FACTOR) as budget:
            # Later probes see earlier evidence through the host they are given; the result
            # keeps the discovered host, and each probe observation once, under its attempt.
            seen_by_probes = host
            for probe in probes:
                skip = self._skip(probe, reachable, budget)
                if skip is not None:
                    attempts.append(skip)
                    continue
                result = attempt(probe, seen_by_probes, ctx)
                attempts.append(result)
                if result.observations:
                    seen_by_probes = replace(
                        seen_by_probes,
                        observations=seen_by_probes.observations + result.observations,
                    )
            # A device may echo what it was sent (the Authorization value in its ISAPI
            # <model>): credentials are taken out of every device value before anything names,
            # stores or renders it.
            device = redact.device(ctx.secrets, DeviceResult(host=host, attempts=tuple(attempts)))
            if device.unconfirmed and reachable and budget.remaining() > 0:
                device = self._check_unicast(device, ctx)
        return self._finish(device, identifier, assessor, audience)

    def _finish(
        self, device: DeviceResult, identifier: Identifier, assessor: Assessor, audience: Audience
    ) -> DeviceResult:
        """Identify and assess a probed (or offline) host, or say why it is not believed."""
        if device.unconfirmed:
            # A discovery reply alone names no maker: its source may be forged, and a forged
            # flood of "Hikvision" ProbeMatches must not become critical findings (issue 13).
            # Not assessed either: it is not known to be a device, so no finding or action is
            # listed for it; the audit's notes and summary count it instead.
            with self._count_lock:
                self._unconfirmed += 1
            return replace(device, identification=Identification.unknown((UNCONFIRMED_RATIONALE,)))
        identification = identifier.identify(device.observations)
        assessment = assessor.assess(identification, audience)
        device = replace(
            device,
            identification=identification,
            exposures=assessment.exposures,
            remediation=assessment.remediation,
        )
        return self._vulns.device(device, self._vuln_matcher, audience)


def _references(ctx: NetContext, host: Host | None = None) -> list[OutOfScopeReference]:
    """The out-of-scope references (those ``host`` made, or all), as stored: device-supplied
    addresses with any credential a device echoed into them taken out."""
    return [
        redact.reference(ctx.secrets, r)
        for r in ctx.out_of_scope
        if host is None or r.referrer == host.address
    ]
