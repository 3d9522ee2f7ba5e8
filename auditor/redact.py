"""Device values with the user's credentials taken out, before they are stored or rendered.

A device can echo what it was sent: the decoded Authorization value in its ISAPI ``<model>``, the
password in a SOAP fault. Every device-supplied string of a host's result goes through the
audit's :class:`Redactor` once, in the engine, so the identification, the store and every report
format see the redacted value only; the CLI filters log lines the same way (:func:`redact_logs`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import logging
import re
import threading
from collections.abc import Iterable
from dataclasses import replace
from urllib.parse import quote

from auditor.credentials import Credential, sofia_hash
from auditor.models import DeviceResult, Host, Observation, OutOfScopeReference, ProbeAttempt

REDACTED = "[credential redacted]"
_HEX_RE = re.compile(r"^[0-9a-fA-F]{16,}$")


class Redactor:
    """Removes the user's credentials, in every form a device could echo, from device text.

    Forms: the password, ``user:password``, its Basic (Base64) form, the DVRIP hash, MD5/SHA-256
    of the password, each Digest HA1 computed during the audit (:meth:`add_digest_secret`), and
    their HTML-, URL- and JSON-escaped spellings. Hex forms match in either case.
    """

    def __init__(self, credentials: Iterable[Credential] = ()) -> None:
        self._lock = threading.Lock()
        self._forms: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        for credential in credentials:
            self.add_credential(credential)

    def add_credential(self, credential: Credential) -> None:
        password = credential.password.reveal()
        pair = f"{credential.username}:{password}"
        basic = base64.b64encode(pair.encode("utf-8")).decode("ascii")
        raw = password.encode("utf-8")
        forms = {
            password,
            pair,
            basic,
            basic.rstrip("="),
            sofia_hash(password),
            hashlib.md5(raw, usedforsecurity=False).hexdigest(),
            hashlib.sha256(raw).hexdigest(),
        }
        for text in (password, pair):
            forms.add(html.escape(text, quote=True))
            forms.add(quote(text, safe=""))
            forms.add(_json_inner(text))
        self._add(forms)

    def add_digest_secret(self, value: str) -> None:
        """A value derived from the password during the audit (a Digest HA1 for one realm)."""
        self._add({value})

    def _add(self, forms: Iterable[str]) -> None:
        with self._lock:
            new = {f for f in forms if f} - self._forms
            if new:
                self._forms |= new
                self._pattern = None

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._forms:
                parts = []
                for form in sorted(self._forms, key=lambda f: (-len(f), f)):
                    escaped = re.escape(form)
                    parts.append(f"(?i:{escaped})" if _HEX_RE.match(form) else escaped)
                self._pattern = re.compile("|".join(parts))
            return self._pattern

    def __bool__(self) -> bool:
        with self._lock:
            return bool(self._forms)

    def text(self, value: str) -> str:
        pattern = self._compiled()
        if pattern is None or not value:
            return value
        return pattern.sub(REDACTED, value)

    def opt_text(self, value: str | None) -> str | None:
        return None if value is None else self.text(value)


def _json_inner(text: str) -> str:
    return json.dumps(text)[1:-1]


class RedactingLogFilter(logging.Filter):
    """Takes the credentials out of log lines (device text is logged at -v/-vv: a device that
    echoes the password into a SOAP fault must not put it on the terminal)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if self.redactor:
            message = record.getMessage()
            clean = self.redactor.text(message)
            if clean != message:
                record.msg, record.args = clean, None
        return True


def redact_logs(redactor: Redactor, logger_name: str = "auditor") -> None:
    """Install the filter on every handler of the package logger (handler filters also see
    records from child loggers, which logger filters would not)."""
    for handler in logging.getLogger(logger_name).handlers:
        if not any(isinstance(f, RedactingLogFilter) for f in handler.filters):
            handler.addFilter(RedactingLogFilter(redactor))


def observation(redactor: Redactor, obs: Observation) -> Observation:
    value = redactor.text(obs.value)
    return obs if value == obs.value else replace(obs, value=value)


def host(redactor: Redactor, h: Host) -> Host:
    services = tuple(
        replace(
            s,
            name=redactor.opt_text(s.name),
            product=redactor.opt_text(s.product),
            version=redactor.opt_text(s.version),
            extrainfo=redactor.opt_text(s.extrainfo),
            device_type=redactor.opt_text(s.device_type),
        )
        for s in h.services
    )
    return replace(
        h,
        mac_vendor=redactor.opt_text(h.mac_vendor),
        services=services,
        endpoint_ids=frozenset(redactor.text(e) for e in h.endpoint_ids),
        observations=tuple(observation(redactor, o) for o in h.observations),
    )


def attempt(redactor: Redactor, a: ProbeAttempt) -> ProbeAttempt:
    return replace(
        a,
        detail=redactor.text(a.detail),
        observations=tuple(observation(redactor, o) for o in a.observations),
    )


def device(redactor: Redactor, d: DeviceResult) -> DeviceResult:
    """The result with every device string redacted (before identification: the model and
    serial it names come from these values)."""
    if not redactor:
        return d
    return replace(
        d,
        host=host(redactor, d.host),
        attempts=tuple(attempt(redactor, a) for a in d.attempts),
    )


def reference(redactor: Redactor, ref: OutOfScopeReference) -> OutOfScopeReference:
    return replace(ref, address=redactor.text(ref.address), via=redactor.text(ref.via))
