"""Property tests: no input, however broken, raises out of decode or decode_ip."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.codec.build import (
    build_carp_frame,
    build_garp_frame,
    build_hsrp_frame,
    build_na_frame,
    build_udp_frame,
    build_vrrp_frame,
)
from hatui.codec.decode import clear_cache, decode, decode_ip
from hatui.codec.frames import (
    Auth,
    Decoded,
    Family,
    GlbpHello,
    HsrpHello,
    HsrpState,
    Link,
    Rejected,
)
from hatui.codec.hsrp import encode_glbp, encode_hsrp

MAC = "02:00:00:00:00:11"
LINK = Link(src_mac=MAC, dst_mac="01:00:5e:00:00:12")

SEEDS = [
    build_vrrp_frame(src_mac=MAC, src_ip="192.0.2.11", vrid=1, addresses=["192.0.2.100"]),
    build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        vrid=2,
        addresses=["192.0.2.100"],
        version=2,
        auth=Auth.SIMPLE,
        auth_pass=b"pw",
        vlan=7,
    ),
    build_vrrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        vrid=3,
        addresses=["192.0.2.1"],
        version=2,
        auth=Auth.AH,
        ah_header=True,
    ),
    build_vrrp_frame(
        src_mac=MAC, src_ip="fe80::1", vrid=4, addresses=["fe80::2"], family=Family.IPV6
    ),
    build_carp_frame(src_mac=MAC, src_ip="192.0.2.11", vhid=5),
    build_garp_frame(mac=MAC, ip="192.0.2.100"),
    build_na_frame(src_mac=MAC, src_ip="fe80::1", target_ip="2001:db8::1"),
    build_hsrp_frame(
        src_mac=MAC, src_ip="192.0.2.11", version=1, group=1, state=HsrpState.ACTIVE, md5=True
    ),
    build_hsrp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        version=2,
        group=2,
        state=HsrpState.STANDBY,
        vip="192.0.2.1",
    ),
    build_hsrp_frame(
        src_mac=MAC,
        src_ip="fe80::1",
        version=2,
        group=3,
        state=HsrpState.ACTIVE,
        vip="fe80::2",
        family=Family.IPV6,
    ),
    build_udp_frame(
        src_mac=MAC,
        src_ip="192.0.2.11",
        dst_ip="224.0.0.102",
        sport=3222,
        dport=3222,
        payload=encode_glbp(group=4) + bytes(16),
    ),
]


def sound(result: Decoded) -> None:
    """The internal guard in decode must never be what caught a problem."""
    if isinstance(result, Rejected):
        assert not result.detail.startswith("internal error"), result.detail


@settings(max_examples=300)
@given(st.binary(max_size=200))
def test_arbitrary_bytes(data: bytes) -> None:
    sound(decode(data))
    sound(decode_ip(data, LINK))


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(0, 4))):
        i = draw(st.integers(0, len(frame) - 1))
        frame[i] ^= 1 << draw(st.integers(0, 7))
    action = draw(st.sampled_from(["none", "truncate", "extend"]))
    if action == "truncate":
        del frame[draw(st.integers(0, len(frame))) :]
    elif action == "extend":
        frame += draw(st.binary(min_size=1, max_size=40))
    return bytes(frame)


@settings(max_examples=300)
@given(mutated())
def test_mutated_frames(frame: bytes) -> None:
    clear_cache()
    first = decode(frame)
    sound(first)
    assert decode(frame) == first  # memoised and fresh results agree
    sound(decode_ip(frame[14:], LINK))


@settings(max_examples=300)
@given(mutated())
def test_ethertype_prefixes(frame: bytes) -> None:
    # Reach the IP and ARP parsers with any payload, tagged or not.
    sound(decode(frame[:12] + b"\x81\x00\x00\x01" + frame[12:]))
    sound(decode(frame[:12] + b"\x08\x00" + frame[14:]))
    sound(decode(frame[:12] + b"\x86\xdd" + frame[14:]))
    sound(decode(frame[:12] + b"\x08\x06" + frame[14:]))


UDP_SEEDS = [
    (1985, encode_hsrp(version=1, group=1, state=HsrpState.ACTIVE, vip="192.0.2.1")),
    (1985, encode_hsrp(version=2, group=2, state=HsrpState.SPEAK, vip="192.0.2.1", md5=True)),
    (3222, encode_glbp(group=4) + bytes(16)),
]


@st.composite
def udp_payloads(draw: st.DrawFn) -> tuple[int, bytes]:
    """HSRP/GLBP payloads mutated behind a valid UDP checksum, so the TLV walk and the
    field checks see the garbage rather than the checksum check."""
    port, seed = draw(st.sampled_from(UDP_SEEDS))
    msg = bytearray(seed)
    for _ in range(draw(st.integers(0, 6))):
        i = draw(st.integers(0, len(msg) - 1))
        msg[i] = draw(st.integers(0, 255))
    action = draw(st.sampled_from(["none", "truncate", "extend"]))
    if action == "truncate":
        del msg[draw(st.integers(0, len(msg))) :]
    elif action == "extend":
        msg += draw(st.binary(min_size=1, max_size=60))
    return port, bytes(msg)


@settings(max_examples=400)
@given(udp_payloads(), st.booleans())
def test_garbage_hsrp_and_glbp_payloads(case: tuple[int, bytes], v6: bool) -> None:
    port, payload = case
    port = 2029 if v6 and port == 1985 else port
    frame = build_udp_frame(
        src_mac=MAC,
        src_ip="fe80::1" if v6 else "192.0.2.11",
        dst_ip="ff02::66" if v6 else "224.0.0.102",
        sport=port,
        dport=port,
        payload=payload,
        family=Family.IPV6 if v6 else Family.IPV4,
    )
    clear_cache()
    got = decode(frame)
    sound(got)
    assert got is None or isinstance(got, (HsrpHello, GlbpHello, Rejected))
    assert decode(frame) == got
