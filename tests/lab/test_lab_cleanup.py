"""A loopback site leaves nothing behind: threads, sockets, listeners, temp files."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from auditor.lab import DEMO_DEVICES, LoopbackSite


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def lab_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "camaudit-lab"]


def refused(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=0.5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_start_is_fast_and_stop_releases_everything():
    before = open_fds()
    start = time.monotonic()
    site = LoopbackSite(DEMO_DEVICES).start()
    started = time.monotonic() - start
    address, port = site.targets[0], site.devices[0].port(80)
    assert not refused(address, port)
    assert open_fds() > before + 3 * len(DEMO_DEVICES)
    site.stop()
    assert started < 2.0, f"start took {started:.2f}s"
    assert lab_threads() == []
    assert refused(address, port)
    assert open_fds() <= before
    site.stop()  # idempotent


def test_exception_and_keyboard_interrupt_inside_the_block_clean_up():
    for exc in (RuntimeError("boom"), KeyboardInterrupt()):
        with pytest.raises(type(exc)), LoopbackSite(["hikvision-ipc"]) as site:
            address, port = site.targets[0], site.devices[0].port(80)
            raise exc
        assert refused(address, port)
        assert lab_threads() == []


def test_a_failed_start_cleans_up_what_it_opened():
    blocker = LoopbackSite(["hikvision-ipc", "dahua-ipc"]).start()
    try:
        before = open_fds()
        clash = LoopbackSite(["linux-nginx", "hikvision-ipc"], subnet=str(blocker.subnet))
        with pytest.raises(OSError):
            clash.start()
        assert open_fds() <= before
        assert len(lab_threads()) == 1
    finally:
        blocker.stop()


def test_concurrent_sites_get_different_subnets():
    with LoopbackSite(["hikvision-ipc"]) as one, LoopbackSite(["hikvision-ipc"]) as two:
        assert one.subnet != two.subnet
