"""The contract of a discovery channel: find hosts in scope and say what each reply carried."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from auditor.context import NetContext
from auditor.models import Channel, Host


class DiscoveryError(Exception):
    """A channel could not run at all (e.g. nmap missing); the audit goes on without it."""


class DiscoveryChannel(ABC):
    """One way of finding hosts (nmap, WS-Discovery, SADP, ...).

    ``discover`` yields a Host per reply, carrying the channel in ``seen_by`` and what the reply
    said as observations. It must never send to an address outside ``ctx.scope``; a device-supplied
    address outside it goes to ``ctx.refuse``. Expected network trouble is swallowed per host;
    trouble that stops the whole channel raises DiscoveryError.
    """

    channel: ClassVar[Channel]

    @abstractmethod
    def discover(self, ctx: NetContext) -> Iterator[Host]:  # pragma: no cover - abstract
        ...
