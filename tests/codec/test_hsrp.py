"""HSRP v1/v2 (IPv4 and IPv6) and GLBP: decoded fields, scapy as the oracle, and one
crafted frame per rejection, each counted by reason and never raised."""

from __future__ import annotations

import pytest
from scapy.layers.hsrp import HSRP, HSRPmd5, HSRPv2, HSRPv2TextAuth
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from hatui.codec.build import build_hsrp_frame, build_udp_frame
from hatui.codec.decode import clear_cache, decode
from hatui.codec.frames import (
    Family,
    GlbpHello,
    HsrpHello,
    HsrpOp,
    HsrpState,
    Protocol,
    Rejected,
    RejectReason,
)
from hatui.codec.hsrp import encode_glbp, encode_hsrp

MAC = "02:00:00:00:00:11"
SRC4, SRC6 = "192.0.2.11", "fe80::11"


@pytest.fixture(autouse=True)
def _cold() -> None:
    clear_cache()


def hello(data: bytes) -> HsrpHello:
    got = decode(data)
    assert isinstance(got, HsrpHello), got
    return got


def rejected(data: bytes) -> Rejected:
    got = decode(data)
    assert isinstance(got, Rejected), got
    assert not got.detail.startswith("internal error"), got.detail
    return got


def test_v1_fields() -> None:
    got = hello(
        build_hsrp_frame(
            src_mac=MAC,
            src_ip=SRC4,
            version=1,
            group=7,
            state=HsrpState.STANDBY,
            priority=90,
            hello_ms=3000,
            hold_ms=10000,
            vip="192.0.2.1",
        )
    )
    assert (got.version, got.group, got.state, got.priority) == (1, 7, HsrpState.STANDBY, 90)
    assert (got.hello_ms, got.hold_ms, got.vip, got.dst_ip) == (
        3000,
        10000,
        "192.0.2.1",
        "224.0.0.2",
    )
    assert (got.auth, got.auth_data, got.op) == ("text", b"cisco", HsrpOp.HELLO)


@pytest.mark.parametrize(
    ("family", "src", "vip", "dst"),
    [(Family.IPV4, SRC4, "192.0.2.1", "224.0.0.102"), (Family.IPV6, SRC6, "fe80::1", "ff02::66")],
)
def test_v2_fields_in_milliseconds(family: Family, src: str, vip: str, dst: str) -> None:
    got = hello(
        build_hsrp_frame(
            src_mac=MAC,
            src_ip=src,
            version=2,
            group=4000,
            state=HsrpState.ACTIVE,
            priority=200,
            op=HsrpOp.COUP,
            hello_ms=250,
            hold_ms=750,
            vip=vip,
            family=family,
            md5=True,
        )
    )
    assert (got.family, got.version, got.group, got.op) == (family, 2, 4000, HsrpOp.COUP)
    assert (got.hello_ms, got.hold_ms, got.vip, got.dst_ip) == (250, 750, vip, dst)
    assert (got.auth, got.identifier) == ("md5", MAC)


def _scapy(layers: object, *, v6: bool = False) -> bytes:
    if v6:
        ip = IPv6(src=SRC6, dst="ff02::66", hlim=255) / UDP(sport=2029, dport=2029)
    else:
        ip = IP(src=SRC4, dst="224.0.0.2", ttl=1) / UDP(sport=1985, dport=1985)
    return bytes(Ether(src=MAC, dst="01:00:5e:00:00:02") / ip / layers)  # type: ignore[operator]


def test_scapy_v1_is_the_oracle() -> None:
    got = hello(_scapy(HSRP(group=9, priority=150, state=16, virtualIP="192.0.2.9")))
    assert (got.version, got.group, got.priority, got.state) == (1, 9, 150, HsrpState.ACTIVE)
    assert (got.hello_ms, got.hold_ms, got.vip, got.auth) == (3000, 10000, "192.0.2.9", "text")
    md5 = hello(_scapy(HSRP(group=9, virtualIP="192.0.2.9") / HSRPmd5(sourceip=SRC4)))
    assert md5.auth == "md5"


def test_scapy_v2_is_the_oracle() -> None:
    v4 = hello(
        _scapy(HSRPv2(group=300, priority=120, state=8, virtualIP="192.0.2.9") / HSRPv2TextAuth())
    )
    assert (v4.version, v4.group, v4.priority, v4.state) == (2, 300, 120, HsrpState.STANDBY)
    assert (v4.hello_ms, v4.hold_ms, v4.vip, v4.auth) == (3000, 10000, "192.0.2.9", "text")
    v6 = hello(_scapy(HSRPv2(group=3, state=16, virtualIP="fe80::9"), v6=True))
    assert (v6.family, v6.vip, v6.auth) == (Family.IPV6, "fe80::9", "none")


def test_glbp_is_counted_and_labelled() -> None:
    data = build_udp_frame(
        src_mac=MAC,
        src_ip=SRC4,
        dst_ip="224.0.0.102",
        sport=3222,
        dport=3222,
        payload=encode_glbp(group=12) + bytes(20),
    )
    got = decode(data)
    assert isinstance(got, GlbpHello) and (got.group, got.src_ip) == (12, SRC4)


def test_other_udp_is_not_ours() -> None:
    dns = build_udp_frame(
        src_mac=MAC, src_ip=SRC4, dst_ip="192.0.2.53", sport=5353, dport=53, payload=bytes(20)
    )
    assert decode(dns) is None
    v6 = build_udp_frame(
        src_mac=MAC,
        src_ip=SRC6,
        dst_ip="ff02::fb",
        sport=5353,
        dport=5353,
        payload=bytes(20),
        family=Family.IPV6,
    )
    assert decode(v6) is None


def _udp(
    payload: bytes, *, sport: int = 1985, dport: int = 1985, family: Family = Family.IPV4
) -> bytes:
    v6 = family is Family.IPV6
    return build_udp_frame(
        src_mac=MAC,
        src_ip=SRC6 if v6 else SRC4,
        dst_ip="ff02::66" if v6 else "224.0.0.102",
        sport=sport,
        dport=dport,
        payload=payload,
        family=family,
    )


V2 = encode_hsrp(version=2, group=5, state=HsrpState.ACTIVE, vip="192.0.2.1")
V1 = encode_hsrp(version=1, group=5, state=HsrpState.ACTIVE, vip="192.0.2.1")

REJECTIONS: dict[str, tuple[bytes, RejectReason, Protocol]] = {
    "v1_truncated": (_udp(V1[:12]), RejectReason.LENGTH, Protocol.HSRP),
    "v1_garbage_trailer": (_udp(V1 + b"\x07\x02ab"), RejectReason.TLV, Protocol.HSRP),
    "v1_over_ipv6": (
        _udp(V1, sport=2029, dport=2029, family=Family.IPV6),
        RejectReason.VERSION,
        Protocol.HSRP,
    ),
    "v2_tlv_overrun": (_udp(V2[:30]), RejectReason.TLV, Protocol.HSRP),
    "v2_tlv_cut": (_udp(V2 + b"\x03"), RejectReason.TLV, Protocol.HSRP),
    "v2_no_group_tlv": (_udp(b"\x03\x08cisco\x00\x00\x00"), RejectReason.TLV, Protocol.HSRP),
    "v2_short_group_tlv": (_udp(b"\x01\x04" + V2[2:6]), RejectReason.TLV, Protocol.HSRP),
    "v2_ip_version": (
        _udp(V2, sport=2029, dport=2029, family=Family.IPV6),
        RejectReason.VERSION,
        Protocol.HSRP,
    ),
    "v2_op_code": (_udp(V2[:3] + b"\x09" + V2[4:]), RejectReason.TYPE, Protocol.HSRP),
    "v2_state": (_udp(V2[:4] + b"\x03" + V2[5:]), RejectReason.MALFORMED, Protocol.HSRP),
    "ipv6_on_1985": (_udp(V2, family=Family.IPV6), RejectReason.PORT, Protocol.HSRP),
    "ipv4_on_2029": (_udp(V2, sport=2029, dport=2029), RejectReason.PORT, Protocol.HSRP),
    "sport_not_1985": (_udp(V2, sport=40000), RejectReason.PORT, Protocol.HSRP),
    "glbp_truncated": (
        _udp(b"\x01\x00\x00", sport=3222, dport=3222),
        RejectReason.LENGTH,
        Protocol.GLBP,
    ),
    "glbp_version": (
        _udp(b"\x07" + bytes(11), sport=3222, dport=3222),
        RejectReason.VERSION,
        Protocol.GLBP,
    ),
}


@pytest.mark.parametrize("name", sorted(REJECTIONS))
def test_rejections_by_reason_cold_and_memoised(name: str) -> None:
    data, reason, protocol = REJECTIONS[name]
    first = rejected(data)
    assert (first.reason, first.protocol) == (reason, protocol)
    assert rejected(data).reason is reason  # the memo hit says the same


def test_udp_checksum_and_length() -> None:
    good = _udp(V2)
    bad = bytearray(good)
    bad[14 + 20 + 6] ^= 0x40  # UDP checksum
    got = rejected(bytes(bad))
    assert got.reason is RejectReason.CHECKSUM and got.protocol is Protocol.HSRP
    assert isinstance(decode(good), HsrpHello)  # memoised now; the bad copy is still caught
    assert rejected(bytes(bad)).reason is RejectReason.CHECKSUM
    longer = bytearray(good)
    longer[14 + 20 + 4 : 14 + 20 + 6] = (600).to_bytes(2, "big")  # UDP length past the packet
    got = rejected(bytes(longer))
    assert got.reason is RejectReason.LENGTH


def test_ip_header_checksum_on_the_memo_hit_path() -> None:
    good = _udp(V2)
    assert isinstance(decode(good), HsrpHello)
    bad = bytearray(good)
    bad[14 + 10] ^= 0x11
    assert rejected(bytes(bad)).reason is RejectReason.CHECKSUM


def test_advertise_messages_are_skipped() -> None:
    v1_adv = bytes((0, 3)) + bytes(14)
    assert decode(_udp(v1_adv)) is None
    v2_adv = bytes((2, 4, 0, 1, 0, 0))
    assert decode(_udp(v2_adv)) is None
