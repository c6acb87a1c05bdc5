"""The join with VRRP: bound VIPs, the three alerts, and the events between two polls."""

from __future__ import annotations

from dataclasses import replace

from hatui.haproxy.config import parse_config
from hatui.haproxy.events import CLEARED, RESTART, SERVER, UNREACHABLE, UP, changes
from hatui.haproxy.join import AlertKind, HaproxyView, Reached, Unreached, VipHolder, assess
from hatui.haproxy.report import view_to_json
from hatui.haproxy.stats import Info, Stats, parse_stat

VIP, OTHER = "192.0.2.100", "192.0.2.101"
HOLDERS = (
    VipHolder(vip=VIP, master="192.0.2.11", vrid=51),
    VipHolder(vip=OTHER, master="192.0.2.12", vrid=52),
)
CONF = parse_config(
    "global\n stats socket /s\nfrontend web\n bind 192.0.2.100:80\n default_backend app\n"
)
HEADER = "# pxname,svname,qcur,scur,smax,slim,status,type,lastchg,check_status,req_rate\n"


def stat(*servers: str, front: str = "OPEN") -> Stats:
    rows = [f"web,FRONTEND,,3,9,100,{front},0,,,5"]
    rows += [f"app,s{n},0,0,0,,{st},2,4,L4OK,," for n, st in enumerate(servers, 1)]
    rows.append("app,BACKEND,2,0,0,,UP,1,,,,")
    s = parse_stat(HEADER + "\n".join(rows) + "\n")
    assert isinstance(s, Stats)
    return s


def reached(stats: Stats, pid: int = 10) -> Reached:
    info = Info(version="2.6.12", pid=pid, uptime_s=5)
    return Reached(info=info, stats=stats, config=CONF, config_path="/etc/haproxy/haproxy.cfg")


def view(outcome: Reached | Unreached, local: set[str], t: int = 1) -> HaproxyView:
    return assess(
        socket="/s",
        time_us=t * 1_000_000,
        outcome=outcome,
        local=frozenset(local),
        holders=HOLDERS,
    )


def kinds(v: HaproxyView) -> list[str]:
    return [str(a.kind) for a in v.alerts]


def test_bound_vips_and_who_holds_them() -> None:
    v = view(reached(stat("UP", "UP")), {VIP})
    assert [(b.vip, b.master, b.here) for b in v.vips["web"]] == [(VIP, "192.0.2.11", True)]
    assert v.alerts == ()
    doc = view_to_json(v)
    assert doc["frontends"][0]["binds"] == [VIP]
    assert doc["frontends"][0]["sessions"] == 3 and doc["frontends"][0]["req_rate"] == 5
    assert doc["backends"][0]["up"] == 2 and doc["backends"][0]["queue"] == 2


def test_unserved_only_when_held_here_and_no_server_up() -> None:
    assert kinds(view(reached(stat("DOWN", "UP")), {VIP})) == []  # one server is enough
    assert kinds(view(reached(stat("UP 1/3", "DOWN")), {VIP})) == []  # still up until fall
    assert kinds(view(reached(stat("DOWN", "DOWN")), set())) == []  # not ours: no alert
    assert kinds(view(reached(stat("DOWN", "MAINT")), {VIP})) == [AlertKind.UNSERVED]
    assert (
        kinds(
            view(
                reached(
                    stat("UP", "UP"),
                ),
                {VIP},
                t=2,
            )
        )
        == []
    )
    assert kinds(view(reached(stat("UP", front="STOP")), {VIP})) == [AlertKind.UNSERVED]


def test_down_while_held_and_only_when_configured() -> None:
    down = Unreached(status="/s: connection refused", configured=True)
    assert kinds(view(down, {VIP})) == [AlertKind.DOWN]
    assert kinds(view(down, set())) == []
    none = Unreached(status="no stats socket", configured=False)
    assert kinds(view(none, {VIP})) == []


def test_vip_held_but_unbound() -> None:
    v = view(reached(stat("UP")), {VIP, OTHER})
    assert [(str(a.kind), a.vip, a.vrid) for a in v.alerts] == [(AlertKind.UNBOUND, OTHER, 52)]


def test_wildcard_bind_serves_every_vip() -> None:
    conf = parse_config("frontend web\n bind :80\n default_backend app\n")
    out = replace(reached(stat("UP")), config=conf)
    v = view(out, {VIP, OTHER})
    assert v.alerts == ()
    assert [b.vip for b in v.vips["web"]] == [VIP, OTHER]


def test_unreadable_config_raises_no_bind_alerts() -> None:
    out = replace(reached(stat("DOWN")), config=None)
    assert kinds(view(out, {VIP})) == []


def test_events_follow_a_server_then_haproxy() -> None:
    first = view(reached(stat("UP", "UP")), {VIP}, t=1)
    assert [e.kind for e in changes(None, first)] == [UP]
    assert changes(first, view(reached(stat("UP", "UP")), {VIP}, t=2)) == []
    going = view(reached(stat("UP 1/3", "UP")), {VIP}, t=3)
    assert changes(first, going) == []  # failing checks, not down yet
    one = view(reached(stat("DOWN", "UP")), {VIP}, t=4)
    evs = changes(going, one)
    assert [(e.kind, e.detail) for e in evs] == [(SERVER, "app/s1 UP 1/3 -> DOWN (L4OK)")]
    none = view(reached(stat("DOWN", "DOWN")), {VIP}, t=5)
    evs = changes(one, none)
    assert [e.kind for e in evs] == [SERVER, AlertKind.UNSERVED]
    assert evs[1].vrid == 51 and "nothing serving" in evs[1].detail
    dead = view(Unreached(status="/s: connection refused", configured=True), {VIP}, t=6)
    evs = changes(none, dead)
    assert [e.kind for e in evs] == [UNREACHABLE, AlertKind.DOWN, CLEARED]
    assert changes(dead, view(dead.outcome, {VIP}, t=7)) == []  # said once
    back = view(reached(stat("UP", "UP"), pid=11), {VIP}, t=8)
    assert [e.kind for e in changes(dead, back)] == [UP, CLEARED]
    assert [e.kind for e in changes(first, back)] == [RESTART]


def test_holders_from_documents_and_event_json() -> None:
    from hatui.haproxy.join import holders_from_docs
    from hatui.haproxy.report import event_to_json

    node = {"instances": [{"vips": [f"{VIP}/24"], "master_ip": "192.0.2.11", "vrid": 51}]}
    routers = [
        {"vips": [VIP], "master": {"ip": "192.0.2.12"}, "vrid": 51, "protocol": "vrrp"},
        {"vips": [OTHER], "master": {"ip": "192.0.2.13"}, "vrid": 7, "protocol": "carp"},
    ]
    held = holders_from_docs(node, routers)
    # The node's own view of its VIP wins over what the LAN last heard.
    assert held == (
        VipHolder(vip=VIP, master="192.0.2.11", vrid=51),
        VipHolder(vip=OTHER, master="192.0.2.13", vrid=7, protocol="carp"),
    )
    assert holders_from_docs(None, "garbage") == ()
    v = assess(
        socket="/s", time_us=0, outcome=reached(stat("UP")), local=frozenset({OTHER}), holders=held
    )
    (ev,) = [e for e in changes(None, v) if e.kind == AlertKind.UNBOUND]
    doc = event_to_json(ev)
    assert (doc["vrid"], doc["protocol"], doc["source"]) == (7, "carp", "haproxy")


def test_text_summary_line() -> None:
    from hatui.headless import haproxy_summary

    line = haproxy_summary(view_to_json(view(reached(stat("DOWN", "DOWN")), {VIP})))
    assert line.startswith("haproxy 2.6.12 at /s: app 0/2 UP; 192.0.2.100 held here, nothing")
    down = Unreached(status="/s: connection refused", configured=True)
    assert haproxy_summary(view_to_json(view(down, set()))) == "haproxy: /s: connection refused"
