"""Authentication on the wire: WWW-Authenticate parsing, HTTP Digest/Basic, WS-UsernameToken.

Only user-supplied credentials are ever used, and only in answer to a device's own challenge.
Passwords leave their ``Secret`` only inside the functions that hash or encode them.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from auditor.credentials import Credential
from auditor.errors import ProbeError
from auditor.models import Reason


class CredentialsWithheld(ProbeError):
    """The device asked for credentials, but camaudit did not send them (Basic over plain HTTP
    not allowed for the target, or this credential set was already refused by the device)."""

    def __init__(self, detail: str) -> None:
        super().__init__(Reason.AUTH_REQUIRED, detail)


_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_PARAM_RE = re.compile(rf"\s*({_TOKEN})\s*=\s*({_QUOTED}|[^\s,]*)\s*")
_SCHEME_RE = re.compile(rf"\s*({_TOKEN})(?=\s|,|$)")
_TOKEN68_RE = re.compile(r"\s+([A-Za-z0-9\-._~+/]+=*)\s*(?=,|$)")


@dataclass(frozen=True, slots=True)
class Challenge:
    scheme: str
    params: tuple[tuple[str, str], ...] = ()

    def param(self, name: str) -> str | None:
        key = name.lower()
        return next((v for k, v in self.params if k.lower() == key), None)

    @property
    def summary(self) -> str:
        """Scheme and realm only: the stable part (nonces change on every request)."""
        realm = self.param("realm")
        if realm is None:
            return self.scheme
        escaped = realm.replace("\\", "\\\\").replace('"', '\\"')
        return f'{self.scheme} realm="{escaped}"'


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        return re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def parse_challenges(header: str) -> list[Challenge]:
    """Parse one WWW-Authenticate value, which may hold several challenges (RFC 7235 4.1).

    ``Digest realm="a", nonce="b", Basic realm="c"`` -> two challenges. Raises MALFORMED.
    """
    out: list[Challenge] = []
    scheme: str | None = None
    params: list[tuple[str, str]] = []
    pos, end = 0, len(header)
    while pos < end:
        if header[pos] in " \t,":
            pos += 1
            continue
        m = _PARAM_RE.match(header, pos)
        if m and scheme is not None:
            params.append((m.group(1), _unquote(m.group(2))))
            pos = m.end()
            continue
        s = _SCHEME_RE.match(header, pos)
        if not s:
            raise ProbeError(
                Reason.MALFORMED, f"bad WWW-Authenticate near {header[pos : pos + 20]!r}"
            )
        if scheme is not None:
            out.append(Challenge(scheme, tuple(params)))
        scheme, params = s.group(1), []
        pos = s.end()
        t = _TOKEN68_RE.match(header, pos)
        if t and "=" not in t.group(1).rstrip("="):
            params.append(("token68", t.group(1)))
            pos = t.end()
    if scheme is not None:
        out.append(Challenge(scheme, tuple(params)))
    return out


def challenges_of(values: list[str]) -> list[Challenge]:
    return [c for v in values for c in parse_challenges(v)]


_HASHES = {"MD5": hashlib.md5, "MD5-SESS": hashlib.md5, "SHA-256": hashlib.sha256}


def _q(value: str) -> str:
    """A quoted-string body (RFC 9110 5.6.4): a device's realm cannot end our header field."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True, slots=True)
class Answer:
    """An Authorization value, its scheme, and the password-equivalent it was derived from (the
    Digest HA1: a device that echoes it must see it redacted like the password)."""

    header: str
    scheme: str
    derived_secrets: tuple[str, ...] = ()


def answer(
    challenges: list[Challenge], credential: Credential, method: str, uri: str
) -> Answer | None:
    """The answer to the best challenge (Digest over Basic), or None."""
    for ch in challenges:
        if ch.scheme.lower() == "digest":
            algorithm = (ch.param("algorithm") or "MD5").upper()
            if algorithm in _HASHES and ch.param("nonce") is not None:
                return _digest(ch, credential, method, uri, algorithm)
    for ch in challenges:
        if ch.scheme.lower() == "basic":
            # Basic exposes the password to the path; used only when the device offers nothing else.
            raw = f"{credential.username}:{credential.password.reveal()}".encode()
            return Answer("Basic " + base64.b64encode(raw).decode("ascii"), "basic")
    return None


def authorization(
    challenges: list[Challenge], credential: Credential, method: str, uri: str
) -> str | None:
    """The Authorization value answering the best challenge (Digest over Basic), or None."""
    found = answer(challenges, credential, method, uri)
    return None if found is None else found.header


def _digest(ch: Challenge, cred: Credential, method: str, uri: str, algorithm: str) -> Answer:
    """RFC 7616 client response (qop=auth or legacy RFC 2069)."""
    fn = _HASHES[algorithm]

    def h(text: str) -> str:
        return fn(text.encode("utf-8")).hexdigest()

    realm, nonce = ch.param("realm") or "", ch.param("nonce") or ""
    cnonce = os.urandom(8).hex()
    ha1 = h(f"{cred.username}:{realm}:{cred.password.reveal()}")
    secrets = [ha1]
    if algorithm.endswith("-SESS"):
        ha1 = h(f"{ha1}:{nonce}:{cnonce}")
    ha2 = h(f"{method}:{uri}")
    qops = [q.strip() for q in (ch.param("qop") or "").split(",") if q.strip()]
    fields = [
        f'username="{_q(cred.username)}"',
        f'realm="{_q(realm)}"',
        f'nonce="{_q(nonce)}"',
        f'uri="{_q(uri)}"',
        f"algorithm={ch.param('algorithm') or 'MD5'}",
    ]
    if "auth" in qops:
        nc = "00000001"
        response = h(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
        fields += ["qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
    else:
        response = h(f"{ha1}:{nonce}:{ha2}")
    fields.append(f'response="{response}"')
    opaque = ch.param("opaque")
    if opaque is not None:
        fields.append(f'opaque="{_q(opaque)}"')
    return Answer("Digest " + ", ".join(fields), "digest", tuple(secrets))


WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
_PW_DIGEST = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
    "#PasswordDigest"
)
_B64 = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


def _xml_escape(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def username_token(cred: Credential, skew: timedelta, now: datetime | None = None) -> str:
    """A WS-Security header with a PasswordDigest, ``Created`` on the device's clock.

    Devices reject tokens outside a few seconds to minutes of their own time, and camera clocks
    are often wrong: dating the token by the measured skew is what makes it accepted.
    """
    created_at = (now or datetime.now(UTC)) + skew
    created = created_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    nonce = os.urandom(16)
    digest = hashlib.sha1(nonce + created.encode() + cred.password.reveal().encode()).digest()
    return (
        f'<wsse:Security xmlns:wsse="{WSSE_NS}" xmlns:wsu="{WSU_NS}" s:mustUnderstand="1">'
        "<wsse:UsernameToken>"
        f"<wsse:Username>{_xml_escape(cred.username)}</wsse:Username>"
        f'<wsse:Password Type="{_PW_DIGEST}">{base64.b64encode(digest).decode()}</wsse:Password>'
        f'<wsse:Nonce EncodingType="{_B64}">{base64.b64encode(nonce).decode()}</wsse:Nonce>'
        f"<wsu:Created>{created}</wsu:Created>"
        "</wsse:UsernameToken></wsse:Security>"
    )
