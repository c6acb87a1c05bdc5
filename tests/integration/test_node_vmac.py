"""use_vmac: hatui's macvlan against keepalived's use_vmac and FRR vrrpd, both ways."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from hatui.lab import Host, Lab, crash_keepalived, start_keepalived
from hatui.lab.nodes import (
    HATUI,
    VIP,
    start_hatui,
    start_observer,
    vrrp_conf,
    wait_for,
)
from tests.conftest import require, require_keepalived

VMAC = "00:00:5e:00:01:33"
FRR = Path("/usr/lib/frr")


def vmac_conf(name: str, priority: int, extra: str = "    use_vmac\n") -> str:
    return vrrp_conf(name, priority).replace(
        f"    priority {priority}\n", f"    priority {priority}\n{extra}"
    )


def vip_on(lab: Lab, host: Host, dev: str) -> bool:
    out = lab.sh(host, f"ip -o -4 addr show dev {dev} 2>/dev/null || true")
    return f" {VIP}/" in out


def test_vmac_against_keepalived_use_vmac_both_ways_and_after_a_crash(lab: Lab) -> None:
    require_keepalived()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    obs = start_observer(lab)
    ka = start_keepalived(lab, b, vmac_conf("b", 100))
    first = obs.wait("new_router", "keepalived to lead", timeout=5, ip=b.ip)
    assert first["mac"] == VMAC  # keepalived use_vmac sends from the virtual MAC
    assert vip_on(lab, b, "vrrp.51")
    # hatui (150) preempts: its adverts come from the virtual MAC, its VIP is on vrrp.51.
    obs.mark()
    node = start_hatui(lab, a, conf=vmac_conf("a", 150))
    took = obs.wait("master_change", "hatui to preempt", timeout=5, to=a.ip)
    assert took["to_mac"] == VMAC  # hatui's adverts come from the virtual MAC too
    wait_for(lambda: vip_on(lab, a, "vrrp.51") and not vip_on(lab, b, "vrrp.51"), 5, "VIP moved")
    assert "00:00:5e:00:01:33" in lab.sh(a, "ip -o link show vrrp.51")
    assert "macvlan mode private" in lab.sh(a, "ip -d link show vrrp.51")
    # The other way: hatui stops, keepalived takes over from priority 0.
    obs.mark()
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    fo = obs.wait("master_change", "keepalived to take over", timeout=5, to=b.ip)
    assert fo["cause"] == "release" and fo["to_mac"] == VMAC
    # GARPs carried the master's (virtual) MAC all along: no VIP answered by another.
    assert not obs.events("vip_foreign_mac"), obs.events("vip_foreign_mac")
    assert "vrrp.51" not in lab.sh(a, "ip -o link show")  # removed at a clean stop
    # A crash leaves the macvlan; the next start removes it and makes a fresh one.
    node = start_hatui(lab, a, conf=vmac_conf("a", 150), tag="second")
    wait_for(lambda: vip_on(lab, a, "vrrp.51"), 5, "hatui master again")
    node.proc.send_signal(signal.SIGKILL)
    node.proc.wait(5)
    assert "vrrp.51" in lab.sh(a, "ip -o link show")
    crash_keepalived(lab, ka)
    node = start_hatui(lab, a, conf=vmac_conf("a", 150), tag="third")
    assert "removed macvlan vrrp.51 left by an earlier hatui" in node.output()
    wait_for(lambda: vip_on(lab, a, "vrrp.51"), 5, "hatui master after the crash")
    assert lab.sh(a, "ip -o link show type macvlan").count("vrrp.51") == 1


def test_vmac_xmit_base_sends_from_the_interface_mac(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    obs = start_observer(lab)
    start_hatui(lab, a, conf=vmac_conf("a", 150, "    use_vmac vrrp51\n    vmac_xmit_base\n"))
    first = obs.wait("new_router", "hatui to lead", timeout=5, ip=a.ip)
    assert first["mac"] == a.mac  # keepalived vmac_xmit_base: adverts from the base
    wait_for(lambda: vip_on(lab, a, "vrrp51"), 5, "the VIP on the named macvlan")


def test_a_vmac_name_taken_by_another_interface_is_refused_cleanly(lab: Lab) -> None:
    a = lab.add_host("a", 11)
    lab.sh(a, "ip link add vrrp.51 type bridge")
    path = lab.workdir / "a.conf"
    path.write_text(vmac_conf("a", 150))
    argv = [*HATUI, "--serve", "--headless", "-c", str(path), "--duration", "3"]
    argv += ["--control", str(lab.workdir / "a.sock")]
    done = subprocess.run(a.argv(argv), capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 1, done
    (line,) = done.stderr.strip().splitlines()
    assert "interface vrrp.51 exists and is not a macvlan" in line
    assert "bridge" in lab.sh(a, "ip -d link show vrrp.51")  # left alone
    assert not vip_on(lab, a, "vrrp.51") and "192.0.2.100" not in lab.sh(a, "ip -o addr")


def start_frr(lab: Lab, host: Host, priority: int) -> list[subprocess.Popen[bytes]]:
    """zebra and vrrpd in `host`, as FRR runs VRRP: on a macvlan the operator made."""
    require(shutil.which(str(FRR / "vrrpd")) is not None, "needs FRR (apt-get install frr)")
    lab.workdir.chmod(0o711)  # FRR drops to its own user
    d = lab.workdir / f"frr-{host.name}"
    d.mkdir()
    d.chmod(0o777)
    (d / "zebra.conf").write_text("")
    (d / "vrrpd.conf").write_text(
        "interface eth0\n vrrp 51 version 3\n"
        f" vrrp 51 priority {priority}\n vrrp 51 advertisement-interval 100\n"
        f" vrrp 51 ip {VIP}\n"
    )
    lab.sh(
        host,
        "ip link add vrrp4-51 link eth0 type macvlan mode bridge && "
        f"ip link set dev vrrp4-51 address {VMAC} && "
        f"ip addr add {VIP}/24 dev vrrp4-51 && ip link set dev vrrp4-51 up",
    )
    common = ["-z", f"{d}/zserv.api", "--vty_socket", str(d), "-u", "frr", "-g", "frr"]
    common += ["-A", "127.0.0.1", "-P", "0", "--log", f"file:{d}/log"]
    procs = []
    for daemon in ("zebra", "vrrpd"):
        argv = [str(FRR / daemon), "-f", f"{d}/{daemon}.conf", "-i", f"{d}/{daemon}.pid", *common]
        procs.append(lab.spawn(host, argv, log=f"{host.name}-{daemon}.log"))
        if daemon == "zebra":
            wait_for(lambda: (d / "zserv.api").exists(), 5, "zebra's socket")
    return procs


def test_vmac_against_frr_vrrpd_both_ways(lab: Lab) -> None:
    a, c = lab.add_host("a", 11), lab.add_host("c", 13)
    obs = start_observer(lab)
    zebra, vrrpd = start_frr(lab, c, 100)
    first = obs.wait("new_router", "FRR to lead", timeout=10, ip=c.ip)
    assert first["mac"] == VMAC
    obs.mark()
    node = start_hatui(lab, a, conf=vmac_conf("a", 150))
    took = obs.wait("master_change", "hatui to preempt FRR", timeout=5, to=a.ip)
    assert took["to_mac"] == VMAC
    wait_for(lambda: vip_on(lab, a, "vrrp.51"), 5, "hatui's VIP on its macvlan")
    assert not obs.since("split_brain"), obs.since()
    # FRR backs off (a backup's macvlan goes protodown) and takes over when hatui stops.
    obs.mark()
    node.proc.send_signal(signal.SIGTERM)
    assert node.proc.wait(10) == 0, node.output()
    fo = obs.wait("master_change", "FRR to take over", timeout=5, to=c.ip)
    assert fo["cause"] == "release" and fo["to_mac"] == VMAC
    lab.stop(vrrpd)
    lab.stop(zebra)


@pytest.mark.parametrize("family", ["ipv6"])
def test_ipv6_vmac_uses_the_ipv6_virtual_mac(lab: Lab, family: str) -> None:
    a = lab.add_host("a", 11)
    obs = start_observer(lab)
    conf = vrrp_conf("a", 150, vip="2001:db8::100").replace("/24", "/64")
    conf = conf.replace("    priority 150\n", "    priority 150\n    use_vmac\n")
    start_hatui(lab, a, conf=conf)
    first = obs.wait("new_router", "hatui to lead over IPv6", timeout=5, family=family)
    assert first["mac"] == "00:00:5e:00:02:33"
    wait_for(lambda: "2001:db8::100/64" in lab.sh(a, "ip -o -6 addr show dev vrrp.51"), 5, "VIP")
    # The adverts' source is the base interface's link-local, as keepalived's.
    assert first["ip"].startswith("fe80::")
    assert first["ip"] in lab.sh(a, "ip -o -6 addr show dev eth0")
