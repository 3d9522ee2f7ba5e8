"""Helpers every probe shares: which ports to ask, how to build observations, how to decode."""

from __future__ import annotations

import codecs
import logging
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

from auditor.context import NetContext
from auditor.errors import ProbeError, ProbeNotRun
from auditor.models import Host, Observation, ObservationKind, Reason
from auditor.ports import Role
from auditor.probes.interface import PartialFailure

logger = logging.getLogger(__name__)

_CHARSET_RE = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_\-:.]{1,40})""", re.IGNORECASE)
_REASON_ORDER = (
    Reason.AUTH_FAILED,
    Reason.AUTH_REQUIRED,
    Reason.TOO_LARGE,
    Reason.MALFORMED,
    Reason.TLS_ERROR,
    Reason.TIMEOUT,
    Reason.RESET,
    Reason.REFUSED,
    Reason.UNREACHABLE,
    Reason.OUT_OF_SCOPE,
)


def observation(kind: ObservationKind, value: str, source: str, port: int | None) -> Observation:
    return Observation(
        kind=kind, value=value, source=source, observed_at=datetime.now(UTC), port=port
    )


def ports_for(host: Host, ctx: NetContext, *roles: Role) -> tuple[int, ...]:
    """The plan's ports for these roles that discovery found open on the host, in plan order."""
    return tuple(p for p in ctx.ports.ports_for(*roles) if p in host.open_tcp_ports)


def require_ports(host: Host, ctx: NetContext, *roles: Role) -> tuple[int, ...]:
    ports = ports_for(host, ctx, *roles)
    if not ports:
        names = "/".join(r.value for r in roles)
        raise ProbeNotRun(Reason.NO_SERVICE, f"no open {names} port")
    return ports


def decode(data: bytes, declared: str | None = None) -> str:
    """Text from a device, in its declared charset when that is known, never failing."""
    charset = declared
    if charset is None:
        m = _CHARSET_RE.search(data[:4096])
        charset = m.group(1).decode("ascii") if m else None
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = None
    if data.startswith(b"\xef\xbb\xbf"):
        charset, data = "utf-8", data[3:]
    return data.decode(charset or "utf-8", errors="replace")


def charset_of(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _CHARSET_RE.search(content_type.encode("latin-1", "replace"))
    return m.group(1).decode("ascii") if m else None


def gather(ports: Iterable[int], ask: Callable[[int], list[Observation]]) -> list[Observation]:
    """Ask each port; keep what any port gave. Fail (with the most telling reason) only when no
    port gave anything: one dead port on a device whose other port answered is not a failure.
    The exception: credentials the user gave were refused (PartialFailure), which is reported
    as a failed attempt that keeps every observation."""
    found: list[Observation] = []
    errors: list[ProbeError] = []
    refused: PartialFailure | None = None
    for port in ports:
        try:
            found.extend(ask(port))
        except PartialFailure as exc:
            found.extend(exc.observations)
            refused = refused or exc
        except ProbeError as exc:
            logger.debug("port %s: %s", port, exc)
            errors.append(exc)
    if refused is not None:
        # The user's credentials were refused somewhere: the attempt says so, keeping the evidence.
        raise PartialFailure(refused.reason, refused.detail, dedupe(found))
    if found or not errors:
        return dedupe(found)
    errors.sort(key=lambda e: _REASON_ORDER.index(e.reason) if e.reason in _REASON_ORDER else 99)
    worst = errors[0]
    detail = "; ".join(e.detail for e in errors)
    raise ProbeError(worst.reason, detail[:500])


def dedupe(observations: Iterable[Observation]) -> list[Observation]:
    seen: set[tuple[str, str, str]] = set()
    out: list[Observation] = []
    for o in observations:
        key = (o.kind.value, o.source, o.value)
        if key not in seen:
            seen.add(key)
            out.append(o)
    return out
