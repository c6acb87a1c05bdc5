"""A vrrp_sync_group's own tracking moves every member, and its notify scripts run."""

from __future__ import annotations

from hatui.lab import Lab
from hatui.lab.nodes import start_hatui, wait_for


def test_group_track_file_faults_both_members_and_runs_group_notify(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    level = lab.workdir / "level"
    level.write_text("0\n")
    seen = lab.workdir / "group.log"
    notify = lab.workdir / "notify.sh"
    notify.write_text(f'#!/bin/sh\necho "$@" >> {seen}\n')
    notify.chmod(0o755)
    instances = "".join(
        f"vrrp_instance VI_{vrid} {{\n    interface eth0\n    virtual_router_id {vrid}\n"
        f"    priority 150\n    advert_int 0.1\n    virtual_ipaddress {{\n"
        f"        192.0.2.{vrid + 49}/24\n    }}\n}}\n"
        for vrid in (51, 52)
    )
    conf = (
        "global_defs {\n    vrrp_version 3\n    script_user root\n    enable_script_security\n}\n"
        f"vrrp_track_file level {{\n    file {level}\n    weight 0\n}}\n"
        + instances
        + "vrrp_sync_group G {\n    group {\n        VI_51\n        VI_52\n    }\n"
        "    track_file {\n        level\n    }\n"
        f"    notify {notify}\n}}\n"
    )
    node = start_hatui(lab, a, conf=conf)
    wait_for(
        lambda: node.state("VI_51") == "MASTER" and node.state("VI_52") == "MASTER", 5, "MASTER"
    )
    level.write_text("1\n")  # weight 0: a non-zero value is a fault (keepalived)
    wait_for(lambda: node.state("VI_51") == "FAULT" and node.state("VI_52") == "FAULT", 5, "FAULT")
    wait_for(lambda: "GROUP G FAULT 0" in seen.read_text(), 5, "the group's notify FAULT")
    level.write_text("0\n")
    wait_for(lambda: node.state("VI_51") == "MASTER" and node.state("VI_52") == "MASTER", 5, "back")
    assert seen.read_text().splitlines()[-1] == "GROUP G MASTER 0"
