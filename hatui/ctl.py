"""`hatui ctl`: steer a running node over its control socket (status, priority, release, ...)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from rich.console import Console
from rich.table import Table

from hatui.adapters.control import operator_command, request
from hatui.errors import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, HatuiError
from hatui.styles import STATE_STYLE

DEFAULT_CONTROL = "/run/hatui/hatui.sock"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_USAGE, f"hatui ctl: {message} (see hatui ctl --help)\n")


def build_parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument(
        "--control",
        metavar="PATH",
        default=argparse.SUPPRESS,
        help=f"the node's control socket (default {DEFAULT_CONTROL})",
    )
    p = _Parser(prog="hatui ctl", description="Steer a running hatui node.", parents=[common])
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND", parser_class=_Parser, required=True)
    status = sub.add_parser("status", parents=[common], help="instances, states, priorities")
    status.add_argument("--json", action="store_true", help="the node's status as JSON")
    prio = sub.add_parser("priority", parents=[common], help="operator priority override")
    prio.add_argument("instance")
    prio.add_argument("value", metavar="N|+N|-N", help="1..254, or an adjustment")
    helps = {
        "release": "send priority 0, drop VIPs, stay backup until resume",
        "pause": "stop advertising and drop VIPs",
        "resume": "clear override, hold and pause",
        "garp": "send the gratuitous ARP burst again",
    }
    for name, text in helps.items():
        sub.add_parser(name, parents=[common], help=text).add_argument("instance")
    sub.add_parser("reload", parents=[common], help="re-read the config without a flap (as SIGHUP)")
    return p


def render_status(status: dict[str, Any], console: Console) -> None:
    """The readable table of `hatui ctl status`."""
    table = Table(title="hatui node", title_justify="left")
    for column in ("instance", "interface", "VRID", "state", "priority", "override", "VIPs"):
        table.add_column(column)
    table.add_column("master")
    for inst in status.get("instances", []):
        state = str(inst.get("state", "?"))
        base, eff = inst.get("base_priority"), inst.get("effective_priority")
        prio = f"{eff}" if base == eff else f"{eff} (base {base})"
        flags = []
        if inst.get("override") is not None:
            flags.append(str(inst["override"]))
        flags += [f for f in ("hold", "paused") if inst.get(f)]
        vips = ", ".join(inst.get("vips", []))
        if inst.get("vips_held"):
            vips += " (held)"
        table.add_row(
            str(inst.get("name", "?")),
            str(inst.get("interface", "?")),
            str(inst.get("vrid", "?")),
            f"[{STATE_STYLE[state]}]{state}[/]" if state in STATE_STYLE else state,
            prio,
            ", ".join(flags) or "-",
            vips,
            str(inst.get("master_ip") or "-"),
        )
    console.print(table)
    for inst in status.get("instances", []):
        last = inst.get("last_transition")
        if not isinstance(last, dict):
            continue
        counts = ", ".join(f"{k} {v}" for k, v in (inst.get("transitions") or {}).items())
        when = datetime.fromtimestamp(float(last.get("time", 0)), tz=UTC).strftime("%H:%M:%S")
        console.print(
            f"{inst.get('name')}: last {last.get('from')} -> {last.get('to')} at {when} UTC"
            f" [{last.get('reason')}]; transitions {counts or '-'};"
            f" near failovers {inst.get('near_failovers', 0)}",
            markup=False,
            highlight=False,
        )
        console.print(f"  why: {last.get('why')}", markup=False, highlight=False, style="dim")


def _call(path: str, obj: dict[str, Any]) -> dict[str, Any]:
    return asyncio.run(request(path, obj))


def main(argv: Sequence[str]) -> int:
    args = build_parser().parse_args(list(argv))
    path = getattr(args, "control", DEFAULT_CONTROL)
    req: dict[str, Any] = {"cmd": args.cmd}
    if args.cmd not in ("status", "reload"):
        req["instance"] = args.instance
    if args.cmd == "priority":
        try:
            operator_command("priority", args.value)
        except ValueError as exc:
            print(f"hatui ctl: {exc}", file=sys.stderr)
            return EXIT_USAGE
        req["value"] = args.value
    try:
        reply = _call(path, req)
    except HatuiError as exc:
        print(f"hatui ctl: {exc}", file=sys.stderr)
        return EXIT_RUNTIME
    if not reply.get("ok"):
        print(f"hatui ctl: {reply.get('error', 'refused')}", file=sys.stderr)
        return EXIT_RUNTIME
    if args.cmd == "status":
        status = reply.get("status", {})
        if args.json:
            print(json.dumps(status, indent=2))
        else:
            console = Console()
            if not console.is_terminal:  # piped or logged: do not squeeze into 80 columns
                console = Console(width=200)
            render_status(status, console)
        return EXIT_OK
    if args.cmd == "reload":
        changes = reply.get("changes") or []
        print("reloaded: " + ("; ".join(map(str, changes)) if changes else "no change"))
        return EXIT_OK
    detail = reply.get("message")
    print(detail if isinstance(detail, str) else f"{args.cmd} {args.instance}: ok")
    return EXIT_OK
