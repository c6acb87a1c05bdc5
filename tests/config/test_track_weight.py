"""A track_script line's own weight against the vrrp_script's, from the file to the router.

keepalived.conf(5): in track_script "an unspecified weight means that the default weight
declared in the script will be used", and weight 0 "means that a failure implies a FAULT
state" (track_interface, whose principle track_script shares). So `chk weight 0` under a
script declared with `weight -20` faults the instance rather than lowering it by 20.
"""

from __future__ import annotations

from pathlib import Path

from hatui.config.keepalived import load_config
from hatui.types import MonoUs
from hatui.vrrp.actions import Notify, RemoveVips, Transition
from hatui.vrrp.inputs import Startup, TimerFired, TrackChanged
from hatui.vrrp.machine import Router
from hatui.vrrp.spec import InstanceSpec
from hatui.vrrp.state import State

CONF = """vrrp_script chk {
    script /bin/true
    weight -20
}
vrrp_instance ZERO {
    interface eth0
    virtual_router_id 51
    priority 100
    track_script {
        chk weight 0
    }
    virtual_ipaddress {
        192.0.2.100/24
    }
}
vrrp_instance OWN {
    interface eth0
    virtual_router_id 52
    priority 100
    track_script {
        chk
    }
    virtual_ipaddress {
        192.0.2.101/24
    }
}
"""
FAILS = TrackChanged(kind="script", name="chk", ok=False)


def instances(tmp_path: Path) -> dict[str, InstanceSpec]:
    path = tmp_path / "keepalived.conf"
    path.write_text(CONF)
    return {i.name: i for i in load_config(str(path)).instances}


def master_of(spec: InstanceSpec) -> tuple[Router, MonoUs]:
    r = Router(spec, primary_ip="192.0.2.11")
    r.handle(Startup(), MonoUs(0))
    now = r.deadline()
    assert now is not None
    r.handle(TimerFired(), now)
    assert r.state is State.MASTER
    return r, now


def test_track_script_weight_0_overrides_the_scripts_own_weight(tmp_path: Path) -> None:
    specs = instances(tmp_path)
    assert [(t.name, t.weight) for t in specs["ZERO"].track_scripts] == [("chk", 0)]
    assert [(t.name, t.weight) for t in specs["OWN"].track_scripts] == [("chk", -20)]


def test_weight_0_failure_is_a_fault_not_a_lower_priority(tmp_path: Path) -> None:
    r, t0 = master_of(instances(tmp_path)["ZERO"])
    now = MonoUs(t0 + 10)
    out = r.handle(FAILS, now)
    assert out == [
        Transition(old=State.MASTER, new=State.FAULT, cause="tracked script chk fails"),
        RemoveVips(vips=r.spec.vips),
        Notify(state="FAULT", priority=100),
    ]
    assert r.status(now).effective_priority == 100


def test_the_scripts_own_weight_lowers_the_priority_without_a_fault(tmp_path: Path) -> None:
    r, t0 = master_of(instances(tmp_path)["OWN"])
    now = MonoUs(t0 + 10)
    r.handle(FAILS, now)
    assert r.state is State.MASTER
    assert r.status(now).effective_priority == 80  # 100 - 20
