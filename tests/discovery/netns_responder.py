"""A UDP device stand-in for netns tests: joins multicast groups and answers every datagram.

Usage: ip netns exec NS python netns_responder.py '<json>'; the JSON lists sockets as
{"port", "family" (4/6), "group" (or null), "iface", "reply" (hex)}. Prints "ready" when bound.
The lab (auditor/lab) is the full device emulator; this only checks the multicast transport.
"""

from __future__ import annotations

import json
import selectors
import socket
import struct
import sys


def main() -> None:
    cfg = json.loads(sys.argv[1])
    sel = selectors.DefaultSelector()
    for item in cfg:
        family = socket.AF_INET6 if item["family"] == 6 else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        index = socket.if_nametoindex(item["iface"])
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(("::", item["port"]))
            if item.get("group"):
                mreq = socket.inet_pton(socket.AF_INET6, item["group"]) + struct.pack("@I", index)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)
        else:
            sock.bind(("0.0.0.0", item["port"]))
            if item.get("group"):
                mreq = struct.pack("=4s4si", socket.inet_aton(item["group"]), b"\0" * 4, index)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        sel.register(sock, selectors.EVENT_READ, bytes.fromhex(item["reply"]))
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            ready = key.fileobj
            assert isinstance(ready, socket.socket)  # only sockets were registered
            data, peer = ready.recvfrom(65535)
            sys.stderr.write(f"{ready.getsockname()[1]} from {peer[0]}\n")
            ready.sendto(key.data, peer)


if __name__ == "__main__":
    main()
