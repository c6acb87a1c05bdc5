"""The local haproxy's stats socket, read-only: `show info` and `show stat` about once a
second, each on a fresh connection (so a restart or reload needs no reconnect logic),
with a timeout on the whole answer, on the event loop without ever blocking it.

Also reads what the stats do not say: the config haproxy runs (its `-f` from
/proc/PID/cmdline, else /etc/haproxy/haproxy.cfg) for binds and backends, and the
addresses this machine holds (procfs), to join with VRRP.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import ipaddress
import itertools
import logging
import os
import stat
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hatui.haproxy.config import FrontendConf, HaproxyConf, parse_config
from hatui.haproxy.join import Outcome, Reached, Unreached
from hatui.haproxy.stats import (
    Backend,
    Frontend,
    Info,
    Server,
    Stats,
    StatsError,
    parse_info,
    parse_stat,
)

log = logging.getLogger(__name__)

DEFAULT_CFG = "/etc/haproxy/haproxy.cfg"
POLL_S = 1.0
TIMEOUT_S = 1.0  # for one whole answer: a haproxy that hangs mid-answer costs this, no more
MAX_ANSWER = 8 * 1024 * 1024
# With the first haproxy_unreachable of a socket found in haproxy.cfg: the package is
# installed, which on a plain router does not mean haproxy is meant to run.
HINT = "no haproxy here? --haproxy none"


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """Where the stats socket is, or (`problem`) why there is none to read."""

    socket: str  # as configured: a path, or `ipv4@host:port` / `host:port`
    origin: str  # "--haproxy" or the haproxy.cfg it came from
    problem: str | None = None

    @property
    def label(self) -> str:
        return self.socket or "none"


def locate(flag: str | None, cfg: str = DEFAULT_CFG) -> Target:
    """The socket from `--haproxy`, else the first `stats socket` of haproxy.cfg."""
    if flag:
        return Target(socket=flag, origin="--haproxy")
    try:
        text = Path(cfg).read_text(errors="replace")
    except FileNotFoundError:
        return Target(
            socket="", origin=cfg, problem=f"no stats socket: no {cfg} (--haproxy SOCKET)"
        )
    except OSError as exc:
        return Target(socket="", origin=cfg, problem=f"cannot read {cfg}: {exc.strerror}")
    sockets = parse_config(text).stats_sockets
    if not sockets:
        return Target(
            socket="", origin=cfg, problem=f"no `stats socket` in {cfg} (--haproxy SOCKET)"
        )
    return Target(socket=sockets[0], origin=cfg)


class SocketProblem(Exception):
    """The one line the panel shows for a socket that could not be read."""


async def query(socket: str, command: str, timeout: float = TIMEOUT_S) -> str:
    """Send one command and read the whole answer (haproxy closes after it)."""
    opened = False
    got = 0
    try:
        async with asyncio.timeout(timeout):
            reader, writer = await _connect(socket)
            opened = True
            try:
                writer.write(command.encode() + b"\n")
                await writer.drain()
                chunks = []
                while chunk := await reader.read(65536):
                    got += len(chunk)
                    if got > MAX_ANSWER:
                        raise SocketProblem(f"{socket}: answer over {MAX_ANSWER} bytes")
                    chunks.append(chunk)
            finally:
                writer.close()
                with contextlib.suppress(OSError):
                    await writer.wait_closed()
    except TimeoutError:
        if not opened:
            raise SocketProblem(f"{socket}: no connection within {timeout:g} s") from None
        what = "hangs mid-answer" if got else "accepts but does not answer"
        raise SocketProblem(f"{socket}: {what} ({got} bytes in {timeout:g} s)") from None
    except OSError as exc:
        raise SocketProblem(_os_problem(socket, exc)) from None
    return b"".join(chunks).decode(errors="replace")


async def _connect(socket: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    family, sep, rest = socket.partition("@")
    if sep and family in ("ipv4", "ipv6"):
        host, _, port = rest.rpartition(":")
        return await asyncio.open_connection(host.strip("[]"), int(port))
    if sep and family == "unix":
        socket = rest
    elif not socket.startswith("/") and ":" in socket:
        host, _, port = socket.rpartition(":")
        return await asyncio.open_connection(host.strip("[]") or "127.0.0.1", int(port))
    # A plain file at the path would give "connection refused", which misleads: say what it is.
    st = os.stat(socket)
    if not stat.S_ISSOCK(st.st_mode):
        kind = "a regular file" if stat.S_ISREG(st.st_mode) else "not a socket"
        raise SocketProblem(f"{socket} is {kind}, not haproxy's stats socket")
    return await asyncio.open_unix_connection(socket)


def _os_problem(socket: str, exc: OSError) -> str:
    match exc.errno:
        case errno.ENOENT:
            return f"{socket}: no such socket (haproxy not running?)"
        case errno.EACCES | errno.EPERM:
            return f"{socket}: permission denied (run as root or in haproxy's group)"
        case errno.ECONNREFUSED:
            return f"{socket}: connection refused (haproxy not running, stale socket)"
        case _:
            return f"{socket}: {exc.strerror or exc}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Poll:
    """One poll: when (wall clock, us), what it found, the addresses held here."""

    time_us: int
    socket: str
    outcome: Outcome
    local: frozenset[str]


class HaproxyPoller:
    """Polls one target; `run` calls `on_poll` after each poll until `stop` is set."""

    def __init__(
        self,
        flag: str | None = None,
        *,
        cfg: str = DEFAULT_CFG,
        interval: float = POLL_S,
        timeout: float = TIMEOUT_S,
    ) -> None:
        self.flag = flag
        self.cfg = cfg
        self.interval = interval
        self.timeout = timeout
        self._configs: dict[tuple[str, ...], tuple[tuple[int, ...], HaproxyConf | None]] = {}

    async def poll(self) -> Poll:
        # The file reads and parses run in a thread: beside a serving node (255 VIPs make
        # /proc/net/fib_trie long) they cost milliseconds that must not sit between adverts.
        target = await asyncio.to_thread(locate, self.flag, self.cfg)  # haproxy may appear
        outcome = await self._outcome(target)
        # The addresses only matter beside a haproxy: with none on this host, a node's
        # 255 VIPs make /proc/net/fib_trie a read and a parse a second for nothing.
        absent = isinstance(outcome, Unreached) and not outcome.configured
        return Poll(
            time_us=time.time_ns() // 1000,
            socket=target.label,
            outcome=outcome,
            local=frozenset() if absent else await asyncio.to_thread(local_addresses),
        )

    async def _outcome(self, target: Target) -> Outcome:
        if target.problem is not None:
            return Unreached(status=target.problem, configured=False)
        try:
            info_text = await query(target.socket, "show info", self.timeout)
            stat_text = await query(target.socket, "show stat", self.timeout)
        except SocketProblem as exc:
            hint = "" if target.origin == "--haproxy" else HINT
            return Unreached(status=str(exc), configured=True, hint=hint)
        info = parse_info(info_text)
        stats = await asyncio.to_thread(parse_stat, stat_text)
        for parsed, what in ((info, "show info"), (stats, "show stat")):
            if isinstance(parsed, StatsError):
                return Unreached(status=f"{what}: {parsed.detail}", configured=True)
        assert not isinstance(info, StatsError) and not isinstance(stats, StatsError)
        paths = config_paths(info.pid) or (self.cfg,)
        return Reached(
            info=info, stats=stats, config=self._config(paths), config_path=",".join(paths)
        )

    def _config(self, paths: tuple[str, ...]) -> HaproxyConf | None:
        """Parsed once per change of the files' mtimes."""
        try:
            files = [f for p in paths for f in _cfg_files(Path(p))]
            stamp = tuple(f.stat().st_mtime_ns for f in files)
            cached = self._configs.get(paths)
            if cached is not None and cached[0] == stamp:
                return cached[1]
            conf = parse_config("\n".join(f.read_text(errors="replace") for f in files))
        except OSError as exc:
            log.debug("haproxy config %s: %s", paths, exc)
            return None
        self._configs[paths] = (stamp, conf)
        return conf

    async def run(self, on_poll: Callable[[Poll], object], stop: asyncio.Event) -> None:
        while not stop.is_set():
            start = time.monotonic()
            on_poll(await self.poll())
            wait = max(0.0, self.interval - (time.monotonic() - start))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), wait)


def config_paths(pid: int | None) -> tuple[str, ...]:
    """The `-f` files of the running haproxy, from its command line."""
    if pid is None:
        return ()
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        cwd = os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return ()
    out = []
    for flag, value in itertools.pairwise(argv):
        if flag == b"-f" and value:
            out.append(os.path.join(cwd, value.decode(errors="replace")))
    return tuple(out)


def _cfg_files(path: Path) -> list[Path]:
    if path.is_dir():  # haproxy reads a directory's *.cfg files in lexical order
        return sorted(p for p in path.iterdir() if p.suffix == ".cfg")
    return [path]


def local_addresses() -> frozenset[str]:
    """The IPv4 and IPv6 addresses of this network namespace, from procfs (no netlink, so
    the watch path stays free of it): fib_trie's `/32 host LOCAL` leaves, if_inet6."""
    found: set[str] = set()
    with contextlib.suppress(OSError):
        last = ""
        for line in Path("/proc/net/fib_trie").read_text().splitlines():
            words = line.split()
            if words[:1] == ["|--"] and len(words) > 1:
                last = words[1]
            elif "/32 host LOCAL" in line and last:
                found.add(last)
    with contextlib.suppress(OSError):
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            hexaddr = line.split()[0]
            groups = [hexaddr[i : i + 4] for i in range(0, 32, 4)]
            found.add(str(ipaddress.IPv6Address(":".join(groups))))
    return frozenset(found)


# -- a poll as JSON: the LAN view sends its polls to the consoles that follow it --------


def poll_to_json(poll: Poll) -> dict[str, Any]:
    """Everything a poll holds, as JSON (`poll_from_json` reads it back)."""
    out: dict[str, Any] = {"time_us": poll.time_us, "socket": poll.socket}
    out["local"] = sorted(poll.local)
    match poll.outcome:
        case Unreached() as miss:
            out["outcome"] = {"reached": False, **dataclasses.asdict(miss)}
        case Reached() as hit:
            out["outcome"] = {"reached": True, **dataclasses.asdict(hit)}
    return out


def poll_from_json(obj: dict[str, Any]) -> Poll:
    """A poll from `poll_to_json`'s JSON; KeyError, TypeError or ValueError if it is not."""
    got = obj["outcome"]
    outcome: Outcome
    if got["reached"]:
        stats, conf = got["stats"], got["config"]
        outcome = Reached(
            info=Info(**got["info"]),
            stats=Stats(
                frontends=tuple(Frontend(**f) for f in stats["frontends"]),
                backends=tuple(
                    Backend(**{**b, "servers": tuple(Server(**s) for s in b["servers"])})
                    for b in stats["backends"]
                ),
            ),
            config=None
            if conf is None
            else HaproxyConf(
                stats_sockets=tuple(conf["stats_sockets"]),
                frontends=tuple(
                    FrontendConf(
                        name=f["name"], binds=tuple(f["binds"]), backends=tuple(f["backends"])
                    )
                    for f in conf["frontends"]
                ),
            ),
            config_path=got["config_path"],
        )
    else:
        outcome = Unreached(status=got["status"], configured=got["configured"], hint=got["hint"])
    return Poll(
        time_us=int(obj["time_us"]),
        socket=str(obj["socket"]),
        outcome=outcome,
        local=frozenset(obj["local"]),
    )
