"""virtual_routes / static_routes and virtual_rules / static_rules lines (`ip route` and
`ip rule` shapes, as keepalived.conf(5) documents them and 2.2.7 parses them) to
RouteSpec and RuleSpec.

Covered: `[src ADDR] [to] DST [via|gw ADDR [or ADDR]] [dev IF] [table ID|NAME] [metric|
priority|preference N] [scope S] [onlink] [nexthop via ADDR [dev IF] [weight N] [onlink]]...`,
`blackhole|unreachable|prohibit|throw DST`, and rules
`[from NET] [to NET] [iif IF] [oif IF] [fwmark N[/M]] table ID|NAME [priority|preference|
order N]`. `inet6` and keepalived's `no_track` are accepted (hatui does not watch routes, so
no_track changes nothing). Anything else is refused at its line, never dropped.
"""

from __future__ import annotations

import glob
import ipaddress
from dataclasses import replace

from hatui.codec.frames import Family
from hatui.config.diagnostics import Diagnostics, shorten
from hatui.config.fallback import KEEPALIVED, would
from hatui.config.lexer import Token
from hatui.config.tree import Stmt
from hatui.config.values import fail, int_value
from hatui.errors import ConfigError
from hatui.vrrp.spec import Nexthop, RouteSpec, RuleSpec

RT_TABLES = ("/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables")
BUILTIN_TABLES = {"unspec": 0, "default": 253, "main": 254, "local": 255}
KINDS = frozenset({"blackhole", "unreachable", "prohibit", "throw"})
# Route words keepalived 2.2.7's alloc_route knows (a route with any other word it drops).
KEEPALIVED_WORDS = frozenset(
    """
    as from tos dsfield protocol encap expires mtu hoplimit advmss rtt rttvar reordering
    window cwnd ssthresh realms rto_min initcwnd initrwnd features quickack congctl pref
    ttl-propagate fastopen_no_cookie add prepend append track_group vrf
    """.split()  # noqa: SIM905 - a word list reads better
)
DROPS = "drop this route"
INSTALLS = f"{KEEPALIVED} would install the route with it"
SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}


def table_names() -> dict[str, int]:
    """Routing table names: iproute2's rt_tables files and rt_tables.d/*.conf."""
    names = dict(BUILTIN_TABLES)
    files = [*RT_TABLES, *sorted(glob.glob("/etc/iproute2/rt_tables.d/*.conf"))]
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = f.read(1 << 20).splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.split("#", 1)[0].split()
            if len(words) >= 2:
                try:
                    names.setdefault(words[1], int(words[0], 0))
                except ValueError:
                    continue
    return names


def _table(tok: Token, names: dict[str, int]) -> int:
    if tok.text.isdigit():
        return int_value(tok, "table", 0, 0xFFFFFFFF)
    if tok.text not in names:
        fail(tok, f"unknown routing table '{shorten(tok.text)}' (not in {RT_TABLES[0]})")
    return names[tok.text]


def _network(tok: Token, what: str) -> str:
    text = "0.0.0.0/0" if tok.text == "default" else tok.text
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        fail(tok, f"{what}: '{shorten(tok.text)}' is not an address or network")


def _address(tok: Token, what: str) -> str:
    try:
        return str(ipaddress.ip_address(tok.text))
    except ValueError:
        fail(tok, f"{what}: '{shorten(tok.text)}' is not an IP address")


def _next(words: list[Token], i: int, key: Token) -> Token:
    if i >= len(words):
        fail(key, f"'{key.text}' needs a value")
    return words[i]


def _gateway(words: list[Token], i: int, key: Token) -> tuple[str, int]:
    """`via [inet|inet6] ADDR` from words[i] (the word after `via`); the address and the
    index of its last word."""
    value = _next(words, i, key)
    if value.text in ("inet", "inet6"):
        i += 1
        value = _next(words, i, key)
    return _address(value, key.text), i


def _nexthops(words: list[Token], i: int) -> tuple[list[Nexthop], int]:
    """keepalived's `nexthop via ADDR [dev IF] [weight N] [onlink]`, repeated, from
    words[i]; the paths and the index of the first word after them."""
    hops: list[Nexthop] = []
    while i < len(words) and words[i].text == "nexthop":
        start = words[i]
        fields: dict[str, object] = {}
        i += 1
        # keepalived stops reading nexthops at a bad one and keeps those before it.
        kept = f"only its first {len(hops)} nexthop(s)" if hops else "no nexthop"
        while i < len(words):
            w = words[i]
            try:
                match w.text:
                    case "via":
                        fields["via"], i = _gateway(words, i + 1, w)
                    case "dev":
                        i += 1
                        fields["dev"] = _next(words, i, w).text
                    case "weight":
                        i += 1
                        fields["weight"] = int_value(_next(words, i, w), "weight", 1, 256)
                    case "onlink":
                        fields["onlink"] = True
                    case "realms" | "encap":
                        fail(w, f"not supported by hatui: nexthop option '{w.text}'; {INSTALLS}")
                    case "as":
                        fail(w, "not supported by hatui: nexthop option 'as'")
                    case _:
                        break
            except ConfigError as e:
                raise would(e, f"install this route with {kept}") from None
            i += 1
        if not fields:
            fail(start, "'nexthop' needs 'via ADDR' or 'dev IF'")
        hops.append(Nexthop(**fields))  # type: ignore[arg-type]
    return hops, i


def _multipath(
    fields: dict[str, object], hops: list[Nexthop], at: Token, diag: Diagnostics
) -> None:
    """Move the route's own dev and onlink into its paths. keepalived 2.2.7 sends them as
    the route's RTA_OIF and flags beside RTA_MULTIPATH, which the kernel refuses ("Nexthop
    device index does not match RTA_OIF") unless the first path names the same device."""
    dev = fields.pop("dev", None)
    assert dev is None or isinstance(dev, str)
    onlink = bool(fields.pop("onlink", False))
    if dev is not None:
        diag.warn(
            f"multipath route: dev {dev} applies to each nexthop that names no dev "
            "(keepalived 2.2.7 sends it as the route's own device, which the kernel "
            "refuses for a multipath route)",
            at.file,
            at.line,
        )
    fields["nexthops"] = tuple(
        replace(h, dev=h.dev if h.dev is not None else dev, onlink=h.onlink or onlink) for h in hops
    )


def _option(
    words: list[Token], i: int, fields: dict[str, object], names: dict[str, int]
) -> int | None:
    """An option with a value at words[i] into `fields`; the index after it, or None when
    words[i] is no such option."""
    w = words[i]
    key = w.text
    if key in ("via", "gw"):
        fields["via"], i = _gateway(words, i + 1, w)
        return i + 1
    if key not in ("src", "dev", "oif", "table", "metric", "priority", "preference", "scope"):
        return None
    value = _next(words, i + 1, w)
    match key:
        case "src":
            fields["src"] = _address(value, "src")
        case "dev" | "oif":
            fields["dev"] = value.text
        case "table":
            fields["table"] = _table(value, names)
        case "scope":
            if value.text not in SCOPES:
                fail(value, f"scope: expected one of {', '.join(SCOPES)}")
            fields["scope"] = SCOPES[value.text]
        case _:
            fields["metric"] = int_value(value, key, 0, 0xFFFFFFFF)
    return i + 2


def _route(line: Stmt, names: dict[str, int], diag: Diagnostics) -> RouteSpec:
    words = [line.key, *line.args]
    fields: dict[str, object] = {"source": line.key.where}
    dst: str | None = None
    hops: list[Nexthop] = []
    i = 0
    while i < len(words):
        w = words[i]
        key = w.text
        try:
            after = _option(words, i, fields, names)
        except ConfigError as e:
            raise would(e, DROPS) from None
        if after is not None:
            i = after
            continue
        if key == "or":
            # keepalived's older multipath form: `via A or B` is `nexthop via A nexthop via B`.
            other = _next(words, i + 1, w)
            if hops:
                fail(
                    w,
                    f"a second 'or' (keepalived 2.2.7 ignores 'or {shorten(other.text)}' and "
                    "installs the first two paths): write each path as 'nexthop via ADDR'",
                )
            if "via" not in fields:
                fail(w, "'or' adds a second gateway to a 'via ADDR' before it")
            first = str(fields.pop("via"))
            hops = [Nexthop(via=first), Nexthop(via=_address(other, "or"))]
            i += 2
            continue
        if key == "nexthop":
            if hops:
                fail(w, "'nexthop' after 'or' (keepalived 2.2.7 drops this route)")
            if "via" in fields:
                fail(
                    w,
                    "a route with nexthops takes no 'via' of its own (keepalived 2.2.7 "
                    "sends both, and the kernel refuses a gateway that is not the first "
                    "path's)",
                )
            hops, i = _nexthops(words, i)
            if i < len(words):
                fail(
                    words[i],
                    f"'{shorten(words[i].text)}' after the nexthops: each path starts with "
                    "'nexthop', and the route's own options come before the first",
                )
            break
        if key in KINDS and dst is None:
            fields["kind"] = key
        elif key == "onlink":
            fields["onlink"] = True
        elif key in ("inet", "inet6", "no_track"):
            pass
        elif key == "to" and dst is None:
            try:
                dst = _network(_next(words, i + 1, w), "to")
            except ConfigError as e:
                raise would(e, DROPS) from None
            i += 1
        elif dst is None:
            if key not in KEEPALIVED_WORDS:
                try:
                    dst = _network(w, "route")
                except ConfigError as e:
                    raise would(e, DROPS) from None
            else:
                fail(w, f"not supported by hatui: route option '{key}'; {INSTALLS}")
        elif key in KEEPALIVED_WORDS:
            fail(w, f"not supported by hatui: route option '{key}'; {INSTALLS}")
        else:
            fail(w, f"unknown route option '{shorten(key)}'; {KEEPALIVED} would {DROPS}")
        i += 1
    if dst is None:
        fail(line.key, f"route: no destination; {KEEPALIVED} would {DROPS}")
    if hops:
        if "via" in fields:
            fail(line.key, "a multipath route takes no 'via' after its 'or'")
        _multipath(fields, hops, line.key, diag)
    route = RouteSpec(dst=dst, **fields)  # type: ignore[arg-type]
    if route.kind != "unicast" and (route.via or route.dev or route.nexthops):
        fail(line.key, f"a {route.kind} route takes no via or dev, nor nexthops")
    gateways = [route.src, route.via, *(h.via for h in route.nexthops)]
    for addr in gateways:
        if addr is not None and (":" in addr) != (route.family is Family.IPV6):
            fail(
                line.key,
                f"route {route}: {addr} is not the destination's family; {KEEPALIVED} would "
                f"{DROPS}",
            )
    return route


def _rule(line: Stmt, names: dict[str, int]) -> RuleSpec:
    words = [line.key, *line.args]
    fields: dict[str, object] = {"source": line.key.where}
    table: int | None = None
    inet6 = False
    i = 0
    while i < len(words):
        w = words[i]
        key = w.text
        if key in ("inet6", "no_track"):
            inet6 = inet6 or key == "inet6"
            i += 1
            continue
        value = _next(words, i + 1, w)
        match key:
            case "from":
                fields["src"] = _network(value, "from")
            case "to":
                fields["dst"] = _network(value, "to")
            case "table" | "lookup":
                table = _table(value, names)
                if table == 0:
                    fail(value, "rule: table 0 is not valid")
            case "priority" | "preference" | "order":
                fields["priority"] = int_value(value, key, 0, 0xFFFFFFFF)
            case "iif" | "oif":
                fields[key] = value.text
            case "fwmark":
                mark, _, mask = value.text.partition("/")
                try:
                    fields["fwmark"] = int(mark, 0)
                    if mask:
                        fields["fwmask"] = int(mask, 0)
                except ValueError:
                    fail(value, f"fwmark: '{shorten(value.text)}' is not N or N/MASK")
            case _:
                fail(w, f"not supported by hatui: rule option '{shorten(key)}'")
        i += 2
    if table is None:
        fail(line.key, "rule: a table is needed (hatui adds 'lookup' rules only)")
    nets = [n for n in (fields.get("src"), fields.get("dst")) if isinstance(n, str)]
    families = {":" in n for n in nets} or {inet6}
    if len(families) > 1:
        fail(line.key, "rule: from and to are not the same family")
    family = Family.IPV6 if families.pop() else Family.IPV4
    return RuleSpec(family=family, table=table, **fields)  # type: ignore[arg-type]


def read_routes(block: tuple[Stmt, ...], diag: Diagnostics) -> list[RouteSpec]:
    names = table_names()
    out = []
    for line in block:
        try:
            out.append(_route(line, names, diag))
        except ConfigError as e:
            diag.add(e)
    return out


def read_rules(block: tuple[Stmt, ...], diag: Diagnostics) -> list[RuleSpec]:
    names = table_names()
    out = []
    for line in block:
        try:
            out.append(_rule(line, names))
        except ConfigError as e:
            diag.add(e)
    return out
