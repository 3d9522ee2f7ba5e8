"""User-supplied device credentials: from a private file or the environment, never the command line.

The file is refused when group- or world-readable. Passwords are held in a wrapper whose repr
and str are masked, so a log line, an exception or a report cannot print one by accident.
Values are checked when loaded (no line breaks, NUL or other control characters, valid UTF-8):
a password that could split a request header is refused with the entry it came from.

Also here, because they exist only for the credentials' sake: the per-device :class:`LoginLedger`
(at most one refused login per device and credential set, whatever probe or port asks) and
:func:`scrub_environment` (the CLI drops ``CAMAUDIT_PASSWORD`` once read). Taking credentials out
of device values is ``auditor.redact``.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import re
import stat
import threading
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from auditor.errors import ConfigError
from auditor.models import IPAddress

ENV_USER = "CAMAUDIT_USERNAME"
ENV_PASSWORD = "CAMAUDIT_PASSWORD"
ENV_SNMP_COMMUNITY = "CAMAUDIT_SNMP_COMMUNITY"


class Secret:
    """A password. ``reveal()`` is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("secret", len(self._value)))

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True, slots=True)
class Credential:
    username: str
    password: Secret
    label: str = "default"
    """Where the entry came from (``default``, the ``hosts`` target, ``environment``): the report
    names a refused credential by its label and user, never by its password."""
    basic_over_http: bool = False
    """Send HTTP Basic (the password, merely Base64-encoded) over plain HTTP to this target.
    Off unless the credentials file says ``allow_basic_over_http: true`` for the entry."""

    @property
    def describe(self) -> str:
        return f"credentials '{self.label}' (user {self.username})"


@dataclass(frozen=True, slots=True)
class CredentialStore:
    """Credentials per host or network, with an optional site-wide default."""

    default: Credential | None = None
    per_network: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Credential], ...] = (
        field(default=())
    )
    snmp_default: Secret | None = None
    """The SNMPv2c community the user gave for every host (never a guessed or default one)."""
    snmp_per_network: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Secret], ...] = (
        field(default=())
    )

    @classmethod
    def empty(cls) -> CredentialStore:
        return cls()

    def __bool__(self) -> bool:
        return self.default is not None or bool(self.per_network)

    def for_host(self, address: IPAddress) -> Credential | None:
        """The most specific entry that covers ``address`` (longest prefix), else the default."""
        best: tuple[int, Credential] | None = None
        for net, cred in self.per_network:
            if address in net and (best is None or net.prefixlen > best[0]):
                best = (net.prefixlen, cred)
        return best[1] if best else self.default

    def snmp_communities(self) -> tuple[Secret, ...]:
        """Every SNMP community given (for redaction)."""
        found = [c for _, c in self.snmp_per_network]
        if self.snmp_default is not None:
            found.append(self.snmp_default)
        return tuple(found)

    def snmp_community(self, address: IPAddress) -> Secret | None:
        """The user's SNMP community for ``address`` (longest prefix, else the default); None
        when the user gave none: SNMP is then not asked at all."""
        best: tuple[int, Secret] | None = None
        for net, community in self.snmp_per_network:
            if address in net and (best is None or net.prefixlen > best[0]):
                best = (net.prefixlen, community)
        return best[1] if best else self.snmp_default

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> CredentialStore:
        env = os.environ if environ is None else environ
        user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
        community = env.get(ENV_SNMP_COMMUNITY)
        default = None
        if user and password:
            _check_text(user, f"{ENV_USER}", username=True)
            _check_text(password, f"{ENV_PASSWORD}", username=False)
            default = Credential(user, Secret(password), label="environment")
        return cls(default=default, snmp_default=Secret(community) if community else None)

    def all(self) -> tuple[Credential, ...]:
        found = [c for _, c in self.per_network]
        if self.default is not None:
            found.append(self.default)
        return tuple(found)

    @classmethod
    def load(cls, path: Path) -> CredentialStore:
        """Read a YAML credentials file::

        default: {username: admin, password: "..."}
        hosts:
          - {target: 192.0.2.10, username: admin, password: "..."}
          - {target: 192.0.2.0/28, username: viewer, password: "...", label: lobby}
          - {target: 192.0.2.40, username: admin, password: "...", allow_basic_over_http: true}
        """
        try:
            st = path.stat()
        except OSError as exc:
            raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from None
        if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"credentials file {path} is readable by group or others "
                f"(mode {stat.filemode(st.st_mode)}); run: chmod 600 {path}"
            )
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read credentials file {path}: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # The position, not the bytes: they may be part of a password.
            line = raw[: exc.start].count(b"\n") + 1
            raise ConfigError(
                f"credentials file {path}: line {line} is not valid UTF-8; save the file as UTF-8"
            ) from None
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # The YAML error text can quote the file's content, i.e. a password: never show it.
            raise ConfigError(
                f"credentials file {path} is not valid YAML ({type(exc).__name__})"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"credentials file {path}: expected a mapping with default/hosts")
        default = _entry(data["default"], path, "default") if data.get("default") else None
        per_net = []
        for i, item in enumerate(data.get("hosts") or []):
            where = f"hosts[{i}]"
            net = _target(item, path, where)
            per_net.append((net, _entry(item, path, where, label=str(item["target"]))))
        unknown = set(data) - {"default", "hosts", "snmp"}
        if unknown:
            raise ConfigError(f"credentials file {path}: unknown keys {sorted(unknown)}")
        snmp_default, snmp_nets = _snmp(data.get("snmp"), path)
        return cls(
            default=default,
            per_network=tuple(per_net),
            snmp_default=snmp_default,
            snmp_per_network=snmp_nets,
        )


_ENTRY_KEYS = frozenset({"target", "username", "password", "label", "allow_basic_over_http"})
#: C0 controls (CR, LF, NUL, TAB...) and DEL: they would split or end a header or a JSON string.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _check_text(value: str, where: str, *, username: bool) -> None:
    """Refuse what no device can be sent safely; the message never quotes the value."""
    what = "username" if username else "password"
    if not value:
        raise ConfigError(f"{where}: the {what} is empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ConfigError(f"{where}: the {what} is not valid UTF-8") from None
    bad = _CONTROL_RE.search(value)
    if bad is not None:
        names = {"\r": "a carriage return", "\n": "a line feed", "\x00": "a NUL byte"}
        name = names.get(bad.group(), "a control character")
        raise ConfigError(
            f"{where}: the {what} contains {name} (position {bad.start() + 1}); "
            "it would break the request it is sent in"
        )
    if username and (":" in value or '"' in value or "\\" in value):
        # Basic joins user:password at the first colon; Digest quotes the user name.
        raise ConfigError(f"{where}: the username may not contain ':', '\"' or '\\'")


def _entry(item: object, path: Path, where: str, label: str = "default") -> Credential:
    if not isinstance(item, dict):
        raise ConfigError(f"credentials file {path}: {where} must be a mapping")
    user, password = item.get("username"), item.get("password")
    if not isinstance(user, str) or not isinstance(password, str) or not user:
        raise ConfigError(f"credentials file {path}: {where} needs username and password strings")
    unknown = set(item) - _ENTRY_KEYS
    if unknown:
        raise ConfigError(f"credentials file {path}: {where} has unknown keys {sorted(unknown)}")
    _check_text(user, f"credentials file {path}: {where}", username=True)
    _check_text(password, f"credentials file {path}: {where}", username=False)
    plain = item.get("allow_basic_over_http", False)
    if not isinstance(plain, bool):
        raise ConfigError(
            f"credentials file {path}: {where} allow_basic_over_http must be true or false"
        )
    name = item.get("label", label)
    if not isinstance(name, str) or not name or _CONTROL_RE.search(name):
        raise ConfigError(f"credentials file {path}: {where} label must be a one-line string")
    return Credential(user, Secret(password), label=name[:80], basic_over_http=plain)


def sofia_hash(password: str) -> str:
    """The Xiongmai DVRIP password hash: MD5 folded to 8 alphanumerics (OpenIPC/python-dvr,
    ``sofia_hash``). As good as the password on a DVRIP device, so it is redacted like one."""
    md5 = hashlib.md5(password.encode("utf-8"), usedforsecurity=False).digest()
    return "".join(_SOFIA[(md5[i] + md5[i + 1]) % 62] for i in range(0, 16, 2))


_SOFIA = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def scrub_environment() -> None:
    """Drop the credential variables from this process's environment once they are read, so no
    child started later (by us or a library) inherits them."""
    for name in (ENV_USER, ENV_PASSWORD, ENV_SNMP_COMMUNITY):
        os.environ.pop(name, None)


class LoginLedger:
    """Refused logins per device and credential set, shared by every probe and port of an audit.

    A wrong password costs one failed login on a device, not one per probe, path or port:
    camera lockout thresholds are around five. Probes ask :meth:`refusal` before sending a
    credential and call :meth:`record_refusal` when the device refuses it.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._refused: dict[tuple[str, Credential], str] = {}

    def refusal(self, address: IPAddress, credential: Credential) -> str | None:
        """Where this device already refused this credential set, or None."""
        with self._lock:
            return self._refused.get((str(address), credential))

    def record_refusal(self, address: IPAddress, credential: Credential, where: str) -> None:
        with self._lock:
            self._refused.setdefault((str(address), credential), where)

    def withheld_detail(self, address: IPAddress, credential: Credential) -> str | None:
        """The reason to give when a later probe skips the credential, or None to send it."""
        where = self.refusal(address, credential)
        if where is None:
            return None
        return (
            f"{credential.describe} were refused by this device at {where}; "
            "not sent again (one failed login per device, to stay clear of its lockout)"
        )

    def notes(self) -> tuple[str, ...]:
        """One line per refused credential set, naming the devices (never the password)."""
        with self._lock:
            items = list(self._refused.items())
        by_cred: dict[str, list[str]] = {}
        for (address, credential), _where in items:
            by_cred.setdefault(credential.describe, []).append(address)
        out = []
        for name, addresses in sorted(by_cred.items()):
            n = len(addresses)
            listed = ", ".join(sorted(addresses)[:20]) + (" ..." if n > 20 else "")
            out.append(
                f"{name} were refused by {n} device{'s' if n != 1 else ''} ({listed}); "
                "each got one failed login and no more"
            )
        return tuple(out)


def _community(value: object, path: Path, where: str) -> Secret:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"credentials file {path}: {where} needs a non-empty community string")
    return Secret(value)


def _snmp(
    section: object, path: Path
) -> tuple[Secret | None, tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Secret], ...]]:
    """The ``snmp:`` section::

    snmp:
      community: "..."                              # every host
      hosts:
        - {target: 192.0.2.0/28, community: "..."}  # more specific wins
    """
    if section is None:
        return None, ()
    if not isinstance(section, dict):
        raise ConfigError(f"credentials file {path}: snmp must be a mapping")
    unknown = set(section) - {"community", "hosts"}
    if unknown:
        raise ConfigError(f"credentials file {path}: unknown snmp keys {sorted(unknown)}")
    default = (
        _community(section["community"], path, "snmp.community") if "community" in section else None
    )
    nets = []
    for i, item in enumerate(section.get("hosts") or []):
        where = f"snmp.hosts[{i}]"
        net = _target(item, path, where)
        nets.append((net, _community(item.get("community"), path, where)))
    return default, tuple(nets)


def _target(item: object, path: Path, where: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """The network a per-host entry applies to (an address or a CIDR)."""
    if not isinstance(item, dict) or "target" not in item:
        raise ConfigError(f"credentials file {path}: {where} needs a target")
    try:
        return ipaddress.ip_network(str(item["target"]), strict=False)
    except ValueError:
        raise ConfigError(
            f"credentials file {path}: {where} target is not an address or CIDR"
        ) from None
