"""`show info` and `show stat` answers parsed into typed records; garbage is a typed error."""

from __future__ import annotations

import csv
from dataclasses import dataclass

# `show stat` row types (haproxy's `type` column).
FRONTEND, BACKEND, SERVER, LISTENER = 0, 1, 2, 3
REQUIRED = ("pxname", "svname", "status", "type")
COLUMNS = (
    *REQUIRED,
    *("scur", "smax", "slim", "qcur", "req_rate", "rate", "lastchg", "addr"),
    *("check_status", "check_code", "check_duration", "last_chk"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsError:
    """An answer that is not what haproxy sends: the reason names what was wrong."""

    reason: str  # "empty", "no_header", "missing_column", "garbage"
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Info:
    """What `show info` says about the process."""

    version: str
    pid: int | None
    uptime_s: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class Server:
    name: str
    status: str  # "UP", "DOWN", "UP 1/3" (going down), "MAINT", "DRAIN", "no check", ...
    check: str  # "L7OK 200 in 1 ms", "L4CON Connection refused", "" without checks
    changed_s: int | None  # seconds since its status last changed (`lastchg`)
    address: str

    @property
    def up(self) -> bool:
        """Takes traffic: UP (also while failing checks, before `fall`), or unchecked."""
        return self.status.startswith("UP") or self.status in ("no check", "OPEN")


@dataclass(frozen=True, slots=True, kw_only=True)
class Backend:
    name: str
    status: str
    servers: tuple[Server, ...]
    queue: int | None
    sessions: int | None

    @property
    def up_servers(self) -> int:
        return sum(1 for s in self.servers if s.up)


@dataclass(frozen=True, slots=True, kw_only=True)
class Frontend:
    name: str
    status: str  # OPEN, STOP, FULL
    sessions: int | None
    max_sessions: int | None
    limit: int | None
    req_rate: int | None  # HTTP requests per second; None for TCP frontends
    rate: int | None  # new sessions per second


@dataclass(frozen=True, slots=True, kw_only=True)
class Stats:
    frontends: tuple[Frontend, ...]
    backends: tuple[Backend, ...]

    def backend(self, name: str) -> Backend | None:
        return next((b for b in self.backends if b.name == name), None)


def parse_info(text: str) -> Info | StatsError:
    """`show info`: `Name: value` lines; needs at least the version."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    if not text.strip():
        return StatsError(reason="empty", detail="empty answer to show info")
    version = fields.get("Version")
    if not version:
        return StatsError(reason="garbage", detail=f"no Version in show info: {_head(text)}")
    return Info(
        version=version, pid=_int(fields.get("Pid")), uptime_s=_int(fields.get("Uptime_sec"))
    )


def parse_stat(text: str) -> Stats | StatsError:
    """`show stat` CSV, by column name: haproxy 2.6 and newer add columns, never reorder
    the ones read here, but reading by name also survives that."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if not lines:
        return StatsError(reason="empty", detail="empty answer to show stat")
    if not lines[0].startswith("# "):
        return StatsError(reason="no_header", detail=f"no CSV header: {_head(lines[0])}")
    header = [h.strip() for h in lines[0][2:].split(",")]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        return StatsError(reason="missing_column", detail=f"no {', '.join(missing)} column")
    # Only the columns read here, by index: a full dict per row of 100+ columns costs
    # ten times as much on a large haproxy, and the poll shares the node's event loop.
    wanted = [(name, header.index(name)) for name in COLUMNS if name in header]
    rows: list[dict[str, str]] = []
    for n, values in enumerate(csv.reader(lines[1:]), start=2):
        if len(values) < len(REQUIRED) or len(values) > len(header) + 1:
            return StatsError(reason="garbage", detail=f"line {n}: {len(values)} fields")
        rows.append({name: values[i] for name, i in wanted if i < len(values)})
    return _build(rows)


def _build(rows: list[dict[str, str]]) -> Stats | StatsError:
    frontends: list[Frontend] = []
    backends: list[tuple[dict[str, str], list[Server]]] = []
    servers: dict[str, list[Server]] = {}
    for row in rows:
        kind = _int(row.get("type"))
        name = row.get("pxname", "")
        if kind is None or not name:
            return StatsError(reason="garbage", detail=f"row without type or name: {row}")
        if kind == FRONTEND:
            frontends.append(
                Frontend(
                    name=name,
                    status=row.get("status", ""),
                    sessions=_int(row.get("scur")),
                    max_sessions=_int(row.get("smax")),
                    limit=_int(row.get("slim")),
                    req_rate=_int(row.get("req_rate")),
                    rate=_int(row.get("rate")),
                )
            )
        elif kind == SERVER:
            servers.setdefault(name, []).append(_server(row))
        elif kind == BACKEND:
            backends.append((row, servers.setdefault(name, [])))
    return Stats(
        frontends=tuple(frontends),
        backends=tuple(
            Backend(
                name=row["pxname"],
                status=row.get("status", ""),
                servers=tuple(members),
                queue=_int(row.get("qcur")),
                sessions=_int(row.get("scur")),
            )
            for row, members in backends
        ),
    )


def _server(row: dict[str, str]) -> Server:
    check = row.get("check_status", "").strip("* ")  # `*` marks a check in progress
    if check:
        code = row.get("check_code", "")
        took = row.get("check_duration", "")
        desc = row.get("last_chk", "")
        check += f" {code}" if code else ""
        check += f" {took}ms" if took else ""
        check += f" {desc}" if desc and not desc.isdigit() else ""
    return Server(
        name=row.get("svname", ""),
        status=row.get("status", ""),
        check=check,
        changed_s=_int(row.get("lastchg")),
        address=row.get("addr", ""),
    )


def _int(value: str | None) -> int | None:
    if value is None or not value.strip():
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _head(text: str, n: int = 40) -> str:
    one = text.strip().splitlines()[0] if text.strip() else ""
    return repr(one[:n] + ("..." if len(one) > n else ""))
