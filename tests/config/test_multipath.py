"""Multipath virtual_routes / static_routes: keepalived 2.2.7's `via A or B` and
`nexthop via ...` forms (keepalived.conf(5)) read into RouteSpec.nexthops."""

from __future__ import annotations

from pathlib import Path

import pytest

from hatui.config.keepalived import check_config
from hatui.vrrp.spec import Nexthop
from tests.config.test_features import conf
from tests.config.test_samples import keepalived_accepts

SAMPLE = Path(__file__).parent / "multipath" / "keepalived.conf.vrrp.routes"


def routes(tmp_path: Path, *lines: str, block: str = "virtual_routes") -> tuple[object, ...]:
    path = tmp_path / "k.conf"
    body = "".join(f"        {x}\n" for x in lines)
    path.write_text(conf(extra=f"    {block} {{\n{body}    }}\n"))
    result = check_config(str(path))
    assert result.errors == (), [str(e) for e in result.errors]
    assert result.spec is not None
    return result.spec.instances[0].virtual_routes


def test_keepalived_sample_or_route_is_two_nexthops() -> None:
    result = check_config(str(SAMPLE))
    assert result.errors == () and result.warnings == ()
    assert result.spec is not None
    by_dst = {r.dst: r for r in result.spec.instances[0].virtual_routes}
    route = by_dst["198.51.100.160/28"]
    assert route.via is None and route.dev is None
    assert route.nexthops == (Nexthop(via="198.51.100.252"), Nexthop(via="198.51.100.253"))
    assert str(route) == "198.51.100.160/28 nexthop via 198.51.100.252 nexthop via 198.51.100.253"
    # The sample's other routes stay single-path.
    assert [r.dst for r in result.spec.instances[0].virtual_routes if r.nexthops] == [route.dst]


@pytest.mark.keepalived
def test_keepalived_reads_the_sample_route_it_warns_of_but_keeps() -> None:
    # keepalived -t exits non-zero on warnings; every line it prints here is one that
    # keepalived carries on after (deprecated spellings, untracked routes), none drops a route.
    result = keepalived_accepts(SAMPLE, None)
    lines = (result.stdout + result.stderr).strip().splitlines()
    assert lines, result
    allowed = ('"or" for routes is deprecated', '"gw" for routes is deprecated', "cannot track")
    assert all(any(a in x for a in allowed) for x in lines), lines
    assert any('Line 34) "or" for routes is deprecated' in x for x in lines), lines


def test_the_man_pages_nexthop_form(tmp_path: Path) -> None:
    (route,) = routes(
        tmp_path,
        "198.51.100.0/24 table 6909 nexthop via 192.0.2.1 dev eth0 onlink weight 1 "
        "nexthop via 192.0.2.2 dev eth0 onlink weight 2",
    )
    assert route.table == 6909  # type: ignore[attr-defined]
    assert route.nexthops == (  # type: ignore[attr-defined]
        Nexthop(via="192.0.2.1", dev="eth0", onlink=True),
        Nexthop(via="192.0.2.2", dev="eth0", weight=2, onlink=True),
    )


def test_ipv6_nexthops_and_via_inet6(tmp_path: Path) -> None:
    (route,) = routes(
        tmp_path, "2001:db8:5::/64 nexthop via inet6 2001:db8::1 dev eth0 nexthop via 2001:db8::2"
    )
    assert route.nexthops == (  # type: ignore[attr-defined]
        Nexthop(via="2001:db8::1", dev="eth0"),
        Nexthop(via="2001:db8::2"),
    )


def test_the_routes_own_dev_goes_to_each_path_and_says_why(tmp_path: Path) -> None:
    path = tmp_path / "k.conf"
    line = "198.51.100.0/24 via 192.0.2.252 or 192.0.2.253 dev eth0 table 100 onlink"
    path.write_text(conf() + f"static_routes {{\n    {line}\n}}\n")
    result = check_config(str(path))
    assert result.errors == ()
    assert result.spec is not None
    (route,) = result.spec.static_routes
    assert (route.dev, route.onlink, route.table) == (None, False, 100)
    assert route.nexthops == (
        Nexthop(via="192.0.2.252", dev="eth0", onlink=True),
        Nexthop(via="192.0.2.253", dev="eth0", onlink=True),
    )
    assert result.warnings == (
        f"{path}:14: multipath route: dev eth0 applies to each nexthop that names no dev "
        "(keepalived 2.2.7 sends it as the route's own device, which the kernel refuses "
        "for a multipath route)",
    )


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "198.51.100.0/24 via 192.0.2.1 or 192.0.2.2 or 192.0.2.3",
            "a second 'or' (keepalived 2.2.7 ignores 'or 192.0.2.3' and installs the first two",
        ),
        ("198.51.100.0/24 or 192.0.2.2", "'or' adds a second gateway to a 'via ADDR' before it"),
        ("198.51.100.0/24 via 192.0.2.1 or nonsense", "or: 'nonsense' is not an IP address"),
        (
            "198.51.100.0/24 via 192.0.2.1 or 192.0.2.2 nexthop via 192.0.2.3",
            "'nexthop' after 'or' (keepalived 2.2.7 drops this route)",
        ),
        (
            "198.51.100.0/24 via 192.0.2.1 nexthop via 192.0.2.3",
            "a route with nexthops takes no 'via' of its own",
        ),
        (
            "198.51.100.0/24 via 192.0.2.1 or 192.0.2.2 via 192.0.2.3",
            "a multipath route takes no 'via' after its 'or'",
        ),
        (
            "198.51.100.0/24 nexthop via 192.0.2.1 table 100",
            "'table' after the nexthops: each path starts with 'nexthop'",
        ),
        ("198.51.100.0/24 nexthop via 192.0.2.1 weight 0", "weight 0 out of range 1..256"),
        ("198.51.100.0/24 nexthop via 192.0.2.1 weight 257", "weight 257 out of range 1..256"),
        (
            "198.51.100.0/24 nexthop nexthop via 192.0.2.1",
            "'nexthop' needs 'via ADDR' or 'dev IF'",
        ),
        (
            "198.51.100.0/24 nexthop via 192.0.2.1 realms 3",
            "not supported by hatui: nexthop option 'realms'",
        ),
        (
            "blackhole 198.51.100.0/24 nexthop via 192.0.2.1",
            "a blackhole route takes no via or dev, nor nexthops",
        ),
        (
            "2001:db8::/64 nexthop via 2001:db8::1 nexthop via 192.0.2.1",
            "route 2001:db8::/64 nexthop via 2001:db8::1 nexthop via 192.0.2.1: 192.0.2.1 is not",
        ),
    ],
)
def test_bad_multipath_routes_are_errors_at_their_line(
    tmp_path: Path, line: str, message: str
) -> None:
    path = tmp_path / "k.conf"
    path.write_text(conf(extra=f"    virtual_routes {{\n        {line}\n    }}\n"))
    (error,) = check_config(str(path)).errors
    assert str(error).startswith(f"{path}:9: {message}"), str(error)
