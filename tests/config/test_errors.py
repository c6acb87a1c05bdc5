"""Every config error names its file and line, exactly; --config-test collects them all."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.config.keepalived import check_config, load_config
from hatui.errors import EXIT_USAGE, ConfigError

INSTANCE = """\
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id {vrid}
    priority 100
    virtual_ipaddress {{
        192.0.2.100/24
    }}
{extra}}}
"""


K = "keepalived 2.2.7"


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return str(path)


def instance(vrid: int | str = 51, extra: str = "") -> str:
    return INSTANCE.format(vrid=vrid, extra=extra)


def first_error(path: str) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert info.value.exit_code == EXIT_USAGE
    return str(info.value)


def test_unterminated_block_points_at_the_unmatched_brace(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", "global_defs {\n  router_id a\n}\n" + instance()[:-2])
    assert first_error(p) == (
        f"{p}:4: unterminated block: '{{' has no matching '}}'; keepalived 2.2.7 would close "
        "it at the end of the file"
    )


def test_stray_closing_brace(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance() + "}\n")
    assert first_error(p) == (
        f"{p}:9: unexpected '}}' with no open block; keepalived 2.2.7 would ignore it"
    )


def test_bad_number(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance().replace("priority 100", "priority 1OO"))
    assert first_error(p) == (
        f"{p}:4: priority: '1OO' is not a valid number; keepalived 2.2.7 would run this "
        "instance at priority 100"
    )


def test_out_of_range_vrid(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance(vrid=256))
    assert first_error(p) == f"{p}:3: virtual_router_id 256 out of range 1..255"


def test_absurd_number_is_out_of_range_not_a_crash(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance(vrid="9" * 5000))
    assert first_error(p) == f"{p}:3: virtual_router_id {'9' * 37}... out of range 1..255"


def test_undefined_track_script(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance(extra="    track_script {\n        chk_nope\n    }\n"))
    assert first_error(p) == (
        f"{p}:9: track_script 'chk_nope' is not defined by any vrrp_script; keepalived 2.2.7 "
        "would run this instance without it"
    )


def test_include_loop_is_reported_at_the_include_line(tmp_path: Path) -> None:
    a = write(tmp_path, "a.conf", "include b.conf\n" + instance())
    b = write(tmp_path, "b.conf", "! b includes a back\ninclude a.conf\n")
    assert first_error(a) == f"{b}:2: include loop: {tmp_path}/a.conf is already being read"


def test_missing_include_file(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance() + "include extra/nope.conf\n")
    assert first_error(p) == f"{p}:9: include file not found: extra/nope.conf"


def test_glob_matching_nothing_is_a_warning(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", "include conf.d/*.conf\n" + instance())
    result = check_config(p)
    assert result.errors == ()
    assert result.warnings == (f"{p}:1: include 'conf.d/*.conf' matched no file",)


def test_brace_glob_include(tmp_path: Path) -> None:
    write(tmp_path, "d/x.conf", instance(vrid=1).replace("VI_1", "X"))
    write(tmp_path, "d/y.conf", instance(vrid=2).replace("VI_1", "Y"))
    write(tmp_path, "d/z.conf", instance(vrid=3).replace("VI_1", "Z"))
    p = write(tmp_path, "k.conf", "include d/{x,z}.conf\n")
    assert [i.name for i in load_config(p).instances] == ["X", "Z"]


def test_non_utf8_names_the_line(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance().encode().replace(b"eth0", b"eth\xff0"))
    assert first_error(p) == f"{p}:2: not valid UTF-8"


def test_use_vmac_with_a_mac_address_is_refused(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance(extra="    use_vmac 02:00:00:00:00:01\n"))
    assert first_error(p) == f"{p}:8: not supported by hatui: use_vmac with a MAC address"


@pytest.mark.parametrize(
    ("extra", "what"),
    [
        (
            "    use_vmac_addr\n",
            "use_vmac_addr; keepalived 2.2.7 would add a VMAC interface for each VIP on "
            "another interface",
        ),
        (
            "    track_bfd {\n        bfd1\n    }\n",
            "track_bfd; keepalived 2.2.7 would track these BFD sessions",
        ),
        (
            "    authentication {\n        auth_type AH\n    }\n",
            "auth_type AH; keepalived 2.2.7 would authenticate with an IPsec AH header",
        ),
    ],
)
def test_unsupported_features_are_errors(tmp_path: Path, extra: str, what: str) -> None:
    p = write(tmp_path, "k.conf", instance(extra=extra))
    line = 9 if what.startswith("auth_type AH") else 8
    assert first_error(p) == f"{p}:{line}: not supported by hatui: {what}"


def test_duplicate_vrid_on_one_interface(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance() + instance().replace("VI_1", "VI_2"))
    assert first_error(p) == (
        f"{p}:11: virtual_router_id 51 on eth0 (ipv4) already used by vrrp_instance VI_1 at {p}:1"
    )


def test_same_vrid_with_disjoint_unicast_peers_is_allowed(tmp_path: Path) -> None:
    peers = "    unicast_peer {{\n        {}\n    }}\n"
    text = instance(extra=peers.format("192.0.2.12")) + instance(
        extra=peers.format("192.0.2.13")
    ).replace("VI_1", "VI_2")
    assert len(load_config(write(tmp_path, "k.conf", text)).instances) == 2


def test_duplicate_instance_name(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance() + instance(vrid=52))
    assert first_error(p) == (
        f"{p}:9: duplicate vrrp_instance 'VI_1' (first at {p}:1); keepalived 2.2.7 would "
        "ignore this one"
    )


def test_instance_needs_interface_vrid_and_vips(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", "vrrp_instance A {\n    priority 100\n}\n")
    result = check_config(p)
    assert result.spec is None
    assert [str(e) for e in result.errors] == [
        f"{p}:1: vrrp_instance A has no interface",
        f"{p}:1: vrrp_instance A has no virtual_router_id",
        f"{p}:1: vrrp_instance A has no virtual_ipaddress",
    ]


def test_explicit_v2_with_ipv6(tmp_path: Path) -> None:
    text = instance(extra="    version 2\n").replace("192.0.2.100/24", "2001:db8::100/64")
    p = write(tmp_path, "k.conf", text)
    assert first_error(p) == f"{p}:8: version 2 cannot carry IPv6 addresses (RFC 3768 is IPv4 only)"


def test_ipv6_without_a_version_runs_v3_like_keepalived(tmp_path: Path) -> None:
    text = "global_defs {\n  vrrp_version 2\n}\n" + instance().replace(
        "192.0.2.100/24", "2001:db8::100/64"
    )
    (inst,) = load_config(write(tmp_path, "k.conf", text)).instances
    assert inst.version == 3


def test_mixed_families_in_virtual_ipaddress(tmp_path: Path) -> None:
    text = instance().replace("192.0.2.100/24", "192.0.2.100/24\n        2001:db8::1")
    p = write(tmp_path, "k.conf", text)
    assert first_error(p) == (
        f"{p}:7: virtual_ipaddress 2001:db8::1/128: mixes IPv4 and IPv6 in one instance "
        "(use virtual_ipaddress_excluded)"
    )


def test_bad_vip(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance().replace("192.0.2.100/24", "192.0.2.300/24"))
    assert first_error(p) == (
        f"{p}:6: virtual_ipaddress: '192.0.2.300/24' is not an IP address; {K} would skip "
        "this address"
    )


def test_unknown_sync_group_member(tmp_path: Path) -> None:
    text = instance() + "vrrp_sync_group G {\n    group {\n        VI_1\n        VI_9\n    }\n}\n"
    p = write(tmp_path, "k.conf", text)
    assert first_error(p) == f"{p}:12: vrrp_sync_group G: no vrrp_instance named 'VI_9'"


def test_unicast_peer_of_the_other_family(tmp_path: Path) -> None:
    p = write(
        tmp_path, "k.conf", instance(extra="    unicast_peer {\n        2001:db8::2\n    }\n")
    )
    assert first_error(p) == (
        f"{p}:9: unicast_peer 2001:db8::2: not IPv4 like the instance's addresses"
    )


def test_file_too_large(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance() + "#" * (10 * 1024 * 1024) + "\n")
    size = Path(p).stat().st_size
    assert first_error(p) == f"{p}: file too large ({size} bytes, limit 10 MB)"


def test_missing_main_file(tmp_path: Path) -> None:
    p = str(tmp_path / "nope.conf")
    assert first_error(p) == f"{p}: cannot read: No such file or directory"


def test_empty_file_has_no_instance(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", "! nothing here\n")
    assert first_error(p) == f"{p}: no vrrp_instance defined"


def test_check_config_collects_every_error(tmp_path: Path) -> None:
    text = (
        "global_defs {\n"  # 1
        "    vrrp_version 4\n"  # 2
        "}\n"  # 3
        + instance(vrid=0, extra="    priority 300\n    use_vmac 0:1\n")  # 4..13
        + "vrrp_instance VI_2 {\n"  # 14
        "    interface eth0\n"  # 15
        "    virtual_router_id 52\n"  # 16
        "    advert_int fast\n"  # 17
        "    track_script {\n        chk_missing\n    }\n"  # 18..20
        "    virtual_ipaddress {\n        192.0.2.101\n    }\n"  # 21..23
        "}\n"  # 24
        "}\n"  # 25
    )
    p = write(tmp_path, "k.conf", text)
    result = check_config(p)
    assert result.spec is None
    assert [str(e) for e in result.errors] == [
        f"{p}:25: unexpected '}}' with no open block; {K} would ignore it",
        f"{p}:2: vrrp_version 4 out of range 2..3; {K} would ignore this line (VRRP version 2)",
        f"{p}:6: virtual_router_id 0 out of range 1..255",
        f"{p}:11: priority 300 out of range 1..255; {K} would run this instance at priority 100",
        f"{p}:12: not supported by hatui: use_vmac with a MAC address",
        f"{p}:17: advert_int: 'fast' is not a valid time in seconds; {K} would ignore this line "
        "and advertise every 1 s",
        f"{p}:4: vrrp_instance VI_1 has no virtual_router_id",
        f"{p}:19: track_script 'chk_missing' is not defined by any vrrp_script; {K} would run "
        "this instance without it",
    ]


def test_unknown_keywords_warn_with_line_and_spec_is_built(tmp_path: Path) -> None:
    text = (
        "global_defs {\n    frobnicate yes\n    smtp_server 192.0.2.1\n}\n"
        + instance(extra="    colour blue\n")
        + "virtual_server 192.0.2.100 80 {\n    real_server 192.0.2.11 80 {\n    }\n}\n"
        + "mystery_block {\n}\n"
    )
    p = write(tmp_path, "k.conf", text)
    result = check_config(p)
    assert result.errors == ()
    assert result.spec is not None and result.spec.instances[0].name == "VI_1"
    expected = (
        f"{p}:2: unknown keyword 'frobnicate' ignored, as {K} does",
        f"{p}:3: 'smtp_server' ignored: hatui sends no mail",
        f"{p}:12: unknown keyword 'colour' ignored, as {K} does",
        f"{p}:14: LVS configuration ignored: hatui runs VRRP only",
        f"{p}:18: unknown keyword 'mystery_block' ignored, as {K} does",
    )
    assert result.warnings == expected
    assert result.spec.warnings == expected


def test_keepalived_style_fixups_are_warnings(tmp_path: Path) -> None:
    extra = (
        "    advert_int 0.4\n"
        "    authentication {\n        auth_type PASS\n        auth_pass 0123456789\n    }\n"
        "    track_interface {\n        eth0\n    }\n"
    )
    p = write(tmp_path, "k.conf", instance(extra=extra))
    result = check_config(p)
    assert result.errors == ()
    assert result.warnings == (
        f"{p}:11: auth_pass truncated to 8 characters, as {K} does",
        f"{p}:8: VRRPv2 advert_int 0.4 must be whole seconds: rounded to 1, as {K} does",
        f"{p}:1: track_interface eth0 is the instance's own interface: ignored",
    )
    assert result.spec is not None
    (inst,) = result.spec.instances
    assert (inst.auth_pass, inst.advert_int_us, inst.track_interfaces) == (
        "01234567",
        1_000_000,
        (),
    )


def test_v3_drops_authentication_with_a_warning(tmp_path: Path) -> None:
    extra = (
        "    version 3\n    authentication {\n        auth_type PASS\n        auth_pass x\n    }\n"
    )
    p = write(tmp_path, "k.conf", instance(extra=extra))
    result = check_config(p)
    assert result.warnings == (f"{p}:9: VRRP version 3 does not support authentication: ignored",)
    assert result.spec is not None and result.spec.instances[0].auth_pass is None


def test_v3_interval_limit(tmp_path: Path) -> None:
    p = write(tmp_path, "k.conf", instance(extra="    version 3\n    advert_int 41\n"))
    assert first_error(p) == (
        f"{p}:9: advert_int 41 out of range 0.01..40.95 for VRRPv3; {K} would advertise every "
        "40.95 s"
    )


def test_sync_group_zeroes_member_weights_as_keepalived(tmp_path: Path) -> None:
    text = (
        "vrrp_script chk {\n    script /bin/true\n    weight -20\n}\n"
        + instance(extra="    track_script {\n        chk\n    }\n")
        + "vrrp_sync_group G {\n    group {\n        VI_1\n    }\n}\n"
    )
    p = write(tmp_path, "k.conf", text)
    result = check_config(p)
    assert result.spec is not None
    (inst,) = result.spec.instances
    assert inst.sync_group == "G"
    assert [(t.name, t.weight) for t in inst.track_scripts] == [("chk", 0)]
    assert result.warnings == (
        f"{p}:18: vrrp_instance VI_1: tracking weights set to 0 in vrrp_sync_group G "
        "(see sync_group_tracking_weight)",
        f"{p}: SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
    )


def test_lvs_id_is_an_unknown_keyword_as_keepalived_2_says(tmp_path: Path) -> None:
    # keepalived 2.2.7: "Unknown keyword 'lvs_id'" (router_id replaced it in 1.x).
    p = write(tmp_path, "k.conf", "global_defs {\n    lvs_id LVS_A\n}\n" + instance())
    assert check_config(p).warnings == (f"{p}:2: unknown keyword 'lvs_id' ignored, as {K} does",)


def test_every_sync_group_keyword_has_an_effect_or_warns(tmp_path: Path) -> None:
    group = (
        "vrrp_sync_group G {\n    group {\n        VI_1\n    }\n    smtp_alert\n"
        "    global_tracking\n    notify_priority_changes\n}\n"
    )
    p = write(tmp_path, "k.conf", instance() + group)
    result = check_config(p)
    assert [w.split(": ", 1)[1] for w in result.warnings] == [
        "'smtp_alert' ignored: hatui sends no mail",
        "'global_tracking' ignored: deprecated in keepalived: use sync_group_tracking_weight",
    ]
    # The group's notify_priority_changes reaches members that do not say otherwise.
    assert result.spec is not None and result.spec.instances[0].notify_priority_changes
