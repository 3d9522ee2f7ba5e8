"""Server-side checks of the credentials a client presents: HTTP Basic/Digest and WS-UsernameToken.

The lab verifies for real (RFC 7616 MD5 digest, ONVIF PasswordDigest with the Created time checked
against the device's own, possibly skewed, clock), so a client that computes them wrongly fails
here exactly as it would on a camera.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
from datetime import datetime, timedelta

_PARAM = re.compile(r'(\w+)=(?:"([^"]*)"|([^\s,]+))')

#: Seconds a UsernameToken's Created may differ from the device clock (ONVIF devices use ±5..±300 s;
#: research/protocols.md §2). Profiles may narrow it with ``onvif.time_window``.
DEFAULT_TIME_WINDOW = 300.0


def new_nonce() -> str:
    return binascii.hexlify(os.urandom(16)).decode()


def digest_challenge(realm: str, nonce: str, qop: bool = True, extra: str = "") -> str:
    parts = [f'Digest realm="{realm}"']
    if qop:
        parts.append('qop="auth"')
    parts.append(f'nonce="{nonce}"')
    if extra:
        parts.append(extra)
    return ", ".join(parts)


def parse_auth_params(value: str) -> dict[str, str]:
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(value)
    }


def _md5(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def check_basic(header: str, username: str, password: str) -> bool:
    if not header.lower().startswith("basic "):
        return False
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    user, _, pw = decoded.partition(":")
    return hmac.compare_digest(user, username) and hmac.compare_digest(pw, password)


def check_digest(
    header: str, method: str, realm: str, nonces: set[str], username: str, password: str
) -> bool:
    """Verify an RFC 2617/7616 MD5 Digest Authorization header against a nonce we issued."""
    if not header.lower().startswith("digest "):
        return False
    p = parse_auth_params(header[7:])
    if p.get("username") != username or p.get("realm") != realm:
        return False
    if p.get("nonce") not in nonces or "uri" not in p or "response" not in p:
        return False
    algorithm = p.get("algorithm", "MD5").upper()
    if algorithm != "MD5":
        return False
    ha1 = _md5(f"{username}:{realm}:{password}")
    ha2 = _md5(f"{method}:{p['uri']}")
    if p.get("qop"):
        if p["qop"] != "auth" or "nc" not in p or "cnonce" not in p:
            return False
        expected = _md5(f"{ha1}:{p['nonce']}:{p['nc']}:{p['cnonce']}:auth:{ha2}")
    else:
        expected = _md5(f"{ha1}:{p['nonce']}:{ha2}")
    return hmac.compare_digest(expected, p["response"].lower())


class TokenRejected(Exception):
    """A WS-UsernameToken that fails; ``reason`` is what a device log would say."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def parse_created(text: str) -> datetime:
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    created = datetime.fromisoformat(value)
    if created.tzinfo is None:
        raise ValueError("Created has no time zone")
    return created


def check_username_token(
    username: str,
    password_digest: str,
    nonce_b64: str,
    created: str,
    device_now: datetime,
    expected_user: str,
    expected_password: str,
    window: float = DEFAULT_TIME_WINDOW,
) -> None:
    """Raise TokenRejected unless the PasswordDigest, user and Created time are all right.

    PasswordDigest = Base64(SHA1(nonce_raw + Created + password)) (ONVIF Core; WS-Security
    UsernameToken Profile 1.0); Created is checked against the device clock, not the real one.
    """
    if username != expected_user:
        raise TokenRejected("unknown user")
    try:
        nonce = base64.b64decode(nonce_b64.strip(), validate=True)
    except binascii.Error:
        raise TokenRejected("nonce is not base64") from None
    try:
        when = parse_created(created)
    except ValueError:
        raise TokenRejected("Created is not an xs:dateTime") from None
    if abs(when - device_now) > timedelta(seconds=window):
        raise TokenRejected("Wsse authorized time check failed")
    raw = hashlib.sha1(nonce + created.strip().encode() + expected_password.encode()).digest()
    if not hmac.compare_digest(base64.b64encode(raw).decode(), password_digest.strip()):
        raise TokenRejected("password digest mismatch")
