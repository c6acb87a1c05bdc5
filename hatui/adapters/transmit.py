"""Sending: VRRP adverts on a raw IP socket, gratuitous ARPs and unsolicited NAs as raw frames.

The kernel builds the IP header of adverts from socket options, so TTL, TOS and source
come out right on every send without hand-built headers; the caller's VRRP message
carries a checksum computed for `src_ip` and the destination it passes to `send`.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import struct

from hatui.adapters.netlink import ifindex, interface_mac, primary_address
from hatui.codec.build import build_garp_frame, build_na_frame
from hatui.codec.frames import Family
from hatui.errors import RuntimeFault
from hatui.vrrp.spec import DEFAULT_MCAST_V4, DEFAULT_MCAST_V6

log = logging.getLogger(__name__)

IPPROTO_VRRP = 112
VRRP_TTL = 255  # RFC 5798 5.1.1.3 / 5.1.2.3: receivers drop anything else
VRRP_TOS = 0xC0  # internetwork control, what keepalived sets
SO_BINDTODEVICE = 25
MAX_CACHED_FRAMES = 4096  # announcement frames kept per interface


def _fault(what: str, interface: str, exc: OSError) -> RuntimeFault:
    if isinstance(exc, PermissionError):
        return RuntimeFault(f"{what} on {interface} needs root (or CAP_NET_RAW): run it with sudo")
    return RuntimeFault(f"{what} on {interface}: {exc.strerror or exc}")


class AdvertSender:
    """A raw IP (protocol 112) socket sending one instance's adverts from one interface.

    `mcast_group` defaults to the family's VRRP group (224.0.0.18 / ff02::12); with
    `join=False` (unicast peers only) the socket joins no group.
    """

    def __init__(
        self,
        interface: str,
        family: Family,
        *,
        src_ip: str | None = None,
        mcast_group: str | None = None,
        join: bool = True,
    ) -> None:
        self.interface = interface
        self.family = family
        self.ifindex = ifindex(interface)
        self.src_ip = src_ip or primary_address(interface, family)
        v6 = family is Family.IPV6
        self.group = mcast_group or (DEFAULT_MCAST_V6 if v6 else DEFAULT_MCAST_V4)
        self._addrs: dict[str, tuple[str, int] | tuple[str, int, int, int]] = {}
        try:
            af = socket.AF_INET6 if v6 else socket.AF_INET
            sock = socket.socket(af, socket.SOCK_RAW, IPPROTO_VRRP)
        except OSError as exc:
            raise _fault("sending VRRP adverts", interface, exc) from None
        try:
            sock.setsockopt(socket.SOL_SOCKET, SO_BINDTODEVICE, interface.encode())
            if v6:
                self._setup_v6(sock, join)
            else:
                self._setup_v4(sock, join)
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise _fault(f"cannot send from {self.src_ip}", interface, exc) from None
        self.sock = sock
        self.sent = 0
        self.errors = 0

    def _setup_v4(self, sock: socket.socket, join: bool) -> None:
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, VRRP_TOS)
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP, 0)
        # struct ip_mreqn: group, local address, ifindex.
        local = socket.inet_aton(self.src_ip)
        sock.setsockopt(
            socket.IPPROTO_IP,
            socket.IP_MULTICAST_IF,
            struct.pack("=4s4si", b"\0\0\0\0", local, self.ifindex),
        )
        sock.bind((self.src_ip, 0))
        if join:
            # Only so IGMP-snooping switches keep forwarding the group to this port:
            # receiving is the capture socket's job.
            mreqn = struct.pack("=4s4si", socket.inet_aton(self.group), local, self.ifindex)
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreqn)

    def _setup_v6(self, sock: socket.socket, join: bool) -> None:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, VRRP_TTL)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_LOOP, 0)
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.ifindex)
        # keepalived gives IPv6 adverts the same internetwork-control traffic class.
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, VRRP_TOS)
        scope = self.ifindex if ipaddress.ip_address(self.src_ip).is_link_local else 0
        sock.bind((self.src_ip, 0, 0, scope))
        if join:
            mreq = socket.inet_pton(socket.AF_INET6, self.group) + struct.pack("=I", self.ifindex)
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_JOIN_GROUP, mreq)

    def send(self, payload: bytes, dst: str) -> bool:
        """Send one VRRP message to `dst` (the group or a unicast peer).

        A failed send is logged and counted, not raised: the next advert interval tries
        again, and a dead link is the link watch's business."""
        addr = self._addrs.get(dst)
        if addr is None:
            addr = self._addrs[dst] = self._sockaddr(dst)
        try:
            self.sock.sendto(payload, addr)
        except OSError as exc:
            self.errors += 1
            log.warning("advert to %s on %s failed: %s", dst, self.interface, exc.strerror or exc)
            return False
        self.sent += 1
        return True

    def _sockaddr(self, dst: str) -> tuple[str, int] | tuple[str, int, int, int]:
        if self.family is Family.IPV6:
            scoped = ipaddress.ip_address(dst).is_link_local or dst.lower().startswith("ff02:")
            return (dst, 0, 0, self.ifindex if scoped else 0)
        return (dst, 0)

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()


class GarpSender:
    """A raw packet socket for gratuitous ARPs and unsolicited NAs on one interface."""

    def __init__(self, interface: str) -> None:
        self.interface = interface
        ifindex(interface)  # one clear error for a missing interface
        self.mac = interface_mac(interface)
        try:
            sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        except OSError as exc:
            raise _fault("sending gratuitous ARP", interface, exc) from None
        try:
            # Protocol 0: the socket receives nothing, it only transmits.
            sock.bind((interface, 0))
            sock.setblocking(False)
        except OSError as exc:
            sock.close()
            raise _fault("sending gratuitous ARP", interface, exc) from None
        self.sock = sock
        self.sent = 0
        # Frames by (address, MAC): a mass takeover announces hundreds of VIPs five times
        # over, and building a frame parses its addresses.
        self._frames: dict[tuple[str, str | None], bytes] = {}

    def _send(self, frame: bytes, what: str) -> bool:
        try:
            self.sock.send(frame)
        except OSError as exc:
            log.warning("%s on %s failed: %s", what, self.interface, exc.strerror or exc)
            return False
        self.sent += 1
        return True

    def frame(self, ip: str, mac: str | None = None) -> bytes:
        """The announcement for `ip` as keepalived sends it, built once per (ip, mac).

        IPv4: a gratuitous ARP request (sender = target = VIP, target MAC
        ff:ff:ff:ff:ff:ff, Ethernet broadcast). IPv6: an unsolicited NA (RFC 4861 7.2.6)
        from the VIP itself to ff02::1, override flag, target link-layer option, hop
        limit 255. From `mac` (a VMAC) or the interface's MAC."""
        frame = self._frames.get((ip, mac))
        if frame is None:
            if len(self._frames) >= MAX_CACHED_FRAMES:  # VIPs come and go with reloads
                self._frames.clear()
            if ":" in ip:
                frame = build_na_frame(src_mac=self.mac, src_ip=ip, target_ip=ip, target_mac=mac)
            else:
                frame = build_garp_frame(mac=mac or self.mac, ip=ip)
            self._frames[(ip, mac)] = frame
        return frame

    def announce(self, ip: str, mac: str | None = None) -> bool:
        """Send one GARP (IPv4) or unsolicited NA (IPv6) for `ip`."""
        what = "unsolicited NA" if ":" in ip else "gratuitous ARP"
        return self._send(self.frame(ip, mac), f"{what} for {ip}")

    def close(self) -> None:
        self.sock.close()
