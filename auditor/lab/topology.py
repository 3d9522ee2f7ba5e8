"""Namespace-mode plumbing: the site's L2 topology and the device-bound sockets.

See :mod:`auditor.lab.netns` for the layout. Every ``ip`` command runs in one batch per
namespace, so a 2,000-device site is built in seconds.
"""

from __future__ import annotations

import socket
import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING

from auditor.lab import nsutil
from auditor.lab.device import Device
from auditor.lab.engine import Binder

if TYPE_CHECKING:
    from auditor.lab.netns import NamespaceSite

SO_BINDTODEVICE = getattr(socket, "SO_BINDTODEVICE", 25)
#: Locally administered MACs for the lab's own interfaces (auditor, router's routed leg).
AUDITOR_MAC = "02:ca:00:00:00:01"
ROUTER_MAC = "02:ca:00:00:00:02"


class NetnsBinder(Binder):
    """Sockets bound to the device's own interface; UDP joins multicast groups there."""

    def prepare(self, sock: socket.socket, device: Device) -> None:
        if device.interface and "silent" not in device.profile.services:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, device.interface.encode())

    def udp_bind_address(self, device: Device) -> str:
        # The wildcard, so group and broadcast datagrams reach the socket; the device binding
        # keeps it to this device's interface.
        return "0.0.0.0" if device.interface else device.address

    def join(self, sock: socket.socket, device: Device, groups: Sequence[str]) -> None:
        if not device.interface:
            return
        index = socket.if_nametoindex(device.interface)
        for group in groups:
            mreqn = struct.pack(
                "4s4si", socket.inet_aton(group), socket.inet_aton("0.0.0.0"), index
            )
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(device.address))


def build(site: NamespaceSite) -> None:
    """Create the namespaces, bridge, veths, macvlans, addresses and routes of ``site``."""
    names = [site.site_netns, site.auditor_netns]
    if site.routed_subnet is not None:
        names.append(site.router_netns)
    nsutil.batch(None, [f"netns add {n}" for n in names])
    quiet = {
        # ARP flux: only the interface that owns an address answers ARP for it, and
        # requests use that interface's own address (set before the interfaces exist).
        "net.ipv4.conf.all.arp_ignore": "1",
        "net.ipv4.conf.default.arp_ignore": "1",
        "net.ipv4.conf.all.arp_announce": "2",
        "net.ipv4.conf.default.arp_announce": "2",
        "net.ipv4.conf.all.rp_filter": "0",
        "net.ipv4.conf.default.rp_filter": "0",
        "net.ipv6.conf.all.disable_ipv6": "1",
        "net.ipv6.conf.default.disable_ipv6": "1",
    }
    for name in names:
        nsutil.sysctl(name, quiet)
    # Every emulated device shares the site namespace's kernel, so they also share its ICMP
    # rate limit per destination (icmp_ratelimit: one error per second, with a small burst, to
    # the auditor's address): a hundred devices without an SNMP agent would answer one port
    # unreachable a second between them, and the rest look like silent firewalls. A real
    # device has its own kernel and its own limit: lift the shared one (Linux
    # Documentation/networking/ip-sysctl.rst, icmp_ratelimit; the host-wide icmp_msgs_per_sec
    # is left alone).
    nsutil.sysctl(site.site_netns, {"net.ipv4.icmp_ratelimit": "0"})
    s, a = site.site_netns, site.auditor_netns
    plen = site.subnet.prefixlen
    cmds = [
        "link set lo up",
        "link add ca-br0 type bridge",
        "link set ca-br0 up",
        f"link add ca-ap type veth peer name {site.auditor_interface} netns {a}",
        "link set ca-ap master ca-br0",
        "link set ca-ap up",
        "link add ca-p0 type veth peer name ca-pb",
        "link set ca-pb master ca-br0",
        "link set ca-pb up",
        "link set ca-p0 up",
    ]
    if site.routed_subnet is not None:
        r = site.router_netns
        cmds += [
            "link add ca-br1 type bridge",
            "link set ca-br1 up",
            f"link add ca-rp type veth peer name ca-r0 netns {r}",
            "link set ca-rp master ca-br0",
            "link set ca-rp up",
            f"link add ca-rq type veth peer name ca-r1 netns {r}",
            "link set ca-rq master ca-br1",
            "link set ca-rq up",
            "link add ca-q0 type veth peer name ca-qb",
            "link set ca-qb master ca-br1",
            "link set ca-qb up",
            "link set ca-q0 up",
        ]
    routes = []
    neighbours = []
    for dev in site.devices:
        routed = bool(dev.extra.get("routed"))
        parent = "ca-q0" if routed else "ca-p0"
        net = site.routed_subnet if routed and site.routed_subnet else site.subnet
        cmds += [
            f"link add {dev.interface} link {parent} address {dev.mac} type macvlan mode bridge",
            f"link set {dev.interface} up",
            f"addr add {dev.address}/{net.prefixlen} dev {dev.interface}",
        ]
        # Each device knows the auditor's (or the router's) MAC: otherwise 2,000 devices
        # answering one multicast probe would each ARP at once and overflow the kernel's
        # shared neighbour table. Permanent entries are exempt from that limit.
        peer, peer_mac = (
            (site.routed_gateway, ROUTER_MAC) if routed else (site.auditor_address, AUDITOR_MAC)
        )
        neighbours.append(
            f"neigh replace {peer} lladdr {peer_mac} dev {dev.interface} nud permanent"
        )
        if routed:
            routes.append(f"route append default via {site.routed_gateway} dev {dev.interface}")
    nsutil.batch(s, cmds + routes + neighbours)
    auditor = [
        "link set lo up",
        f"link set {site.auditor_interface} address {AUDITOR_MAC}",
        f"link set {site.auditor_interface} up",
        f"addr add {site.auditor_address}/{plen} dev {site.auditor_interface}",
        # Multicast discovery needs a route for the groups; nothing else leaves the segment.
        f"route add 224.0.0.0/4 dev {site.auditor_interface}",
    ]
    if site.static_arp:
        auditor += [
            f"neigh replace {d.address} lladdr {d.mac} dev {site.auditor_interface} nud permanent"
            for d in site.devices
            if not d.extra.get("routed") and "silent" not in d.profile.services
        ]
    if site.routed_subnet is not None:
        auditor.append(f"route add {site.routed_subnet} via {site.router_address}")
        nsutil.batch(
            site.router_netns,
            [
                "link set lo up",
                f"link set ca-r1 address {ROUTER_MAC}",
                "link set ca-r0 up",
                "link set ca-r1 up",
                f"addr add {site.router_address}/{plen} dev ca-r0",
                f"addr add {site.routed_gateway}/{site.routed_subnet.prefixlen} dev ca-r1",
            ],
        )
        nsutil.sysctl(site.router_netns, {"net.ipv4.ip_forward": "1"})
    nsutil.batch(a, auditor)
