"""Less common keywords: globals inherited by instances, strict mode, VIP options and ranges."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.config.keepalived import check_config, load_config
from hatui.vrrp.spec import GarpSpec, InstanceSpec, RunAs, Vip


def one(tmp_path: Path, text: str) -> InstanceSpec:
    path = tmp_path / "k.conf"
    path.write_text(text)
    (inst,) = load_config(str(path)).instances
    return inst


BODY = """
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
{extra}
    virtual_ipaddress {{
        {vip}
    }}
}}
"""


def conf(extra: str = "", vip: str = "192.0.2.100/24", globals_: str = "") -> str:
    return f"global_defs {{\n{globals_}\n}}\n" + BODY.format(extra=extra, vip=vip)


def test_globals_reach_instances_and_instances_override_them(tmp_path: Path) -> None:
    g = (
        "vrrp_mcast_group4 224.0.0.19\n vrrp_garp_master_refresh 60\n"
        " vrrp_garp_master_refresh_repeat 2\n vrrp_garp_interval 0.001\n"
        " vrrp_check_unicast_src\n vrrp_skip_check_adv_addr\n"
    )
    inst = one(tmp_path, conf(globals_=g, extra="    garp_master_delay 0\n"))
    assert inst.mcast_group == "224.0.0.19" and inst.group == "224.0.0.19"
    assert inst.garp == GarpSpec(
        master_delay_us=0, refresh_us=60_000_000, refresh_repeat=2, interval_us=1000
    )
    assert inst.check_unicast_src is True


def test_global_version_3_and_min_garp(tmp_path: Path) -> None:
    inst = one(tmp_path, conf(globals_="vrrp_version 3\nvrrp_min_garp", extra="advert_int 0.5"))
    assert (inst.version, inst.advert_int_us) == (3, 500_000)
    assert (inst.garp.master_repeat, inst.garp.master_delay_us) == (1, 0)


def warnings_of(tmp_path: Path, text: str) -> tuple[str, ...]:
    path = tmp_path / "k.conf"
    path.write_text(text)
    return tuple(w.split(": ", 1)[1] for w in check_config(str(path)).warnings)


def test_no_accept_from_strict_mode_or_keyword_says_it_is_ignored(tmp_path: Path) -> None:
    # keepalived would drop traffic to the VIPs with firewall rules; hatui has none.
    strict = "vrrp_instance VI_1: strict mode's no_accept ignored: hatui adds no firewall rules"
    assert warnings_of(tmp_path, conf(globals_="vrrp_strict"))[0].startswith(strict)
    assert warnings_of(tmp_path, conf(globals_="vrrp_strict", extra="priority 255")) == ()
    assert warnings_of(tmp_path, conf(globals_="vrrp_strict", extra="accept")) == ()
    assert warnings_of(tmp_path, conf(extra="no_accept")) == (
        "'no_accept' ignored: hatui adds no firewall rules: traffic to the VIPs is accepted",
    )
    assert one(tmp_path, conf(globals_="vrrp_strict")).accept is True


def test_wire_and_operator_keywords_reach_the_spec(tmp_path: Path) -> None:
    g = (
        "vrrp_garp_lower_prio_delay 7\n vrrp_garp_lower_prio_repeat 2\n"
        " vrrp_higher_prio_send_advert\n vrrp_lower_prio_no_advert\n"
    )
    inst = one(tmp_path, conf(globals_=g))
    assert (inst.garp.lower_delay_us, inst.garp.lower_repeat) == (7_000_000, 2)
    assert inst.higher_prio_send_advert and inst.lower_prio_no_advert
    extra = (
        "    garp_lower_prio_repeat 0\n    lower_prio_no_advert off\n    dont_track_primary\n"
        "    unicast_fault_no_peer\n    skip_check_adv_addr\n    strict_mode off\n"
    )
    inst = one(tmp_path, conf(globals_=g + " vrrp_strict\n", extra=extra))
    assert inst.garp.lower_repeat == 0 and not inst.lower_prio_no_advert
    assert inst.dont_track_primary and inst.fault_no_peer and inst.skip_check_adv_addr
    # strict mode's default for lower_prio_no_advert, and a peer clears the no-peer fault.
    peer = "    unicast_fault_no_peer\n    unicast_peer {\n        192.0.2.12\n    }\n"
    inst = one(tmp_path, conf(globals_="vrrp_strict", extra="priority 255\n" + peer))
    assert inst.lower_prio_no_advert and not inst.fault_no_peer


def test_vip_options_ranges_and_excluded(tmp_path: Path) -> None:
    vip = "192.0.2.100/24 brd 192.0.2.255 dev eth1 scope global label eth1:vip"
    extra = (
        "    virtual_ipaddress_excluded {\n        2001:db8::5/64\n        198.51.100.10-12\n    }"
    )
    inst = one(tmp_path, conf(extra=extra, vip=vip))
    assert inst.vips == (
        Vip(
            address="192.0.2.100",
            prefixlen=24,
            dev="eth1",
            label="eth1:vip",
            brd="192.0.2.255",
            scope="global",
        ),
    )
    assert [str(v) for v in inst.excluded_vips] == [
        "2001:db8::5/64",
        "198.51.100.10/32",
        "198.51.100.11/32",
        "198.51.100.12/32",
    ]


def test_state_preempt_delay_and_sources(tmp_path: Path) -> None:
    extra = (
        "    state MASTER\n    priority 200\n    preempt_delay 2.5\n"
        "    mcast_src_ip 192.0.2.11\n    mcast_dst_ip 224.0.0.20\n"
    )
    inst = one(tmp_path, conf(extra=extra))
    assert (inst.initial_state, inst.priority, inst.preempt_delay_us) == ("MASTER", 200, 2_500_000)
    assert (inst.mcast_src, inst.mcast_group) == ("192.0.2.11", "224.0.0.20")


def test_notify_user_and_ignored_keywords_warn(tmp_path: Path) -> None:
    extra = (
        '    notify_backup "/bin/notify backup" root\n'
        "    garp_lower_prio_repeat 2\n"
        "    unicast_ttl 10\n"
        "    debug 2\n"
    )
    path = tmp_path / "k.conf"
    path.write_text(conf(extra=extra))
    result = check_config(str(path))
    assert result.spec is not None
    notify = result.spec.instances[0].notify
    assert notify.backup == "/bin/notify backup"
    assert notify.user_of("backup") == RunAs(user="root", uid=0, gid=0)
    assert result.warnings == (
        f"{path}:10: 'unicast_ttl' ignored: hatui sends unicast adverts with TTL 255",
        f"{path}:11: 'debug' ignored: keepalived does not implement it either",
        f"{path}: SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
    )


def test_static_blocks_are_read_and_bfd_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "k.conf"
    path.write_text(
        conf()
        + "static_ipaddress {\n  192.0.2.50/24 dev eth0\n}\nbfd_instance b {\n}\n"
        + "static_routes {\n  198.51.100.0/24 via 192.0.2.1 table main\n}\n"
        + "static_rules {\n  from 198.51.100.0/24 table 100 priority 100\n}\n"
    )
    result = check_config(str(path))
    assert result.errors == ()
    assert result.warnings == (f"{path}:16: not supported by hatui: bfd_instance ignored",)
    assert result.spec is not None
    assert [str(v) for v in result.spec.static_addresses] == ["192.0.2.50/24"]
    assert [str(r) for r in result.spec.static_routes] == ["198.51.100.0/24 via 192.0.2.1"]
    assert [str(r) for r in result.spec.static_rules] == [
        "from 198.51.100.0/24 table 100 priority 100"
    ]


ROUTES = """    virtual_routes {
        src 192.0.2.100 to 198.51.100.0/24 via 192.0.2.1 dev eth0 metric 5
        198.51.100.128/25 dev eth0 scope link no_track
        blackhole 203.0.113.0/24
        unreachable 2001:db8:5::/48 table 100
        default gw 192.0.2.1 table local
    }
    virtual_rules {
        from 192.0.2.100/32 table 100 priority 100
        to 198.51.100.0/24 lookup main preference 200 iif eth0 fwmark 0x10/0xff
        to 2001:db8:1::/64 table 100 priority 300
    }
"""


def test_virtual_routes_and_rules_shapes(tmp_path: Path) -> None:
    inst = one(tmp_path, conf(extra=ROUTES))
    assert [str(r) for r in inst.virtual_routes] == [
        "198.51.100.0/24 src 192.0.2.100 via 192.0.2.1 dev eth0 metric 5",
        "198.51.100.128/25 dev eth0",
        "blackhole 203.0.113.0/24",
        "unreachable 2001:db8:5::/48 table 100",
        "0.0.0.0/0 via 192.0.2.1 table 255",
    ]
    assert inst.virtual_routes[1].scope == 253
    assert [str(r) for r in inst.virtual_rules] == [
        "from 192.0.2.100/32 table 100 priority 100",
        "to 198.51.100.0/24 iif eth0 fwmark 0x10/0xff table 254 priority 200",
        "to 2001:db8:1::/64 table 100 priority 300",
    ]
    assert inst.virtual_rules[2].family.value == "ipv6"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("198.51.100.0/24 table nosuchtable", "unknown routing table 'nosuchtable'"),
        ("198.51.100.0/24 via nonsense", "via: 'nonsense' is not an IP address"),
        ("198.51.100.0/24 mtu 1400", "not supported by hatui: route option 'mtu'"),
        ("blackhole 198.51.100.0/24 dev eth0", "a blackhole route takes no via or dev"),
        ("2001:db8::/64 via 192.0.2.1", "route 2001:db8::/64 via 192.0.2.1: 192.0.2.1 is not"),
        ("via 192.0.2.1", "route: no destination"),
    ],
)
def test_bad_routes_are_errors_at_their_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "k.conf"
    path.write_text(conf(extra=f"    virtual_routes {{\n        {line}\n    }}\n"))
    (error,) = check_config(str(path)).errors
    assert str(error).startswith(f"{path}:9: {message}"), str(error)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("from 192.0.2.0/24", "rule: a table is needed"),
        ("from 192.0.2.0/24 to 2001:db8::/64 table 1", "rule: from and to are not the same"),
        ("from 192.0.2.0/24 table 1 goto 40", "not supported by hatui: rule option 'goto'"),
        ("from 192.0.2.0/24 table 1 fwmark x", "fwmark: 'x' is not N or N/MASK"),
        ("from 192.0.2.0/24 table 0", "rule: table 0 is not valid"),
        ("from 192.0.2.0/24 table 1 pref 5", "not supported by hatui: rule option 'pref'"),
    ],
)
def test_bad_rules_are_errors_at_their_line(tmp_path: Path, line: str, message: str) -> None:
    path = tmp_path / "k.conf"
    path.write_text(conf(extra=f"    virtual_rules {{\n        {line}\n    }}\n"))
    (error,) = check_config(str(path)).errors
    assert str(error).startswith(f"{path}:9: {message}"), str(error)


def test_multicast_group_of_the_other_family(tmp_path: Path) -> None:
    path = tmp_path / "k.conf"
    path.write_text(conf(extra="    mcast_dst_ip ff02::12"))
    (error,) = check_config(str(path)).errors
    assert str(error) == f"{path}:8: mcast_dst_ip ff02::12: not IPv4 like the instance's addresses"


def test_notify_fifos_owners_scripts_and_priority_changes(tmp_path: Path) -> None:
    g = (
        "script_user root\n enable_script_security\n"
        " notify_fifo /run/hatui/all.fifo nobody\n vrrp_notify_fifo /run/hatui/vrrp.fifo\n"
        ' vrrp_notify_fifo_script "/bin/cat -u" nobody\n vrrp_notify_priority_changes\n'
    )
    path = tmp_path / "k.conf"
    path.write_text(conf(globals_=g, extra="    notify_priority_changes off\n"))
    result = check_config(str(path))
    assert result.errors == () and result.warnings == ()
    assert result.spec is not None
    nobody, root = result.spec.notify_fifos
    assert (nobody.path, nobody.owner and nobody.owner.user, nobody.script) == (
        "/run/hatui/all.fifo",
        "nobody",
        None,
    )
    assert (root.path, root.script, root.script_run_as and root.script_run_as.user) == (
        "/run/hatui/vrrp.fifo",
        ("/bin/cat", "-u"),
        "nobody",
    )
    assert result.spec.instances[0].notify_priority_changes is False
    assert one(tmp_path, conf(globals_="vrrp_notify_priority_changes")).notify_priority_changes


def test_fifo_mistakes(tmp_path: Path) -> None:
    g = (
        "notify_fifo /run/a.fifo\n vrrp_notify_fifo /run/a.fifo\n notify_fifo /run/b.fifo\n"
        " notify_fifo_script /bin/true\n vrrp_notify_fifo_script /bin/true\n"
        " vrrp_notify_fifo_script /bin/false\n"
    )
    path = tmp_path / "k.conf"
    path.write_text(conf(globals_=g))
    result = check_config(str(path))
    assert [str(e).split(": ", 1)[1] for e in result.errors] == [
        "notify_fifo already specified",
        "vrrp_notify_fifo_script already specified",
    ]
    assert [w.split(": ", 1)[1] for w in result.warnings] == [
        "vrrp_notify_fifo /run/a.fifo is also notify_fifo: ignored",
        "SECURITY VIOLATION - scripts are being executed but script_security not enabled.",
    ]


def test_keepalived_accepts_the_route_and_rule_shapes(tmp_path: Path) -> None:
    from tests.config.test_keepalived_oracle import keepalived_test

    path = tmp_path / "k.conf"
    # keepalived -t fails on its own warnings too: "gw" is deprecated there, and routes
    # without a dev cannot be tracked by it (no_track says not to).
    quiet = ROUTES.replace(" gw ", " via ").replace("/24\n", "/24 no_track\n")
    quiet = quiet.replace("table 100\n", "table 100 no_track\n").replace(
        "local\n", "local no_track\n"
    )
    path.write_text(conf(extra=quiet))
    assert check_config(str(path)).errors == ()
    result = keepalived_test(path)
    assert result.returncode == 0, result.stdout + result.stderr


TRACK_PROCESS = """vrrp_track_process haproxy {
    process haproxy
    quorum 2
    delay 1.5
    weight -30
}
vrrp_track_process ha_cfg {
    process /usr/sbin/haproxy -f /etc/haproxy
    param_match initial
    quorum_max 1
    fork_delay 0.2
}
"""


def test_track_process_blocks_and_references(tmp_path: Path) -> None:
    extra = "    track_process {\n        haproxy\n        ha_cfg weight 10\n    }\n"
    path = tmp_path / "k.conf"
    path.write_text(TRACK_PROCESS + conf(extra=extra))
    result = check_config(str(path))
    assert result.errors == () and result.warnings == ()
    assert result.spec is not None
    one_, two = result.spec.track_processes
    assert (one_.process, one_.quorum, one_.weight, one_.full_command) == ("haproxy", 2, -30, False)
    assert (one_.fork_delay_us, one_.terminate_delay_us) == (1_500_000, 1_500_000)
    assert (two.process, two.params, two.param_match) == (
        "/usr/sbin/haproxy",
        ("-f", "/etc/haproxy"),
        "initial",
    )
    assert (two.full_command, two.quorum_max, two.fork_delay_us, two.terminate_delay_us) == (
        True,
        1,
        200_000,
        0,
    )
    refs = [(t.name, t.weight) for t in result.spec.instances[0].track_processes]
    assert refs == [("haproxy", -30), ("ha_cfg", 10)]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vrrp_track_process p {\n    quorum 2\n}\n", "vrrp_track_process p has no process"),
        (
            "vrrp_track_process p {\n    process x\n    quorum 3\n    quorum_max 2\n}\n",
            "quorum_max 2 < quorum 3",
        ),
        (
            "vrrp_track_process p {\n    process x\n    weight 5 reverse\n}\n",
            "not supported by hatui",
        ),
        ("", "track_process 'p' is not defined by any vrrp_track_process"),
    ],
)
def test_track_process_mistakes(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "k.conf"
    path.write_text(text + conf(extra="    track_process {\n        p\n    }\n"))
    errors = [str(e) for e in check_config(str(path)).errors]
    # A block in error is not defined, so the reference to it is an error as well.
    assert message in errors[0], errors


GROUPED = """vrrp_script chk {
    script /bin/true
    weight -20
}
vrrp_track_file level {
    file /run/hatui/level
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 51
    track_script {
        chk
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
}
vrrp_instance VI_2 {
    interface eth1
    virtual_router_id 52
    virtual_ipaddress {
        198.51.100.100/24
    }
}
vrrp_sync_group G {
    group {
        VI_1
        VI_2
    }
    track_interface {
        eth0
        eth2 weight -10
    }
    track_script {
        chk weight -30
    }
    track_file {
        level
    }
}
"""


def test_sync_group_tracking_reaches_every_member(tmp_path: Path) -> None:
    path = tmp_path / "k.conf"
    path.write_text(GROUPED)
    result = check_config(str(path))
    assert result.errors == ()
    assert result.spec is not None
    one_, two = result.spec.instances

    def refs(inst: InstanceSpec, kind: str) -> list[tuple[str, int]]:
        return [(t.name, t.weight) for t in inst.tracked(kind)]

    # Members' own weights are zeroed (keepalived); the group's own objects keep theirs,
    # a member's own interface is tracked anyway, and an object is not tracked twice.
    assert refs(one_, "interface") == [("eth2", -10)]
    assert refs(one_, "script") == [("chk", 0)]
    assert refs(one_, "file") == [("level", 1)]
    assert refs(two, "interface") == [("eth0", 0), ("eth2", -10)]
    assert refs(two, "script") == [("chk", -30)]
    assert refs(two, "file") == [("level", 1)]


def test_sync_group_tracking_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "k.conf"
    bad = GROUPED.replace("        chk weight -30\n", "        nope\n").replace(
        "    track_file {", "    track_bfd {\n        b\n    }\n    track_file {"
    )
    path.write_text(bad)
    messages = [str(e).split(": ", 1)[1] for e in check_config(str(path)).errors]
    assert messages == [
        "not supported by hatui: track_bfd in vrrp_sync_group",
        "track_script 'nope' is not defined by any vrrp_script",
    ]


def test_use_vmac_names_and_mistakes(tmp_path: Path) -> None:
    assert one(tmp_path, conf(extra="    use_vmac\n")).vmac == "vrrp.51"
    named = one(tmp_path, conf(extra="    use_vmac vip51\n    vmac_xmit_base\n"))
    assert (named.vmac, named.vmac_xmit_base) == ("vip51", True)
    assert warnings_of(tmp_path, conf(extra="    vmac_xmit_base\n")) == (
        "vmac_xmit_base without use_vmac: ignored",
    )
    twice = conf(extra="    use_vmac\n") + BODY.format(
        extra="    use_vmac vrrp.51\n", vip="192.0.2.101/24"
    ).replace("VI_1", "VI_2").replace("router_id 51", "router_id 52")
    path = tmp_path / "k.conf"
    path.write_text(twice)
    (error,) = check_config(str(path)).errors
    assert "use_vmac vrrp.51 is already vrrp_instance VI_1's: give a name" in str(error)
    path.write_text(conf(extra="    use_vmac much-too-long-name\n"))
    (error,) = check_config(str(path)).errors
    assert "use_vmac: 'much-too-long-name' is not a valid interface name" in str(error)


def test_garp_defaults_are_keepalived_defaults(tmp_path: Path) -> None:
    # keepalived.conf(5): vrrp_garp_master_delay "(default: 5)", vrrp_garp_master_repeat
    # "(default: 5)", vrrp_garp_lower_prio_delay "(default: vrrp_garp_master_delay)",
    # vrrp_garp_lower_prio_repeat "(default: vrrp_garp_master_repeat)".
    garp = one(tmp_path, conf()).garp
    assert (garp.master_delay_us, garp.master_repeat) == (5_000_000, 5)
    assert (garp.lower_delay_us, garp.lower_repeat) == (5_000_000, 5)
    assert garp.refresh_us == 0  # vrrp_garp_master_refresh: "(default: 0 (no refreshing))"


def test_instance_strict_mode_spares_only_the_address_owners_accept(tmp_path: Path) -> None:
    # keepalived.conf(5), priority: "If no_accept is configured (or vrrp_strict which also
    # sets no_accept mode), then unless the vrrp_instance has priority 255, the system will
    # not receive packets addressed to the VIPs": an owner in strict mode keeps accepting.
    dropped = "vrrp_instance VI_1: strict mode's no_accept ignored"
    backup = warnings_of(tmp_path, conf(extra="    strict_mode on\n    priority 254\n"))
    assert backup[0].startswith(dropped)
    assert warnings_of(tmp_path, conf(extra="    strict_mode on\n    priority 255\n")) == ()
