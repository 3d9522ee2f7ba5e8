"""The packet-capture helper (tests/capture.py) that every "nothing was sent" test relies on:
a capture that was not running must fail the test, never pass it as silence."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path

import pytest

from tests.capture import LOOPBACK_MARKER, MARKER_PORT, Capture

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("tcpdump") is None, reason="needs root and tcpdump"
)

#: A loopback address and port of these tests' own: the filter's traffic.
WATCHED = ("127.83.77.2", 9999)


def _capture(tmp_path: Path, interface: str = "lo") -> Capture:
    bpf = f"udp and dst host {WATCHED[0]} and dst port {WATCHED[1]}"
    return Capture(tmp_path / "a.pcap", interface, bpf, marker_to=LOOPBACK_MARKER)


def test_a_capture_returns_what_matched_its_filter_without_its_marker(tmp_path: Path) -> None:
    with _capture(tmp_path) as capture:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"watched", WATCHED)
        lines = capture.stop()
    assert len(lines) == 1 and f"{WATCHED[0]}.{WATCHED[1]}: UDP" in lines[0], lines


def test_a_capture_that_died_is_not_taken_for_silence(tmp_path: Path) -> None:
    capture = _capture(tmp_path).start()
    assert capture._proc is not None
    capture._proc.kill()
    capture._proc.wait(10)
    with pytest.raises(AssertionError, match="never saw its own marker packet"):
        capture.stop()


def test_a_capture_that_cannot_start_says_so(tmp_path: Path) -> None:
    with pytest.raises(AssertionError, match="tcpdump did not start"):
        _capture(tmp_path, interface="camaudit-none0").start()


def test_another_captures_marker_is_no_proof(tmp_path: Path) -> None:
    capture = _capture(tmp_path).start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"someone else's marker", (LOOPBACK_MARKER, MARKER_PORT))
    deadline = time.monotonic() + 20
    while not any(capture._is_marker(line) for line in capture._read()):
        assert time.monotonic() < deadline, "the foreign marker never reached the capture"
        time.sleep(0.05)
    assert capture._proc is not None
    capture._proc.kill()  # dead before our own marker is sent
    capture._proc.wait(10)
    with pytest.raises(AssertionError, match="never saw its own marker packet"):
        capture.stop()
