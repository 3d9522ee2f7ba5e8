"""Safe handling of what devices send back: bounded, defused parsing and the scope check.

A reply is hostile until parsed: XML goes through ``auditor.net.safexml`` (no DTDs, no entities,
no external references, a size cap), every text is decoded leniently, and anything malformed
becomes a ReplyError that the channel logs and skips, never an exception that stops discovery.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from urllib.parse import urlsplit

from auditor.context import NetContext
from auditor.discovery.interface import DiscoveryChannel
from auditor.discovery.reach import Reach
from auditor.discovery.udp import Datagram, UdpPlan, exchange
from auditor.models import Host, IPAddress
from auditor.net import safexml
from auditor.scope import parse_address

logger = logging.getLogger(__name__)

#: No discovery reply legitimately comes near this; bigger input is refused before parsing.
MAX_REPLY_BYTES = 65_536


class ReplyError(ValueError):
    """A device reply that cannot be understood (malformed, hostile or too large)."""


def decode(data: bytes) -> str:
    """Text as received: UTF-8 where valid, invalid bytes replaced, NULs dropped."""
    return data.decode("utf-8", "replace").replace("\x00", "")


class HostileReply(ReplyError):
    """A reply that is an attack rather than a mistake (XML with a DTD or entities, an oversize
    reply): besides being skipped, it is named in the audit's notes, so an attack that only
    discovery saw is not silent (issue 9)."""


def parse_xml(data: bytes | str, limit: int = MAX_REPLY_BYTES) -> safexml.Element:
    try:
        return safexml.parse(data, limit=limit)
    except safexml.UnsafeXml as exc:
        raise HostileReply(str(exc)) from None
    except safexml.XmlError as exc:
        raise ReplyError(str(exc)) from None


def refused(ctx: NetContext, channel: str, source: IPAddress, exc: ReplyError) -> None:
    """Log a reply that was skipped; note it for the report when it was an attack."""
    logger.info("%s: ignoring reply from %s: %s", channel, source, exc)
    if isinstance(exc, HostileReply):
        ctx.note_hostile_reply(channel, str(source), str(exc))


def local(tag: object) -> str:
    """The local name of an element tag, whatever namespace prefix a vendor chose."""
    text = str(tag)
    return text.rsplit("}", 1)[-1]


def child_texts(element: safexml.Element) -> dict[str, str]:
    """The direct children of ``element`` by local name (first wins), texts stripped."""
    out: dict[str, str] = {}
    for child in element:
        out.setdefault(local(child.tag), (child.text or "").strip())
    return out


def find_all(root: safexml.Element, name: str) -> Iterator[safexml.Element]:
    for element in root.iter():
        if local(element.tag) == name:
            yield element


def address_or_none(text: str) -> IPAddress | None:
    try:
        return parse_address(text)
    except ValueError:
        return None


def url_host(url: str) -> str | None:
    try:
        return urlsplit(url.strip()).hostname
    except ValueError:
        return None


def check_referenced(ctx: NetContext, text: str, referrer: IPAddress, via: str) -> bool:
    """True if a device-supplied address may be contacted; otherwise record it as refused.

    Anything that is not a literal address in scope (a host name, garbage, a public address)
    is refused: resolving a name would itself send traffic outside the scope.
    """
    value = text.strip()
    if not value or value in ("0.0.0.0", "::"):
        return False
    addr = address_or_none(value)
    if addr is not None and ctx.allows(addr):
        return True
    ctx.refuse(value[:200], referrer, via)
    return False


class UdpChannel(DiscoveryChannel):
    """A channel that is one UDP round: build the plan, parse each reply into hosts.

    ``targets`` limits the round to directed probes at those addresses (see ``exchange``).
    ``reach`` says, after ``discover``, where its multicast went and whether replies were lost.
    """

    def __init__(self, targets: Sequence[IPAddress] | None = None) -> None:
        self.targets = tuple(targets) if targets is not None else None
        self.reach = Reach()

    def round(self, ctx: NetContext) -> Iterator[Datagram]:
        """This channel's one UDP round (a fresh ``reach`` for it)."""
        self.reach = Reach()
        return exchange(
            ctx, self.plan(ctx), targets=self.targets, channel=self.channel.value, reach=self.reach
        )

    def plan(self, ctx: NetContext) -> UdpPlan:  # pragma: no cover - abstract
        raise NotImplementedError

    def parse(self, reply: Datagram, ctx: NetContext) -> Iterable[Host]:  # pragma: no cover
        raise NotImplementedError

    def discover(self, ctx: NetContext) -> Iterator[Host]:
        for reply in self.round(ctx):
            try:
                hosts = list(self.parse(reply, ctx))
            except ReplyError as exc:
                refused(ctx, self.channel.value, reply.source, exc)
                continue
            yield from hosts
