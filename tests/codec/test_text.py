"""Address and checksum helpers agree with the C library and RFC 1071."""

from __future__ import annotations

import socket

from hypothesis import given, settings
from hypothesis import strategies as st

from hatui.codec.checksum import internet_checksum, is_valid, word_sum
from hatui.codec.ethernet import mac_bytes, mac_text
from hatui.codec.ip import ipv4_text, ipv6_text


@settings(max_examples=200)
@given(st.binary(min_size=4, max_size=4), st.binary(min_size=16, max_size=16))
def test_address_text_matches_inet_ntop(v4: bytes, v6: bytes) -> None:
    assert ipv4_text(v4) == socket.inet_ntop(socket.AF_INET, v4)
    if not v6.startswith(bytes(10) + b"\xff\xff") and not v6.startswith(bytes(12)):
        # inet_ntop writes IPv4-mapped/compatible forms with a dotted tail; VRRP never sends them.
        assert ipv6_text(v6) == socket.inet_ntop(socket.AF_INET6, v6)


def test_rfc1071_example() -> None:
    assert internet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D


def _slow_checksum(data: bytes) -> int:
    data += bytes(len(data) & 1)
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


@settings(max_examples=200)
@given(st.binary(max_size=64))
def test_checksum_matches_the_word_loop(data: bytes) -> None:
    ours = internet_checksum(data)
    slow = _slow_checksum(data)
    # 0x0000 and 0xffff are the same ones' complement value; both verify.
    assert ours == slow or {ours, slow} == {0, 0xFFFF}
    padded = data + bytes(len(data) & 1)
    assert is_valid(word_sum(padded + ours.to_bytes(2, "big")))


def test_mac_text() -> None:
    assert mac_text(b"\x02\x00\x00\x00\x00\x11") == "02:00:00:00:00:11"
    assert mac_bytes("02-00-00-00-00-11") == b"\x02\x00\x00\x00\x00\x11"
