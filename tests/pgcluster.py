"""A throwaway PostgreSQL cluster for the tests: the distribution's server, never a mock.

``pg_cluster`` (session) starts one cluster: ``initdb`` in a temporary folder as an unprivileged
user (the ``postgres`` system user the Debian package creates, through ``runuser``, when the tests
run as root; the current user otherwise), listening on a Unix socket in that folder only, started
with ``pg_ctl`` and stopped when the session ends. ``pg_database`` (function) creates a fresh,
empty database for one test and drops it afterwards.

Tests that use them carry the ``postgres`` marker; they are skipped, with the reason, only when
the PostgreSQL server binaries are not installed (``apt-get install -y postgresql``).

``PgCluster.start`` is also usable directly, for a test that needs its own cluster with other
settings (TLS on a loopback port: ``tcp=True, settings={"ssl": "on", ...}``).
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import count
from pathlib import Path
from urllib.parse import quote

import pytest

_SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
_SUPERUSER = "postgres"
_database_numbers = count(1)


def find_bindir() -> Path | None:
    """The distribution's PostgreSQL server binaries (newest major version first), or None.

    Debian installs them under /usr/lib/postgresql/<major>/bin, off PATH; other machines may have
    unrelated copies in /usr/local/bin, so the distribution's folder wins, then ``pg_config``.
    """
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0,
        reverse=True,
    )
    pg_config = shutil.which("pg_config")
    if pg_config:
        done = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if done.returncode == 0 and done.stdout.strip():
            candidates.append(done.stdout.strip())
    for folder in candidates:
        if all(os.access(Path(folder, b), os.X_OK) for b in _SERVER_BINARIES):
            return Path(folder)
    return None


def unavailable_reason() -> str | None:
    """None when a cluster can be started here, else why not (the skip reason)."""
    if find_bindir() is None:
        return "needs the PostgreSQL server (apt-get install -y postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(_SUPERUSER)
        except KeyError:
            return "running as root needs the 'postgres' system user (apt-get install postgresql)"
        if shutil.which("runuser") is None:
            return "running as root needs runuser (util-linux) to start PostgreSQL unprivileged"
    return None


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PgCluster:
    """One running cluster. ``dsn`` is the superuser's URL to the ``postgres`` database."""

    bindir: Path
    folder: Path
    port: int
    tcp: bool
    owner: str | None  # the system user the server runs as when we are root, else None
    log: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log = self.folder / "server.log"

    @property
    def datadir(self) -> Path:
        return self.folder / "data"

    @property
    def socket_dir(self) -> Path:
        return self.folder

    @property
    def dsn(self) -> str:
        return self.url("postgres")

    def url(self, dbname: str, user: str = _SUPERUSER) -> str:
        """A ``postgresql://`` URL for ``dbname`` over the Unix socket (no password in it)."""
        host = quote(str(self.socket_dir), safe="")
        return f"postgresql://{quote(user)}@/{quote(dbname)}?host={host}&port={self.port}"

    def tcp_url(self, dbname: str, user: str = _SUPERUSER, host: str = "127.0.0.1") -> str:
        """A URL over the loopback port (only when started with ``tcp=True``)."""
        if not self.tcp:
            raise RuntimeError("this cluster listens on its Unix socket only")
        return f"postgresql://{quote(user)}@{host}:{self.port}/{quote(dbname)}"

    def _run(self, argv: list[str]) -> subprocess.CompletedProcess[str]:
        if self.owner is not None:
            argv = ["runuser", "-u", self.owner, "--", *argv]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120)

    @classmethod
    def start(
        cls,
        *,
        tcp: bool = False,
        settings: Mapping[str, str] | None = None,
        files: Mapping[str, bytes] | None = None,
        hba: Sequence[str] = (),
        durable: bool = False,
    ) -> PgCluster:
        """initdb + pg_ctl start in a new temporary folder; raises with the server log on failure.

        ``settings`` go into postgresql.conf; ``files`` are written into the data folder (owned by
        the server's user, mode 0600: e.g. server.key and server.crt for ``ssl=on``); ``hba``
        lines go first in pg_hba.conf (e.g. ``hostssl all all 127.0.0.1/32 trust``).
        """
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        owner = _SUPERUSER if os.geteuid() == 0 else None
        folder = Path(tempfile.mkdtemp(prefix="camaudit-pg-"))
        if owner is not None:
            entry = pwd.getpwnam(owner)
            os.chown(folder, entry.pw_uid, entry.pw_gid)
        os.chmod(folder, 0o700)
        cluster = cls(bindir, folder, _free_loopback_port(), tcp, owner)
        try:
            cluster._initdb(settings or {}, files or {}, hba, durable)
            cluster._pg_ctl_start()
        except BaseException:
            cluster.stop()
            raise
        return cluster

    def _initdb(
        self,
        settings: Mapping[str, str],
        files: Mapping[str, bytes],
        hba: Sequence[str],
        durable: bool,
    ) -> None:
        done = self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.datadir),
                "-U",
                _SUPERUSER,
                "--auth=trust",  # only reachable through our own 0700 folder or loopback
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",  # throwaway: no fsync at creation
            ]
        )
        if done.returncode != 0:
            raise RuntimeError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        lines = [
            f"listen_addresses = '{'127.0.0.1' if self.tcp else ''}'",
            f"port = {self.port}",
            f"unix_socket_directories = '{self.socket_dir}'",
            "max_connections = 200",  # the concurrent-push tests open many sessions at once
            "shared_buffers = 32MB",
        ]
        if not durable:
            # Throwaway data: durability buys nothing and costs the other tests I/O. A benchmark
            # asks for durable=True, to compare with SQLite's synchronous=FULL on equal terms.
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        lines += [f"{key} = '{value}'" for key, value in settings.items()]
        with (self.datadir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# camaudit tests\n" + "\n".join(lines) + "\n")
        for name, content in files.items():
            target = self.datadir / name
            target.write_bytes(content)
            target.chmod(0o600)
            if self.owner is not None:
                entry = pwd.getpwnam(self.owner)
                os.chown(target, entry.pw_uid, entry.pw_gid)
        if hba:
            # First match wins in pg_hba.conf: the caller's lines go before initdb's trust lines.
            hba_file = self.datadir / "pg_hba.conf"
            hba_file.write_text("\n".join(hba) + "\n" + hba_file.read_text(encoding="utf-8"))

    def _pg_ctl_start(self) -> None:
        done = self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.datadir),
                "-l",
                str(self.log),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl start failed: {done.stderr.strip()}\n{self.server_log()}")

    def server_log(self) -> str:
        try:
            return self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server but keep its data (``start_server`` brings it back)."""
        done = self._run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", mode, "-w", "stop"]
        )
        if done.returncode != 0:
            raise RuntimeError(f"pg_ctl stop failed: {done.stderr.strip()}")

    def start_server(self) -> None:
        self._pg_ctl_start()

    def stop(self) -> None:
        """Stop the server (fast shutdown) and remove the folder; safe to call twice."""
        if (self.datadir / "postmaster.pid").exists():
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "fast", "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)

    def create_database(self, name: str | None = None) -> str:
        """A fresh empty database; returns its superuser URL."""
        import psycopg

        name = name or f"t{os.getpid()}_{next(_database_numbers)}"
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            # FORCE: a test that failed may have left a session open.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def running_cluster(**kwargs: object) -> Iterator[PgCluster]:
    """``PgCluster.start(**kwargs)``, stopped on exit."""
    cluster = PgCluster.start(**kwargs)  # type: ignore[arg-type]
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One throwaway cluster for the session (skipped, with why, if PostgreSQL is missing)."""
    reason = unavailable_reason()
    if reason:
        pytest.skip(reason)
    with running_cluster() as cluster:
        yield cluster


@pytest.fixture
def pg_database(pg_cluster: PgCluster) -> Iterator[str]:
    """A fresh, empty database for one test: its superuser ``postgresql://`` URL."""
    name = f"t{os.getpid()}_{next(_database_numbers)}"
    url = pg_cluster.create_database(name)
    try:
        yield url
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_location(request: pytest.FixtureRequest, tmp_path: Path) -> Path | str:
    """Where a test's store is, once per engine: an SQLite file for the ``sqlite`` run, a fresh
    PostgreSQL database (its ``postgresql://`` URL) for the ``postgres`` run."""
    if request.param == "sqlite":
        return tmp_path / "c.db"
    url: str = request.getfixturevalue("pg_database")
    return url


def skip_postgres_items(items: list[pytest.Item]) -> None:
    """Collection hook helper: skip ``postgres``-marked tests, with why, where PG is missing."""
    marked = [item for item in items if "postgres" in item.keywords]
    if not marked:
        return
    reason = unavailable_reason()
    if reason:
        for item in marked:
            item.add_marker(pytest.mark.skip(reason=reason))
