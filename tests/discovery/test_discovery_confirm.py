"""The unicast check for hosts that only discovery replies named (issue 13)."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from auditor.context import NetContext
from auditor.discovery.confirm import arp_answered, tcp_answered
from auditor.scope import Scope

TABLE = (
    "IP address       HW type     Flags       HW address            Mask     Device\n"
    "10.88.0.11       0x1         0x2         02:00:00:00:00:0b     *        ca-a0\n"
    "10.88.11.254     0x1         0x0         00:00:00:00:00:00     *        ca-a0\n"
)


def test_only_a_completed_neighbour_entry_is_an_arp_answer(tmp_path: Path) -> None:
    table = tmp_path / "arp"
    table.write_text(TABLE)
    assert arp_answered(ipaddress.ip_address("10.88.0.11"), table)
    assert not arp_answered(ipaddress.ip_address("10.88.11.254"), table)  # a phantom: failed
    assert not arp_answered(ipaddress.ip_address("10.88.0.12"), table)


def test_a_refused_connection_is_an_answer_and_the_scope_still_rules() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # bound, never listening: the kernel answers with a reset
        ctx = NetContext(scope=Scope.parse(["127.0.0.1"]), timeout=0.5)
        assert tcp_answered(ctx, ipaddress.ip_address("127.0.0.1"), closed)
        outside = NetContext(scope=Scope.parse(["127.0.0.2"]), timeout=0.5)
        assert not tcp_answered(outside, ipaddress.ip_address("127.0.0.1"), closed)
