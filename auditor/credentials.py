"""User-supplied device credentials: from a private file or the environment, never the command line.

The file is refused when group- or world-readable. Passwords are held in a wrapper whose repr
and str are masked, so a log line, an exception or a report cannot print one by accident.
"""

from __future__ import annotations

import ipaddress
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from auditor.errors import ConfigError
from auditor.models import IPAddress

ENV_USER = "CAMAUDIT_USERNAME"
ENV_PASSWORD = "CAMAUDIT_PASSWORD"


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


@dataclass(frozen=True, slots=True)
class CredentialStore:
    """Credentials per host or network, with an optional site-wide default."""

    default: Credential | None = None
    per_network: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, Credential], ...] = (
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

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> CredentialStore:
        env = os.environ if environ is None else environ
        user, password = env.get(ENV_USER), env.get(ENV_PASSWORD)
        if user and password:
            return cls(default=Credential(user, Secret(password)))
        return cls()

    @classmethod
    def load(cls, path: Path) -> CredentialStore:
        """Read a YAML credentials file::

        default: {username: admin, password: "..."}
        hosts:
          - {target: 192.0.2.10, username: admin, password: "..."}
          - {target: 192.0.2.0/28, username: viewer, password: "..."}
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
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            # The YAML error text can quote the file's content, i.e. a password: never show it.
            raise ConfigError(
                f"credentials file {path} is not valid YAML ({type(exc).__name__})"
            ) from None
        if not isinstance(data, dict):
            raise ConfigError(f"credentials file {path}: expected a mapping with default/hosts")
        default = _entry(data["default"], path, "default") if "default" in data else None
        per_net = []
        for i, item in enumerate(data.get("hosts") or []):
            where = f"hosts[{i}]"
            if not isinstance(item, dict) or "target" not in item:
                raise ConfigError(f"credentials file {path}: {where} needs a target")
            try:
                net = ipaddress.ip_network(str(item["target"]), strict=False)
            except ValueError:
                raise ConfigError(
                    f"credentials file {path}: {where} target is not an address or CIDR"
                ) from None
            per_net.append((net, _entry(item, path, where)))
        unknown = set(data) - {"default", "hosts"}
        if unknown:
            raise ConfigError(f"credentials file {path}: unknown keys {sorted(unknown)}")
        return cls(default=default, per_network=tuple(per_net))


def _entry(item: object, path: Path, where: str) -> Credential:
    if not isinstance(item, dict):
        raise ConfigError(f"credentials file {path}: {where} must be a mapping")
    user, password = item.get("username"), item.get("password")
    if not isinstance(user, str) or not isinstance(password, str) or not user:
        raise ConfigError(f"credentials file {path}: {where} needs username and password strings")
    return Credential(user, Secret(password))
