"""The command line (docs/cli.md): the parser, and the dispatch to a mode (hatui/modes.py)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

from hatui import __version__
from hatui.errors import EXIT_OK, EXIT_USAGE, HatuiError, UsageError
from hatui.modes import (
    NO_HAPROXY,
    _console_follows_haproxy,
    _listed,
    run_attach_ui,
    run_config_test,
    run_fleet,
    run_lan_view,
    run_read,
    run_serve,
    run_watch,
)

if TYPE_CHECKING:
    pass

DEFAULT_CONTROL = "/run/hatui/hatui.sock"

DESCRIPTION = """\
A terminal console for VRRP high-availability pairs (keepalived, haproxy nodes).
The watcher also reads the other first-hop protocols on the LAN: HSRP v1/v2, CARP
(modelled) and GLBP (counted), each row marked with its protocol.

modes:
  hatui --watch IFACE                 live read-only console (never transmits)
  hatui --serve [-c keepalived.conf]  console plus embedded VRRP node(s)
  hatui --serve --interface IF --vrid N --priority P --vip ADDR/LEN [...]
  hatui --read FILE.pcap              the console over a capture file
  hatui --demo                        a namespace lab with three nodes, and the console on it (root)
  hatui -c FILE --config-test         check a keepalived.conf: FILE:LINE: message, exit 2 on error
  hatui --attach                      the console attached to a running headless node
  hatui --fleet URL [--fleet-match '{job="hatui"}']   every node, pair and LAN router a
                                      Prometheus server holds, read-only (--headless --json)
  hatui ctl status|priority|release|pause|resume|garp|reload ...   steer a running node
"""

EPILOG = """\
examples:
  hatui --read capture.pcap --json | jq '.failovers'
  hatui --read capture.pcap --report incident.html --node-log a.json --node-log b.json
  hatui --watch eth0 --headless --json --duration 60
  hatui --serve -c /etc/keepalived/keepalived.conf --headless --metrics 9650
  hatui ctl reload                     re-read keepalived.conf without a flap (or SIGHUP)
  hatui ctl release VI_1
  hatui --watch eth0 --haproxy /run/haproxy/admin.sock   the VRRP view and haproxy together
  hatui --fleet http://prometheus:9090 --headless --json | jq '.alerts'

console keys (serve and attach; each one that can move a VIP asks first):
  + / -  priority override up/down by 10    p  set priority    r  release mastership
  s      stop / resume advertising          g  gratuitous ARP  o  sort   ?  help   q  quit
  t      timeline of the selected router (every mode)

signals: a console stops cleanly on SIGTERM, SIGINT and SIGHUP (terminal gone) and exits
within 2 s, 0 (1 if its node had not stopped by then); a headless node stops cleanly on
SIGTERM and SIGINT and reloads its config on SIGHUP, as keepalived.

exit codes: 0 ok, 1 runtime error, 2 usage or config error
"""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, not a usage dump: docs/cli.md's error convention."""
        self.exit(EXIT_USAGE, f"hatui: {message} (see hatui --help)\n")


NODE_GROUP = "node from flags (--serve without -c)"


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hatui",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--watch",
        metavar="IFACE",
        action="append",
        help="sniff VRRP, CARP, HSRP, GLBP and ARP/ND on IFACE, read-only (repeat for several)",
    )
    mode.add_argument(
        "--serve", action="store_true", help="run VRRP instances (the console runs them as a child)"
    )
    mode.add_argument("--read", metavar="FILE", help="replay a pcap/pcapng capture")
    mode.add_argument(
        "--demo", action="store_true", help="build a namespace lab and open it (root)"
    )
    mode.add_argument("--attach", action="store_true", help="console for a running headless node")
    mode.add_argument("--config-test", action="store_true", help="check the config given with -c")
    mode.add_argument(
        "--fleet", metavar="URL", help="the fleet as the Prometheus server at URL holds it"
    )
    p.add_argument(
        "--fleet-match",
        metavar="SELECTOR",
        default="",
        help="with --fleet: only series matching this label selector, e.g. '{job=\"hatui\"}'",
    )
    p.add_argument("-c", "--config", metavar="FILE", help="keepalived.conf to run or check")
    p.add_argument(
        "--config-id", metavar="ID", help="keepalived's -i: use the config lines prefixed @ID"
    )
    p.add_argument("--headless", action="store_true", help="no UI: log lines (or JSON with --json)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.add_argument("--duration", type=float, metavar="S", help="stop after S seconds")
    p.add_argument(
        "--speed",
        type=float,
        metavar="X",
        help="with --read: replay in capture time at X times real speed",
    )
    p.add_argument(
        "--report",
        metavar="OUT.html",
        help="with --read: write a self-contained incident report (HTML, inline SVG timeline)",
    )
    p.add_argument(
        "--node-log",
        action="append",
        default=[],
        metavar="FILE",
        help="with --report (repeatable): a node's `--serve --headless --json` log to merge",
    )
    p.add_argument(
        "--control",
        metavar="PATH",
        default=DEFAULT_CONTROL,
        help=f"the node's control socket (default {DEFAULT_CONTROL})",
    )
    p.add_argument(
        "--rt-priority",
        type=int,
        choices=range(1, 100),
        metavar="1..99",
        help="serve: run the node SCHED_RR at this priority (keepalived's "
        "vrrp_rt_priority), so its timers hold on a busy machine",
    )
    p.add_argument(
        "--metrics",
        metavar="[ADDR:]PORT",
        help="serve Prometheus metrics at http://ADDR:PORT/metrics (--watch, --serve)",
    )
    p.add_argument(
        "--haproxy",
        metavar="SOCKET",
        help="watch/serve/attach: the local haproxy's stats socket, read-only (default: the "
        "`stats socket` of /etc/haproxy/haproxy.cfg; a node's LAN view polls it for every "
        "console); `none`: this node runs no haproxy (no polls, no haproxy events, no "
        "haproxy panel)",
    )
    p.add_argument(
        "--vips",
        metavar="FILE",
        help="--watch/--read: addresses to watch as VIPs, one per line (# comments)",
    )
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging to stderr")
    # A serving node's LAN view (runtime/lanview.py): started by the node, never by hand.
    p.add_argument("--lan-view", metavar="SOCKET", help=argparse.SUPPRESS)
    # ... which also follows the local haproxy (a headless node's; a console polls its own).
    p.add_argument("--lan-haproxy", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--version", action="version", version=f"hatui {__version__}")
    node = p.add_argument_group(NODE_GROUP)
    node.add_argument("--interface", metavar="IF")
    node.add_argument("--vrid", type=int, metavar="N")
    node.add_argument("--priority", type=int, metavar="P", default=100)
    node.add_argument(
        "--vip",
        action="append",
        metavar="ADDR[/LEN]",
        default=[],
        help="--serve: a VIP to hold (ADDR/LEN); --watch/--read: an address to watch as a VIP "
        "by ARP/ND, whatever announces it (repeatable)",
    )
    node.add_argument("--advert-int", type=float, metavar="S", default=1.0)
    node.add_argument(
        "--vrrp-version",
        type=int,
        choices=(2, 3),
        default=None,
        help="VRRP version (default 2; 3 for IPv6 VIPs)",
    )
    node.add_argument("--unicast-peer", action="append", metavar="IP", default=[])
    node.add_argument("--unicast-src", metavar="IP")
    node.add_argument("--auth-pass", metavar="SECRET")
    node.add_argument("--nopreempt", action="store_true")
    node.add_argument("--preempt-delay", type=float, metavar="S", default=0.0)
    node.add_argument("--name", metavar="NAME", help="instance name (default VI_<vrid>)")
    node.add_argument(
        "--checksum",
        choices=("pseudo", "plain"),
        default="pseudo",
        help="VRRPv3 IPv4 checksum form to send (default: with pseudo-header)",
    )
    return p


# Besides the "node from flags" group, the flags a serving console hands its node child.
NODE_CHILD_FLAGS = frozenset(
    {"config", "config_id", "rt_priority", "metrics", "haproxy", "verbose"}
)


def node_argv(args: argparse.Namespace) -> list[str]:
    """The headless node a serving console starts: the same node, from the same flags,
    read back from the parser's own definitions (one place names a flag)."""
    parser = build_parser()
    group = next(g for g in parser._action_groups if g.title == NODE_GROUP)
    wanted = NODE_CHILD_FLAGS | {a.dest for a in group._group_actions}
    argv = ["--serve", "--headless", "--control", args.control]
    for action in parser._actions:
        value = getattr(args, action.dest, None)
        if action.dest not in wanted or value is None or value == action.default:
            continue
        flag = action.option_strings[-1]
        if isinstance(action, argparse._StoreTrueAction):
            argv.append(flag)
        elif isinstance(action, argparse._AppendAction):
            argv += [f"{flag}={v}" for v in value]
        else:
            argv.append(f"{flag}={value}")
    return argv


def dispatch(args: argparse.Namespace) -> int:
    if args.fleet_match and not args.fleet:
        raise UsageError("--fleet-match goes with --fleet URL")
    if args.vips and not (args.watch or args.read):
        raise UsageError("--vips goes with --watch or --read")
    if args.vip and (args.watch or args.read):
        _listed(args)  # a bad address fails before any capture opens
    if args.metrics and not (args.watch or args.serve):
        raise UsageError("--metrics works with --watch and --serve")
    if args.haproxy and not (args.watch or args.serve or args.attach):
        raise UsageError("--haproxy goes with --watch, --serve or --attach")
    if args.report and not args.read:
        raise UsageError("--report goes with --read FILE")
    if args.node_log and not args.report:
        raise UsageError("--node-log goes with --read FILE --report OUT.html")
    # A plain watch console polls the local haproxy itself; serve and attach consoles
    # follow the LAN view's polls (hatui/ui/app.py's entry points).
    if not (args.headless or args.json) and args.watch and args.haproxy != NO_HAPROXY:
        _console_follows_haproxy(args)
    if args.lan_view:
        return run_lan_view(args)
    if args.config_test:
        return run_config_test(args)
    if args.read:
        return run_read(args)
    if args.fleet:
        return run_fleet(args)
    if args.watch:
        return run_watch(args)
    if args.serve:
        return run_serve(args)
    if args.demo:
        from hatui.demo import run_demo

        return run_demo(args)
    if args.attach:
        return run_attach_ui(args.control, haproxy=args.haproxy != NO_HAPROXY)
    raise UsageError("choose a mode: --watch IFACE, --serve, --read FILE, --demo (see --help)")


class JournalFormatter(logging.Formatter):
    """`<severity>name: message`, the form journald reads from a service's stderr."""

    SEVERITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6}

    def format(self, record: logging.LogRecord) -> str:
        severity = self.SEVERITY.get(record.levelno, 7)
        text = f"<{severity}>{record.name}: {record.getMessage()}"
        if record.exc_info:
            text += " " + self.formatException(record.exc_info).replace("\n", " | ")
        return text


def _journal_stderr() -> bool:
    from hatui.headless import under_journald

    return under_journald(sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv[:1] == ["ctl"]:
            from hatui.ctl import main as ctl_main

            return ctl_main(argv[1:])
        args = build_parser().parse_args(argv)
        logging.basicConfig(
            level=logging.DEBUG if args.verbose else logging.WARNING,
            format="%(asctime)s %(name)s %(levelname)s %(message)s",
        )
        if _journal_stderr():
            # journald stamps lines itself and reads `<N>` as the syslog severity.
            for handler in logging.getLogger().handlers:
                handler.setFormatter(JournalFormatter())
        return dispatch(args)
    except HatuiError as exc:
        print(f"hatui: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:
        # `hatui --read x --json | head`: the reader left; not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
