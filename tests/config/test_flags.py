"""--serve flags build the same spec as the equivalent one-instance config file."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from hatui.codec.frames import ChecksumForm
from hatui.config.flags import spec_from_flags
from hatui.config.keepalived import load_config
from hatui.errors import EXIT_USAGE, UsageError
from hatui.vrrp.spec import InstanceSpec, Vip


def test_defaults_and_instance_name() -> None:
    spec = spec_from_flags(interface="eth0", vrid=51, priority=150, vips=["192.0.2.100/24"])
    assert spec.instances == (
        InstanceSpec(
            name="VI_51",
            interface="eth0",
            vrid=51,
            priority=150,
            vips=(Vip(address="192.0.2.100", prefixlen=24),),
        ),
    )


def test_flags_equal_the_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text(
        """
vrrp_instance web {
    interface eth0
    virtual_router_id 7
    priority 120
    advert_int 2
    nopreempt
    preempt_delay 1.5
    unicast_src_ip 192.0.2.11
    unicast_peer {
        192.0.2.13
        192.0.2.12
    }
    authentication {
        auth_type PASS
        auth_pass secret
    }
    virtual_ipaddress {
        192.0.2.100/24
        192.0.2.101
    }
}
"""
    )
    from_file = load_config(str(conf)).instances[0]
    from_flags = spec_from_flags(
        interface="eth0",
        vrid=7,
        priority=120,
        vips=["192.0.2.100/24", "192.0.2.101"],
        advert_int=2,
        unicast_peers=["192.0.2.13", "192.0.2.12"],
        unicast_src="192.0.2.11",
        auth_pass="secret",
        nopreempt=True,
        preempt_delay=1.5,
        name="web",
    ).instances[0]
    assert from_flags == dataclasses.replace(from_file, source=None)


def test_v3_ipv6_flags_equal_the_config_file(tmp_path: Path) -> None:
    conf = tmp_path / "k.conf"
    conf.write_text(
        "vrrp_instance VI_9 {\n interface br0\n virtual_router_id 9\n priority 50\n"
        " advert_int 0.25\n virtual_ipaddress {\n  2001:db8::9/64\n }\n}\n"
    )
    from_file = load_config(str(conf)).instances[0]
    from_flags = spec_from_flags(
        interface="br0", vrid=9, priority=50, vips=["2001:DB8::9/64"], advert_int=0.25, version=3
    ).instances[0]
    assert from_flags == dataclasses.replace(from_file, source=None)


def test_checksum_form() -> None:
    spec = spec_from_flags(
        interface="eth0", vrid=1, priority=100, vips=["192.0.2.1"], version=3, checksum_form="plain"
    )
    assert spec.instances[0].checksum_form is ChecksumForm.PLAIN


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"vips": ["192.0.2.300/24"]}, "--vip 192.0.2.300/24: not an IP address"),
        ({"vips": ["192.0.2.1/33"]}, "--vip 192.0.2.1/33: prefix length must be 0..32"),
        ({"vips": []}, "--vip: at least one virtual address is needed"),
        (
            {"vips": ["192.0.2.1", "2001:db8::1"]},
            "--vip 2001:db8::1: all addresses must be IPv4 or all IPv6",
        ),
        ({"vips": ["2001:db8::1"]}, "--vip 2001:db8::1: IPv6 needs --vrrp-version 3"),
        ({"vrid": 0}, "--vrid 0: out of range 1..255"),
        ({"vrid": 256}, "--vrid 256: out of range 1..255"),
        ({"priority": 0}, "--priority 0: out of range 1..255"),
        ({"version": 4}, "--vrrp-version 4: must be 2 or 3"),
        ({"advert_int": 0.5}, "--advert-int 0.5: VRRPv2 needs whole seconds"),
        ({"advert_int": 300}, "--advert-int 300: out of range 0.01..255"),
        ({"advert_int": float("nan")}, "--advert-int nan: out of range 0.01..255"),
        ({"advert_int": 0.015, "version": 3}, "--advert-int 0.015: VRRPv3 needs centiseconds"),
        ({"advert_int": 41, "version": 3}, "--advert-int 41: out of range 0.01..40.95"),
        ({"unicast_peers": ["peer1"]}, "--unicast-peer peer1: not an IP address"),
        (
            {"unicast_peers": ["2001:db8::2"]},
            "--unicast-peer 2001:db8::2: not IPv4 like the --vip addresses",
        ),
        ({"unicast_src": "x"}, "--unicast-src x: not an IP address"),
        ({"auth_pass": "123456789"}, "--auth-pass: must be 1 to 8 bytes"),
        ({"auth_pass": "x", "version": 3}, "--auth-pass: authentication exists only in VRRPv2"),
        ({"preempt_delay": -1}, "--preempt-delay -1: out of range 0..1000"),
        ({"interface": ""}, "--interface '': not an interface name"),
        ({"checksum_form": "weird"}, "checksum form 'weird': must be pseudo or plain"),
    ],
)
def test_bad_values_give_one_line_usage_errors(overrides: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {
        "interface": "eth0",
        "vrid": 51,
        "priority": 100,
        "vips": ["192.0.2.100/24"],
        **overrides,
    }
    with pytest.raises(UsageError) as info:
        spec_from_flags(**kwargs)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert "\n" not in str(info.value)
    assert info.value.exit_code == EXIT_USAGE
