"""The audit engine: scope -> discover -> probe -> identify -> assess, stored as it goes.

The engine owns ordering and concurrency only; each stage lives in its own package, and every
collaborator (probes, discovery channels, identifier, assessors, the unicast check) can be
passed in, so a stage can be tested without a socket. Hosts are probed concurrently (the work
waits on the network), probes run in registry order within a host (``hostaudit``), and each
finished host is committed to the store at once so an interrupted audit loses nothing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from auditor import __version__, clock, offline, redact, resources
from auditor.context import NetContext, RateLimiter
from auditor.discovery.confirm import unicast_answer
from auditor.discovery.interface import DiscoveryChannel
from auditor.engine.config import AuditConfig, AuditObserver, new_audit_id
from auditor.engine.dispatch import Dispatch
from auditor.engine.feed import DiscoveryFeed, channel_name
from auditor.engine.hostaudit import HostAuditor, HostTools, UnicastCheck
from auditor.exposure import Assessor
from auditor.identify import Identifier
from auditor.models import (
    AuditId,
    AuditInfo,
    AuditReport,
    Channel,
    ChannelFailure,
    Host,
    IPAddress,
    OutOfScopeReference,
)
from auditor.probes import PROBES, Probe
from auditor.resources import bundle_data_version, fingerprint_data_version
from auditor.scope import Scope
from auditor.store import Store
from auditor.store.sightings import Sightings
from auditor.vulns import VulnAssessor, VulnMatcher

logger = logging.getLogger(__name__)


def _unicast(ctx: NetContext, address: IPAddress, tried_tcp: bool) -> str | None:
    return unicast_answer(ctx, address, tried_tcp=tried_tcp)


@dataclass(frozen=True)
class Collaborators:
    """What the engine works with; None: today's default (the registries, the shipped data)."""

    probes: Sequence[Probe] | None = None
    channels: Sequence[DiscoveryChannel] | None = None
    """Channel objects to run instead of ``AuditConfig.channels`` (names in the registry)."""
    identifier: Identifier | None = None
    assessor: Assessor | None = None
    vulns: VulnAssessor | None = None
    unicast: UnicastCheck | None = None


class Auditor:
    """Runs one audit. ``run()`` returns the report as loaded back from the store; ``execute()``
    returns only the audit's id, for callers that read the store in bounded queries (a 50,000-
    device report loaded whole takes hundreds of MB)."""

    def __init__(
        self,
        config: AuditConfig,
        observer: AuditObserver | None = None,
        *,
        probes: Sequence[Probe] | None = None,
        channels: Sequence[DiscoveryChannel] | None = None,
        identifier: Identifier | None = None,
        assessor: Assessor | None = None,
        vulns: VulnAssessor | None = None,
        unicast: UnicastCheck | None = None,
    ) -> None:
        self.config = config
        self.observer = observer or AuditObserver()
        self.parts = Collaborators(probes, channels, identifier, assessor, vulns, unicast)
        self._probes = tuple(probes) if probes is not None else _default_probes()
        self._stop = threading.Event()

    def stop(self) -> None:
        """Ask a running audit to stop after the hosts in flight (SIGTERM/SIGINT)."""
        self._stop.set()

    def _context(self, scope: Scope) -> NetContext:
        cfg = self.config
        return NetContext(
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

    def _data(self) -> tuple[Assessor, VulnAssessor]:
        cfg, parts = self.config, self.parts
        assessor = parts.assessor or Assessor.load(cfg.db_path, today=clock.today())
        # Known vulnerabilities of each host's firmware, from the KEV/CVE data imported now;
        # they are saved with the host (a resumed or re-rendered audit keeps them).
        vulns = parts.vulns or VulnAssessor.load(resources.data_root(), today=assessor.today)
        return assessor, vulns

    def _tools(
        self, ctx: NetContext, data: tuple[Assessor, VulnAssessor], identifier: Identifier
    ) -> HostTools:
        cfg, parts = self.config, self.parts
        assessor, vulns = data
        return HostTools(
            ctx=ctx,
            probes=self._probes,
            identifier=identifier,
            assessor=assessor,
            vulns=vulns,
            matcher=VulnMatcher(vulns.data),
            unicast=parts.unicast or _unicast,
            stop=self._stop,
            budget_s=cfg.host_budget,
            audience=cfg.profile,
            offline_detail=(
                "imported host outside the scope: identified offline"
                if cfg.targets
                else "imported without targets: identified offline, never contacted"
            ),
        )

    def run(self) -> AuditReport:
        audit_id = self.execute()
        with Store(self.config.db_path) as store:
            return store.load_report(audit_id)

    def execute(self) -> AuditId:
        """Run the audit into the store and return its id, without loading the report."""
        cfg = self.config
        ctx = self._context(self._scope())
        # The fingerprints load while discovery starts: no host is ready before the first
        # sighting, and discovery mostly waits on the network.
        loader = ThreadPoolExecutor(1, thread_name_prefix="load")
        identifier = loader.submit(lambda: self.parts.identifier or Identifier.default())
        loader.shutdown(wait=False)
        data = self._data()
        with Store(cfg.db_path) as store:
            info = self._begin(store, data)
            if not cfg.targets:
                tools = self._tools(ctx, data, identifier.result())
                return self._offline(store, info, tools)
            channels = self._channels(ctx)
            scans_ports = any(channel_name(c) == Channel.NMAP.value for c in channels)
            # Under --rate the port scan already sends at the rate the user allows: probes that
            # ran beside it would double what the network receives (site16, at the lab's ARP
            # limit, lost 275 of 1,750 cameras so), so they start when the scan is over.
            book = Sightings(
                cfg.db_path, info.id, ports_pending=scans_ports, whole_scan=cfg.rate is not None
            )
            feed = DiscoveryFeed(ctx, channels, cfg.imported, book, self.observer)
            try:
                self.observer.on_stage("discovery")
                feed.start()
                tools = self._tools(ctx, data, identifier.result())
                hosts_auditor = HostAuditor(tools)
                dispatch = Dispatch(
                    ctx, feed, book, hosts_auditor, store, info, self.observer, self._stop,
                    lambda host: _references(ctx, host),
                )  # fmt: skip
                dispatch.run()
                unconfirmed = book.unconfirmed()
            finally:
                if not feed.finished.is_set():
                    # The dispatcher ended early (a stop, an error): so does discovery.
                    self._stop.set()
                if feed.join(30.0):
                    book.close()
            # What discovery was told about addresses outside the scope (probes' references
            # went with their host).
            store.save_out_of_scope(info.id, _references(ctx))
            if feed.error is not None:
                raise feed.error
            if self._stop.is_set():
                raise KeyboardInterrupt
            failures = feed.failures
            notes = _notes(ctx, tools, unconfirmed, info, failures)
            store.finish_audit(info.id, datetime.now(UTC), notes=notes, channel_failures=failures)
            self.observer.on_stage("report")
            return info.id

    def _offline(self, store: Store, info: AuditInfo, tools: HostTools) -> AuditId:
        """An import without targets: no discovery, no probe; each host is identified and
        saved as the file is read (``auditor.offline``)."""
        cfg = self.config
        done = store.completed_addresses(cfg.resume) if cfg.resume is not None else set()
        self.observer.on_stage("discovery")
        self.observer.on_stage("probing", offline.count(cfg.imported, done))
        finish = HostAuditor(tools).finish
        offline.identify_offline(
            cfg.imported,
            offline.OfflineImport(
                probes=tuple(p.name for p in tools.probes),
                finish=finish,
                secrets=tools.ctx.secrets,
                detail=tools.offline_detail,
            ),
            store,
            info.id,
            done=done,
            stop=self._stop,
            on_done=self.observer.on_host_done,
        )
        if self._stop.is_set():
            raise KeyboardInterrupt
        notes = _notes(tools.ctx, tools, 0, info, ())
        store.finish_audit(info.id, datetime.now(UTC), notes=notes, channel_failures=())
        self.observer.on_stage("report")
        return info.id

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

    def _begin(self, store: Store, data: tuple[Assessor, VulnAssessor]) -> AuditInfo:
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
            return info
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
                bundle_data_version(data[0].today),
                fingerprint_data_version(),
                *data[0].data_versions(),
                *data[1].data_versions(),
            ),
            ports=cfg.ports.ports,
            port_spec=cfg.ports.spec(),
            probes=tuple(p.name for p in self._probes),
            rate=cfg.rate,
            timeout=cfg.timeout,
            allow_large=cfg.allow_large,
            allow_public=cfg.allow_public,
        )
        store.begin_audit(info)
        return info

    def _channels(self, ctx: NetContext) -> Sequence[str | DiscoveryChannel]:
        # An empty scope (an offline import) runs no channel at all: there is nowhere to send.
        if not ctx.scope.includes:
            return ()
        if self.parts.channels is not None:
            return tuple(self.parts.channels)
        from auditor.discovery import CHANNELS

        return self.config.channels if self.config.channels is not None else tuple(CHANNELS)


def _default_probes() -> tuple[Probe, ...]:
    return tuple(cls() for cls in PROBES.values())


def _notes(
    ctx: NetContext,
    tools: HostTools,
    unconfirmed: int,
    info: AuditInfo,
    failures: tuple[ChannelFailure, ...],
) -> tuple[str, ...]:
    """The disclaimer and stale-data warnings that travel with the audit into every report,
    and the credential sets a device refused (by label and user, never password)."""
    return (
        *tools.assessor.notes(),
        *ctx.logins.notes(),
        *ctx.discovery_caps,
        *_unconfirmed_note(unconfirmed),
        *tools.vulns.notes(),
        *(ctx.secrets.text(n) for n in ctx.hostile_replies),
        *(
            f"Discovery channel {f.channel} failed: {f.message}. Devices only it would "
            f"find may be missing; `camaudit scan --resume {info.id}` runs discovery "
            "again and probes what was not saved."
            for f in failures
        ),
    )


def _unconfirmed_note(n: int) -> tuple[str, ...]:
    if not n:
        return ()
    hosts = "1 host was" if n == 1 else f"{n:,} hosts were"
    return (
        f"Unconfirmed: {hosts} seen only in discovery replies and never answered a unicast "
        "exchange (no TCP connection, no probe reply, no open port or ARP reply to nmap); "
        "a discovery reply's source can be forged, so their maker claims are not used.",
    )


def _references(ctx: NetContext, host: Host | None = None) -> list[OutOfScopeReference]:
    """The out-of-scope references (those ``host`` made, or all), as stored: device-supplied
    addresses with any credential a device echoed into them taken out."""
    return [
        redact.reference(ctx.secrets, r)
        for r in ctx.out_of_scope
        if host is None or r.referrer == host.address
    ]
