"""The nmap channel: run ``nmap -oX`` as a subprocess over the scope and parse its XML.

Decision (docs/decisions.md, "nmap via subprocess"): no python-nmap, which drops devicetype and
CPEs and parses with xml.etree. Only the scope's own networks are passed, with its exclusions as
``--exclude``, and ``-n`` always (no reverse DNS: it is slow and sends queries out of scope).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import replace
from pathlib import Path

from auditor import children
from auditor.context import NetContext
from auditor.discovery.interface import DiscoveryChannel, DiscoveryError
from auditor.discovery.nmap_xml import MAX_XML_BYTES, NmapRun, NmapXmlError, parse_nmap_xml
from auditor.models import Channel, Host
from auditor.scope import Network

logger = logging.getLogger(__name__)

_PRIVILEGE_HINTS = ("requires root privileges", "Operation not permitted", "dnet: Failed to open")
#: Ports that a camera answers on even when ICMP is filtered: the host-discovery probes.
_PING_PORTS = (80, 443, 554, 8000, 8080, 34567, 37777)
#: Packets per second nmap never drops below (bench/run: measured in docs/decisions.md).
MIN_RATE = 1000.0
#: Above this many addresses nmap does not retransmit (see build_argv).
LARGE_SCOPE = 4096


def nmap_binary() -> str:
    path = shutil.which("nmap")
    if path is None:
        raise DiscoveryError(
            "nmap is not installed, so no port scan ran: install it (apt-get install nmap, "
            "dnf install nmap, brew install nmap) or import a scan with --from-nmap FILE.xml"
        )
    return path


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def build_argv(
    nmap: str,
    ctx: NetContext,
    networks: Sequence[Network],
    excludes: Sequence[Network],
    output: Path,
    *,
    privileged: bool,
    service_detection: bool = False,
) -> list[str]:
    """The nmap command line for one address family of the scope."""
    ports = ctx.ports.ports
    ping = sorted(set(_PING_PORTS) | set(ports[:10]))
    argv = [nmap, "-n", "-oX", str(output), "-p", ",".join(map(str, ports))]
    # SYN scan needs raw sockets; a connect scan works for everyone and is what nmap itself
    # falls back to. As root on the same segment nmap also ARPs, which yields the MAC.
    argv += ["-sS", "-PE"] if privileged else ["-sT"]
    argv += ["-PS" + ",".join(map(str, ping))]
    if service_detection:
        argv += ["-sV", "--version-light"]
    rtt_ms = max(100, int(ctx.timeout * 1000))
    # A large scope is mostly addresses nobody answers for, and every retry re-sends to all of
    # them. Bench (a /19 of the sparse /16 at 250/s): retries 2 or 1 -> 75 s, 0 -> 43 s, the
    # same 242 hosts and 583 open ports; the multicast channels remain a second net for cameras.
    size = sum(n.num_addresses for n in networks)
    retries = "0" if size > LARGE_SCOPE else "2"
    argv += ["-T4", "--max-retries", retries, "--max-rtt-timeout", f"{rtt_ms}ms"]
    rate = ctx.rate.per_second
    # A floor on the send rate: without it nmap's congestion control creeps on hosts that drop
    # (silent addresses), 5.6 s -> 1.7 s on the bench's /24, same hosts and ports found.
    floor = MIN_RATE if rate is None else min(MIN_RATE, rate)
    argv += ["--min-rate", f"{floor:g}"]
    if rate is not None:
        argv += ["--max-rate", f"{rate:g}"]
    if any(n.version == 6 for n in networks):
        argv.append("-6")
    if excludes:
        argv += ["--exclude", ",".join(str(n) for n in excludes)]
    argv += ["--", *(str(n) for n in networks)]
    return argv


def run_timeout(ctx: NetContext, networks: Sequence[Network]) -> float:
    """A generous ceiling for one nmap run, so a wedged scan cannot hang the audit."""
    size = sum(min(n.num_addresses, 1 << 20) for n in networks)
    return 120.0 + size * 0.05 * max(1.0, ctx.timeout)


def _families(nets: Sequence[Network]) -> dict[int, list[Network]]:
    out: dict[int, list[Network]] = {}
    for n in nets:
        out.setdefault(n.version, []).append(n)
    return out


class NmapChannel(DiscoveryChannel):
    channel = Channel.NMAP

    def __init__(self, service_detection: bool = False) -> None:
        self.service_detection = service_detection

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        nmap = nmap_binary()
        includes = _families(ctx.scope.includes)
        excludes = _families(ctx.scope.excludes)
        for version, networks in sorted(includes.items()):
            yield from self._scan(nmap, ctx, networks, excludes.get(version, []))

    def _scan(
        self, nmap: str, ctx: NetContext, networks: list[Network], excludes: list[Network]
    ) -> Iterator[Host]:
        privileged = is_root()
        yielded: set[str] = set()
        with tempfile.TemporaryDirectory(prefix="camaudit-nmap-") as tmp:
            out = Path(tmp) / "scan.xml"
            args = (nmap, ctx, networks, excludes, out)
            returncode, stderr = yield from self._run(*args, privileged, yielded)
            if privileged and returncode != 0 and _needs_privilege(stderr) and not yielded:
                # Root without CAP_NET_RAW (some containers): a connect scan still works.
                logger.warning("nmap SYN scan not permitted here; using a connect scan")
                returncode, stderr = yield from self._run(*args, False, yielded)
            if returncode != 0:
                if _needs_privilege(stderr):
                    raise DiscoveryError(
                        "nmap needs raw-socket privileges for this scan type: run camaudit as "
                        "root (sudo) or grant nmap CAP_NET_RAW"
                    )
                raise DiscoveryError(f"nmap failed (exit {returncode}): {_last_line(stderr)}")
            try:
                run = parse_nmap_xml(out.read_bytes())
            except (OSError, NmapXmlError) as exc:
                raise DiscoveryError(f"nmap output could not be read: {exc}") from None
        # The whole file, read once nmap is done, is the record: any host the reads while it
        # ran did not give (an element cut at a read's end) is reported now.
        yield from _worth_auditing(ctx, run, yielded)

    def _run(
        self,
        nmap: str,
        ctx: NetContext,
        networks: list[Network],
        excludes: list[Network],
        out: Path,
        privileged: bool,
        yielded: set[str],
    ) -> Generator[Host, None, tuple[int, str]]:
        """Run nmap, yielding each host as nmap writes it; return (exit code, stderr).

        nmap writes a host group's results as soon as the group is done, small groups first
        (bench/run site24: 73 of 250 hosts at 0.9 s, all at 2.3 s), so the engine probes the
        first hosts while nmap still scans the rest (issue 16).
        """
        argv = build_argv(
            nmap,
            ctx,
            networks,
            excludes,
            out,
            privileged=privileged,
            service_detection=self.service_detection,
        )
        limit = run_timeout(ctx, networks)
        logger.info("running %s", " ".join(argv))
        errors = out.with_suffix(".stderr")
        tail = _XmlTail(out)
        with errors.open("w+b") as err:
            try:
                with children.started(argv, stderr=err) as proc:
                    end = time.monotonic() + limit
                    while proc.poll() is None:
                        if ctx.stopping.is_set():
                            # Leaving the block ends nmap; a stop is not a channel failure.
                            raise DiscoveryError("nmap was stopped with the audit")
                        if time.monotonic() > end:
                            raise DiscoveryError(
                                f"nmap did not finish within {limit:.0f} s; narrow the scope"
                            )
                        yield from _worth_auditing(ctx, tail.read(), yielded)
                        time.sleep(TAIL_POLL_S)
                    returncode = proc.wait()
            except OSError as exc:
                raise DiscoveryError(f"nmap could not be started: {exc}") from None
            err.seek(0)
            stderr = err.read(1 << 20).decode("utf-8", "replace")
        return returncode, stderr


#: How often the XML of a running nmap is read for new hosts.
TAIL_POLL_S = 0.1


class _XmlTail:
    """The <host> elements nmap has finished writing to its XML file since the last read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read(self) -> NmapRun | None:
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read(MAX_XML_BYTES)
        except OSError:
            return None  # not written yet
        start = data.find(b"<host ")
        end = data.rfind(b"</host>")
        if start < 0 or end < start:
            return None
        end += len(b"</host>")
        self.offset += end
        try:
            # The host elements alone, under a root of their own: no times of the run (the
            # observation is timed now), the same parser and limits as the whole file.
            return parse_nmap_xml(b"<nmaprun>" + data[start:end] + b"</nmaprun>")
        except NmapXmlError as exc:
            # Read again whole at the end, where an error is the channel's.
            logger.debug("nmap XML read mid-run: %s", exc)
            return None


def _worth_auditing(ctx: NetContext, run: NmapRun | None, yielded: set[str]) -> Iterator[Host]:
    if run is None:
        return
    for host in run.hosts:
        key = str(host.address)
        # nmap was given only the scope; this is the belt to those braces.
        if key in yielded or not ctx.allows(host.address):
            continue
        # "Up" alone is weak: on loopback every address answers every port with RST. An
        # open port, a filtered one (something there drops probes) or an ARP-verified MAC
        # (a real device on this segment) makes a host worth auditing.
        if host.services or host.mac or key not in run.all_closed:
            yielded.add(key)
            yield replace(host, address=ctx.scope.with_zone(host.address))


def _needs_privilege(stderr: str) -> bool:
    return any(hint in stderr for hint in _PRIVILEGE_HINTS)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no error message"
