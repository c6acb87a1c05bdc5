"""What haproxy.cfg says that the stats socket does not: the stats socket, each frontend's
bind addresses and the backends behind it."""

from __future__ import annotations

from dataclasses import dataclass

WILDCARD = "*"  # a bind on every address (`*:80`, `:80`, `0.0.0.0:80`, `:::80`)
_ANY = {"", "*", "0.0.0.0", "::", "[::]"}
_PROXY_SECTIONS = ("frontend", "listen", "backend", "defaults")
_SECTIONS = (
    *_PROXY_SECTIONS,
    "global",
    "peers",
    "resolvers",
    "userlist",
    "program",
    "mailers",
    "cache",
    "http-errors",
    "ring",
    "fcgi-app",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class FrontendConf:
    """A frontend or listen section: where it listens and where it sends traffic."""

    name: str
    binds: tuple[str, ...]  # IP addresses (WILDCARD for any); unix sockets are left out
    backends: tuple[str, ...]  # default_backend, use_backend targets; a listen's own name


@dataclass(frozen=True, slots=True, kw_only=True)
class HaproxyConf:
    stats_sockets: tuple[str, ...]  # as written: a path, or `ipv4@host:port`, `host:port`
    frontends: tuple[FrontendConf, ...]

    def frontend(self, name: str) -> FrontendConf | None:
        return next((f for f in self.frontends if f.name == name), None)


def parse_config(text: str) -> HaproxyConf:
    """Reads only the lines it needs; anything else is haproxy's business, never an error."""
    sockets: list[str] = []
    fronts: list[FrontendConf] = []
    section = ""
    name = ""
    binds: list[str] = []
    backends: list[str] = []

    def close() -> None:
        if section in ("frontend", "listen") and name:
            own = [name] if section == "listen" else []
            fronts.append(
                FrontendConf(name=name, binds=tuple(binds), backends=tuple(own + backends))
            )

    for raw in text.splitlines():
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        if words[0] in _SECTIONS:
            close()
            section, name = words[0], words[1] if len(words) > 1 else ""
            binds, backends = [], []
        elif section == "global" and words[:2] == ["stats", "socket"] and len(words) > 2:
            sockets.append(words[2])
        elif words[0] == "bind" and len(words) > 1:
            binds += [a for a in (bind_address(b) for b in words[1].split(",")) if a]
        elif words[0] in ("default_backend", "use_backend") and len(words) > 1:
            backends += [] if words[1] in backends else [words[1]]
    close()
    return HaproxyConf(stats_sockets=tuple(sockets), frontends=tuple(fronts))


def bind_address(spec: str) -> str | None:
    """The IP address of one bind spec (`192.0.2.100:80`, `ipv6@[2001:db8::1]:443`,
    `:::80`), WILDCARD for any address, None for unix sockets and the like."""
    family, sep, rest = spec.partition("@")
    if not sep:
        family, rest = "", spec
    if family not in (
        "",
        "ipv4",
        "ipv6",
        "tcp",
        "tcp4",
        "tcp6",
        "udp",
        "udp4",
        "udp6",
        "quic4",
        "quic6",
    ):
        return None
    if rest.startswith("/"):
        return None
    host = rest.rsplit(":", 1)[0] if ":" in rest else rest
    host = host.strip("[]") if host.startswith("[") else host
    return WILDCARD if host in _ANY else host
