"""haproxy.cfg: the stats socket, binds and backends of each frontend; nothing else matters."""

from __future__ import annotations

import pytest

from hatui.haproxy.config import WILDCARD, bind_address, parse_config

CFG = """
global
    log /dev/log local0
    stats socket /run/haproxy/admin.sock mode 660 level admin  # the one
    stats socket ipv4@127.0.0.1:9999 level operator
defaults
    mode http
frontend vip_web
    bind 192.0.2.100:80,192.0.2.101:80
    bind ipv6@[2001:db8::100]:443 ssl crt /x.pem
    bind /run/haproxy/local.sock
    use_backend api if { path_beg /api }
    default_backend app
frontend any
    bind :8080
listen stats_page
    bind *:9000
    server s 192.0.2.21:80
backend app
    server s1 192.0.2.21:80 check
backend api
    server s1 192.0.2.22:80 check
"""


def test_sections_binds_and_backends() -> None:
    conf = parse_config(CFG)
    assert conf.stats_sockets == ("/run/haproxy/admin.sock", "ipv4@127.0.0.1:9999")
    web = conf.frontend("vip_web")
    assert web is not None
    assert web.binds == ("192.0.2.100", "192.0.2.101", "2001:db8::100")
    assert web.backends == ("api", "app")
    anyf = conf.frontend("any")
    assert anyf is not None and anyf.binds == (WILDCARD,) and anyf.backends == ()
    listen = conf.frontend("stats_page")
    assert listen is not None and listen.backends == ("stats_page",)
    assert conf.frontend("app") is None  # a backend is not a frontend


@pytest.mark.parametrize(
    ("spec", "address"),
    [
        ("192.0.2.100:80", "192.0.2.100"),
        (":80", WILDCARD),
        ("*:80", WILDCARD),
        ("0.0.0.0:443", WILDCARD),
        (":::80", WILDCARD),
        ("ipv6@:::80", WILDCARD),
        ("[2001:db8::1]:80", "2001:db8::1"),
        ("ipv4@192.0.2.5:80", "192.0.2.5"),
        ("unix@/run/x.sock", None),
        ("/run/x.sock", None),
        ("abns@name", None),
    ],
)
def test_bind_address(spec: str, address: str | None) -> None:
    assert bind_address(spec) == address


def test_garbage_config_is_not_an_error() -> None:
    conf = parse_config("frontend\n  bind\n\x00\x01 garbage {{{\nglobal\n stats socket\n")
    assert conf.stats_sockets == () and conf.frontends == ()
