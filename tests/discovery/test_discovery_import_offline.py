"""An import never probes by surprise (issue 13): ``--from-nmap``/``--from-csv`` without targets is
identified offline; with targets, only the addresses in those targets are contacted."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from auditor.cli.app import main


class Listener:
    """A loopback TCP port that counts every connection made to it."""

    def __init__(self, address: str) -> None:
        self.sock = socket.socket()
        self.sock.bind((address, 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError):
                conn, _ = self.sock.accept()
                self.accepted += 1
                conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@pytest.fixture
def listeners() -> Iterator[dict[str, Listener]]:
    made = {a: Listener(a) for a in ("127.0.0.1", "127.0.0.2")}
    yield made
    for item in made.values():
        item.close()


def _nmap_xml(path: Path, listeners: dict[str, Listener]) -> Path:
    hosts = "".join(
        f'<host><status state="up"/><address addr="{a}" addrtype="ipv4"/><ports>'
        f'<port protocol="tcp" portid="{item.port}"><state state="open"/>'
        '<service name="http"/></port></ports></host>'
        for a, item in listeners.items()
    )
    path.write_text(
        '<?xml version="1.0"?><!DOCTYPE nmaprun>'
        f'<nmaprun scanner="nmap" args="nmap -oX" version="7.93">{hosts}</nmaprun>'
    )
    return path


def _scan(tmp_path: Path, listeners: dict[str, Listener], *args: str) -> dict[str, object]:
    ports = ",".join(f"{item.port}/http" for item in listeners.values())
    xml = _nmap_xml(tmp_path / "scan.xml", listeners)
    out = tmp_path / "r.json"
    code = main(
        ["scan", *args, "--from-nmap", str(xml), "--ports", ports, "--timeout", "0.5",
         "--db", str(tmp_path / "a.db"), "-f", "json", "-o", str(out), "--exit-zero"]
    )  # fmt: skip
    assert code == 0
    report: dict[str, object] = json.loads(out.read_text())
    return report


def test_an_import_without_targets_contacts_nothing(
    tmp_path: Path, listeners: dict[str, Listener]
) -> None:
    report = _scan(tmp_path, listeners)
    assert [item.accepted for item in listeners.values()] == [0, 0]
    devices = report["devices"]
    assert isinstance(devices, list) and len(devices) == 2  # both identified, offline


def test_an_import_with_targets_contacts_only_the_targets(
    tmp_path: Path, listeners: dict[str, Listener]
) -> None:
    _scan(tmp_path, listeners, "127.0.0.2")
    assert listeners["127.0.0.1"].accepted == 0
    assert listeners["127.0.0.2"].accepted > 0
