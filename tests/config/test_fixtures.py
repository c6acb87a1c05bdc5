"""Real keepalived.conf shapes parse to exactly the NodeSpec they mean."""

from __future__ import annotations

from pathlib import Path

from hatui.config.keepalived import check_config, load_config
from hatui.vrrp.spec import (
    GarpSpec,
    InitialState,
    InstanceSpec,
    NodeSpec,
    NotifySpec,
    RunAs,
    ScriptSpec,
    SyncGroupSpec,
    TrackFileSpec,
    TrackRef,
    Vip,
)

FIXTURES = Path(__file__).parent / "fixtures"


def fixture(name: str) -> str:
    return str(FIXTURES / name)


def test_single_vip() -> None:
    path = fixture("single_vip.conf")
    assert load_config(path) == NodeSpec(
        instances=(
            InstanceSpec(
                name="VI_1",
                interface="eth0",
                vrid=51,
                priority=150,
                vips=(Vip(address="192.0.2.100", prefixlen=24),),
                initial_state=InitialState.MASTER,
                source=f"{path}:11",
            ),
        ),
        router_id="LVS_DEVEL",
        warnings=(
            f"{path}:4: 'notification_email' ignored: hatui sends no mail",
            f"{path}:7: 'smtp_server' ignored: hatui sends no mail",
            f"{path}:8: 'smtp_connect_timeout' ignored: hatui sends no mail",
        ),
    )


def test_dual_master_two_vrids_with_global_and_instance_garp() -> None:
    path = fixture("dual_master.conf")
    garp = GarpSpec(master_delay_us=10_000_000, master_repeat=3)
    assert load_config(path) == NodeSpec(
        instances=(
            InstanceSpec(
                name="VI_1",
                interface="eth0",
                vrid=51,
                priority=150,
                vips=(Vip(address="192.0.2.100", prefixlen=24, dev="eth0", label="eth0:1"),),
                initial_state=InitialState.MASTER,
                garp=garp,
                source=f"{path}:8",
            ),
            InstanceSpec(
                name="VI_2",
                interface="eth0",
                vrid=52,
                priority=100,
                advert_int_us=2_000_000,
                vips=(Vip(address="192.0.2.101", prefixlen=24, dev="eth0", label="eth0:2"),),
                garp=GarpSpec(master_delay_us=10_000_000, master_repeat=1),
                source=f"{path}:19",
            ),
        ),
        router_id="node-a",
    )


def test_unicast_keeps_peer_order_and_host_prefix() -> None:
    path = fixture("unicast.conf")
    assert load_config(path) == NodeSpec(
        instances=(
            InstanceSpec(
                name="VI_1",
                interface="eth0",
                vrid=51,
                vips=(Vip(address="192.0.2.100", prefixlen=32),),
                unicast_src="192.0.2.12",
                unicast_peers=("192.0.2.13", "192.0.2.11"),
                source=f"{path}:2",
            ),
        ),
    )


def test_pass_auth() -> None:
    path = fixture("auth_pass.conf")
    (inst,) = load_config(path).instances
    assert inst == InstanceSpec(
        name="VI_1",
        interface="eth0",
        vrid=51,
        vips=(Vip(address="192.0.2.100", prefixlen=24),),
        auth_pass="s3cr3t",
        source=f"{path}:1",
    )


ROOT = RunAs(user="root", uid=0, gid=0)  # script_user root


def test_track_script_negative_weight_files_interfaces_notify() -> None:
    path = fixture("track_script.conf")
    assert load_config(path) == NodeSpec(
        instances=(
            InstanceSpec(
                name="VI_1",
                interface="eth0",
                vrid=51,
                priority=150,
                vips=(Vip(address="192.0.2.100", prefixlen=24),),
                initial_state=InitialState.MASTER,
                track_interfaces=(TrackRef(name="eth1", weight=-30),),
                # chk_haproxy takes the script's own weight; chk_disk overrides it.
                track_scripts=(
                    TrackRef(name="chk_haproxy", weight=-20),
                    TrackRef(name="chk_disk", weight=5),
                ),
                track_files=(TrackRef(name="maintenance", weight=-10),),
                notify=NotifySpec(
                    master="/etc/keepalived/notify.sh master",
                    generic="/etc/keepalived/notify-all.sh",
                    run_as=(("master", ROOT), ("generic", ROOT)),
                ),
                source=f"{path}:25",
            ),
        ),
        scripts=(
            ScriptSpec(
                name="chk_haproxy",
                command="/usr/bin/killall -0 haproxy",
                interval_us=2_000_000,
                timeout_us=3_000_000,
                weight=-20,
                rise=2,
                fall=3,
                run_as=ROOT,
            ),
            ScriptSpec(
                name="chk_disk",
                command="/usr/bin/test -d '/var/lib/ten percent'",
                run_as=ROOT,
            ),
        ),
        track_files=(TrackFileSpec(name="maintenance", path="/run/hatui/maintenance", weight=-10),),
        enable_script_security=True,
        script_user="root",
    )


def test_nopreempt_backup() -> None:
    path = fixture("nopreempt_backup.conf")
    (inst,) = load_config(path).instances
    assert inst == InstanceSpec(
        name="VI_1",
        interface="eth0",
        vrid=51,
        priority=110,
        vips=(Vip(address="192.0.2.100", prefixlen=24),),
        preempt=False,
        source=f"{path}:2",
    )


def test_sync_group_marks_members() -> None:
    path = fixture("sync_group.conf")
    assert load_config(path) == NodeSpec(
        instances=(
            InstanceSpec(
                name="VI_OUT",
                interface="eth0",
                vrid=51,
                vips=(Vip(address="192.0.2.100", prefixlen=24),),
                sync_group="VG_1",
                source=f"{path}:14",
            ),
            InstanceSpec(
                name="VI_IN",
                interface="eth1",
                vrid=52,
                vips=(Vip(address="198.51.100.100", prefixlen=24),),
                sync_group="VG_1",
                source=f"{path}:24",
            ),
        ),
        sync_groups=(
            SyncGroupSpec(
                name="VG_1",
                members=("VI_OUT", "VI_IN"),
                notify=NotifySpec(
                    master="/etc/keepalived/group.sh master", run_as=(("master", ROOT),)
                ),
            ),
        ),
        enable_script_security=True,
        script_user="root",
    )


def test_include_glob_is_relative_to_the_including_file_and_sorted() -> None:
    path = fixture("include/main.conf")
    inc = fixture("include/conf.d")
    assert load_config(path) == NodeSpec(
        instances=(
            InstanceSpec(
                name="VI_WEB",
                interface="eth0",
                vrid=60,
                vips=(Vip(address="192.0.2.160", prefixlen=32),),
                source=f"{inc}/10-web.conf:1",
            ),
            InstanceSpec(
                name="VI_DB",
                interface="eth0",
                vrid=61,
                priority=90,
                vips=(Vip(address="192.0.2.161", prefixlen=32),),
                source=f"{inc}/20-db.conf:1",
            ),
        ),
        router_id="inc",
    )


def test_v3_ipv6_centisecond_interval_and_canonical_addresses() -> None:
    path = fixture("v3_ipv6.conf")
    (inst,) = load_config(path).instances
    assert inst == InstanceSpec(
        name="VI_6",
        interface="eth0",
        vrid=61,
        version=3,
        advert_int_us=100_000,
        vips=(
            Vip(address="2001:db8::100", prefixlen=64),
            Vip(address="2001:db8::101", prefixlen=128),
        ),
        source=f"{path}:1",
    )
    assert inst.group == "ff02::12"


def test_fixtures_have_no_warnings_except_where_expected() -> None:
    for conf in sorted(FIXTURES.rglob("*.conf")):
        if "conf.d" in conf.parts:
            continue
        result = check_config(str(conf))
        assert result.errors == (), conf
        # Mail settings are the one thing textbook configs carry that hatui ignores.
        other = [w for w in result.warnings if "hatui sends no mail" not in w]
        assert other == [], conf
        assert result.spec is not None and result.spec.warnings == result.warnings
