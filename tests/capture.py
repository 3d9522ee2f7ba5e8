"""Packet captures that prove they ran, for the tests that assert a packet was never sent.

An empty capture proves nothing if tcpdump was not yet listening, listened on the wrong
interface or had died: so ``Capture`` waits for tcpdump's own "listening on" line before the test
goes on, and on ``stop()`` sends one marker datagram that must cross the captured interface and
match the filter. It waits (bounded) until its marker (known by its source port) is in the
file, then stops tcpdump; a capture that never shows it fails the test. ``packets`` are the
other lines.

Root only (tcpdump, ``ip netns exec``). The marker goes only where the test says: a loopback
address or an address inside a namespace the test made (UDP port 9, discard).
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

MARKER_PORT = 9
MARKER = b"camaudit capture marker"
#: How long the marker may take to appear in the file (a bound on failure, never a wait on
#: success).
WAIT_S = 20.0
#: A loopback address nothing else in the test suite uses: the marker's destination when the
#: captured interface is the host's loopback.
LOOPBACK_MARKER = "127.83.77.1"


class Capture:
    """tcpdump on ``interface`` (in ``netns``, else the host) into ``pcap``, filtered by ``bpf``.

    ``marker_to`` is an IPv4 address that a datagram sent from the same namespace reaches
    through ``interface`` (a peer on the segment, the router, a loopback address).
    """

    def __init__(
        self,
        pcap: Path,
        interface: str,
        bpf: str,
        *,
        marker_to: str,
        netns: str | None = None,
    ) -> None:
        self.pcap, self.interface, self.bpf = pcap, interface, bpf
        self.marker_to, self.netns = marker_to, netns
        self.packets: list[str] | None = None
        self._proc: subprocess.Popen[str] | None = None

    def _in_ns(self, argv: list[str]) -> list[str]:
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else argv

    def start(self) -> Capture:
        marker = f"udp and dst host {self.marker_to} and dst port {MARKER_PORT}"
        argv = ["tcpdump", "-i", self.interface, "-n", "-U", "--immediate-mode"]
        argv += ["-w", str(self.pcap), f"({self.bpf}) or ({marker})"]
        self._proc = subprocess.Popen(
            self._in_ns(argv), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        assert self._proc.stderr is not None
        said: list[str] = []
        # tcpdump prints "listening on IFACE" once its filter is attached: only then can a
        # packet be caught. Warnings may come first; EOF means it died.
        while not any("listening on" in line for line in said):
            line = self._proc.stderr.readline()
            if not line:
                self._proc.wait(10)
                raise AssertionError(f"tcpdump did not start: {''.join(said)!r}")
            said.append(line)
        return self

    def _read(self) -> list[str]:
        done = subprocess.run(
            ["tcpdump", "-n", "-r", str(self.pcap)], capture_output=True, text=True, timeout=30
        )
        return [line for line in done.stdout.splitlines() if line.strip()]

    def _is_marker(self, line: str) -> bool:
        return f"> {self.marker_to}.{MARKER_PORT}: UDP" in line

    def stop(self) -> list[str]:
        """Send the marker, wait until the capture holds it, stop; return the other packets."""
        assert self._proc is not None, "start() the capture first"
        # From a source port of its own, so that only this capture's marker counts as proof
        # (another test run's marker to the same address is filtered out, never taken for ours).
        send = (
            "import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
            f"s.sendto({MARKER!r}, ({self.marker_to!r}, {MARKER_PORT})); "
            "print(s.getsockname()[1])"
        )
        sent = subprocess.run(
            self._in_ns([sys.executable, "-c", send]),
            check=True,
            timeout=30,
            capture_output=True,
            text=True,
        )
        ours = f".{int(sent.stdout)} > {self.marker_to}.{MARKER_PORT}: UDP"
        deadline = time.monotonic() + WAIT_S
        lines = self._read()
        while not any(ours in line for line in lines) and time.monotonic() < deadline:
            if self._proc.poll() is not None:
                break  # tcpdump died: the read below is all there will be
            time.sleep(0.05)
            lines = self._read()
        self.close()
        lines = self._read()  # everything flushed before tcpdump exited
        if not any(ours in line for line in lines):
            raise AssertionError(
                f"the capture on {self.interface} never saw its own marker packet to "
                f"{self.marker_to}: it was not capturing, so its silence proves nothing"
            )
        self.packets = [line for line in lines if not self._is_marker(line)]
        return self.packets

    def close(self) -> None:
        """Stop tcpdump without checking anything (teardown, or a test that failed first)."""
        if self._proc is not None and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait(10)

    def __enter__(self) -> Capture:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None and self.packets is None:
            self.stop()
        self.close()
