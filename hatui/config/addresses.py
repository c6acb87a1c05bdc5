"""Address blocks: `virtual_ipaddress` lines to Vip, `unicast_peer` lines to peer addresses."""

from __future__ import annotations

import ipaddress
import re

from hatui.config.diagnostics import Diagnostics, shorten
from hatui.config.fallback import KEEPALIVED, would
from hatui.config.lexer import Token
from hatui.config.tree import Stmt
from hatui.config.values import fail, int_value, ip_value
from hatui.errors import ConfigError
from hatui.vrrp.spec import Vip

SCOPES = frozenset({"site", "link", "host", "nowhere", "global"})
_WITH_VALUE_IGNORED = frozenset({"peer", "preferred_lft", "track_group"})
_FLAGS_IGNORED = frozenset(
    {"home", "-nodad", "nodad", "mngtmpaddr", "noprefixroute", "autojoin", "no_track"}
)
_RANGE = re.compile(r"(?P<base>[^/-]+)-(?P<last>[0-9A-Fa-f]{1,4})(?P<len>/.*)?")
MAX_RANGE = 256


def _addresses(tok: Token, keyword: str) -> list[tuple[str, int]]:
    """`ADDR[/LEN]`, or keepalived's `A.B.C.D-E[/LEN]` range of the last part."""
    first, last, suffix = tok.text, None, ""
    m = _RANGE.fullmatch(tok.text)
    if m:
        first, suffix = m["base"], m["len"] or ""
        last = m["last"]
    address, _, length = (first + suffix).partition("/")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        fail(
            tok,
            f"{keyword}: '{shorten(tok.text)}' is not an IP address; {KEEPALIVED} would "
            "skip this address",
        )
    bits = 32 if ip.version == 4 else 128
    # keepalived.conf(5): no /LEN means a host address.
    prefixlen = bits
    if length:
        length_tok = Token(text=length, file=tok.file, line=tok.line)
        try:
            prefixlen = int_value(length_tok, f"{keyword} {address} prefix length", 0, bits)
        except ConfigError as e:
            raise would(e, f"add {address}/{bits}") from None
    if last is None:
        return [(str(ip), prefixlen)]
    step_bits = 8 if ip.version == 4 else 16
    mask = (1 << step_bits) - 1
    start = int(ip) & mask
    end = int(last, 10 if ip.version == 4 else 16)
    if not start <= end <= mask:
        fail(tok, f"{keyword}: bad address range '{shorten(tok.text)}'")
    base = int(ip) - start
    return [(str(ipaddress.ip_address(base + k)), prefixlen) for k in range(start, end + 1)]


def read_vips(block: tuple[Stmt, ...], keyword: str, diag: Diagnostics) -> list[tuple[Vip, Token]]:
    """One VIP (or a range) per line, with `dev`, `label`, `brd` and `scope` kept."""
    out: list[tuple[Vip, Token]] = []
    for line in block:
        try:
            if line.block is not None:
                fail(line.key, f"{keyword}: unexpected block")
            addresses = _addresses(line.key, keyword)
            if len(out) + len(addresses) > MAX_RANGE * 4:
                fail(line.key, f"{keyword}: more than {MAX_RANGE * 4} addresses")
            options: dict[str, str] = {}
            words = list(line.args)
            while words:
                word = words.pop(0)
                name = word.text
                if name in ("brd", "dev", "label", "scope", *_WITH_VALUE_IGNORED):
                    if not words:
                        fail(word, f"{keyword}: '{name}' needs a value")
                    value = words.pop(0)
                    if name == "brd":
                        options["brd"] = ip_value(value, f"{keyword} brd")
                    elif name == "scope":
                        if value.text not in SCOPES and not value.text.isdigit():
                            fail(value, f"{keyword}: unknown scope '{shorten(value.text)}'")
                        options["scope"] = value.text
                    elif name in ("dev", "label"):
                        options[name] = value.text
                    else:
                        diag.warn(f"{keyword}: option '{name}' ignored", word.file, word.line)
                elif name == "use_vmac":
                    fail(word, "not supported by hatui: use_vmac")
                elif name in _FLAGS_IGNORED:
                    diag.warn(f"{keyword}: option '{name}' ignored", word.file, word.line)
                else:
                    fail(word, f"{keyword}: unknown option '{shorten(name)}'")
            for address, prefixlen in addresses:
                vip = Vip(
                    address=address,
                    prefixlen=prefixlen,
                    dev=options.get("dev"),
                    label=options.get("label"),
                    brd=options.get("brd"),
                    scope=options.get("scope"),
                )
                out.append((vip, line.key))
        except ConfigError as e:
            diag.add(e)
    return out


def read_peers(block: tuple[Stmt, ...], diag: Diagnostics) -> list[tuple[str, Token]]:
    """Unicast peers in file order; `min_ttl`/`max_ttl` are reported as ignored."""
    out: list[tuple[str, Token]] = []
    seen: set[str] = set()
    for line in block:
        words = [line.key, *line.args]
        while words:
            word = words.pop(0)
            if word.text in ("min_ttl", "max_ttl"):
                if words:
                    words.pop(0)
                diag.warn(f"unicast_peer: '{word.text}' ignored", word.file, word.line)
                continue
            try:
                peer = ip_value(word, "unicast_peer")
            except ConfigError as e:
                diag.add(would(e, "skip this peer"))
                continue
            if peer in seen:
                diag.warn(f"unicast_peer {peer} listed twice", word.file, word.line)
                continue
            seen.add(peer)
            out.append((peer, word))
    return out
