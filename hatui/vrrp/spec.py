"""Typed specs of VRRP instances: what keepalived.conf and the CLI flags both produce.

Specs are validated at construction: a bad spec is a local mistake, so it raises
ValueError (the config reader wraps it with file:line). Times are integer microseconds.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from hatui.codec.frames import ChecksumForm, Family

DEFAULT_MCAST_V4 = "224.0.0.18"
DEFAULT_MCAST_V6 = "ff02::12"


class InitialState(StrEnum):
    BACKUP = "BACKUP"
    MASTER = "MASTER"


@dataclass(frozen=True, slots=True, kw_only=True)
class Vip:
    """One virtual address: `address/prefixlen` plus keepalived's optional attributes."""

    address: str
    prefixlen: int
    dev: str | None = None
    label: str | None = None
    brd: str | None = None
    scope: str | None = None

    def __post_init__(self) -> None:
        ip = ipaddress.ip_address(self.address)  # raises ValueError on garbage
        limit = 32 if ip.version == 4 else 128
        if not 0 <= self.prefixlen <= limit:
            raise ValueError(f"prefix length {self.prefixlen} out of range for {self.address}")

    @property
    def family(self) -> Family:
        return Family.IPV6 if ":" in self.address else Family.IPV4

    def __str__(self) -> str:
        return f"{self.address}/{self.prefixlen}"


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackRef:
    """A tracked object (interface, script or file) and its weight.

    Weight 0 means the object's failure puts the instance in FAULT; otherwise a failing
    (negative weight) or succeeding (positive weight) object adjusts the priority.
    For files, the weight multiplies the number read from the file.
    """

    name: str
    weight: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class RunAs:
    """The user and group a script runs as (keepalived's script_user, or its own user)."""

    user: str
    uid: int
    gid: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ScriptSpec:
    """A `vrrp_script`: a check command run every `interval_us`."""

    name: str
    command: str
    interval_us: int = 1_000_000
    timeout_us: int | None = None  # None: keepalived's default, the interval
    weight: int = 0
    rise: int = 1
    fall: int = 1
    run_as: RunAs | None = None  # None: the node's own uid and gid


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackFileSpec:
    """A `vrrp_track_file` / `track_file`: a file holding an integer."""

    name: str
    path: str
    weight: int = 1


@dataclass(frozen=True, slots=True, kw_only=True)
class TrackProcessSpec:
    """A `vrrp_track_process`: how many processes match, as keepalived 2.2.7 counts them.

    `process` is matched exactly against the process name (/proc/PID/comm), or against
    argv[0] with `full_command` or parameters; `param_match` None checks no parameters,
    "exact" all of them, "partial" the first ones, "initial" the first ones with the last
    a prefix. OK while quorum <= count <= quorum_max; a change is believed only after
    fork_delay (to OK) or terminate_delay (to failed).
    """

    name: str
    process: str
    params: tuple[str, ...] = ()
    param_match: str | None = None
    full_command: bool = False
    weight: int = 0
    quorum: int = 1
    quorum_max: int | None = None
    fork_delay_us: int = 0
    terminate_delay_us: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class GarpSpec:
    """Gratuitous ARP / unsolicited NA policy (keepalived's garp_* settings)."""

    master_delay_us: int = 5_000_000  # second burst this long after becoming master
    master_repeat: int = 5  # frames per burst
    refresh_us: int = 0  # 0: no periodic refresh while master
    refresh_repeat: int = 1
    interval_us: int = 0  # gap between frames of one burst
    # A master hearing a lower priority: this burst, and again this long after
    # (keepalived garp_lower_prio_repeat/_delay; None: master_repeat / master_delay).
    lower_prio_repeat: int | None = None
    lower_prio_delay_us: int | None = None

    @property
    def lower_repeat(self) -> int:
        return self.master_repeat if self.lower_prio_repeat is None else self.lower_prio_repeat

    @property
    def lower_delay_us(self) -> int:
        d = self.lower_prio_delay_us
        return self.master_delay_us if d is None else d


@dataclass(frozen=True, slots=True, kw_only=True)
class NotifySpec:
    """Notify scripts; each runs with keepalived's argument convention."""

    master: str | None = None
    backup: str | None = None
    fault: str | None = None
    stop: str | None = None
    generic: str | None = None  # `notify`: called as SCRIPT INSTANCE NAME STATE PRIORITY
    master_rx_lower_pri: str | None = None  # a master heard a lower priority (keepalived)
    # Who each script above runs as, by field name; a script not listed runs as the node.
    run_as: tuple[tuple[str, RunAs], ...] = ()

    def user_of(self, script: str) -> RunAs | None:
        return dict(self.run_as).get(script)

    def with_script(self, script: str, command: str) -> NotifySpec:
        """A copy with the `script` field ("master", ..., "generic") set to `command`."""
        if script not in ("master", "backup", "fault", "stop", "generic", "master_rx_lower_pri"):
            raise ValueError(f"no notify script called {script!r}")
        changes: dict[str, Any] = {script: command}
        return replace(self, **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class Nexthop:
    """One path of a multipath route (`nexthop via ADDR [dev IF] [weight N] [onlink]`)."""

    via: str | None = None
    dev: str | None = None
    weight: int = 1  # 1..256 as `ip route` writes it; the kernel holds weight - 1
    onlink: bool = False

    def __str__(self) -> str:
        words = ["nexthop"]
        for key, value in (("via", self.via), ("dev", self.dev)):
            if value is not None:
                words += [key, value]
        if self.weight != 1:
            words += ["weight", str(self.weight)]
        return " ".join([*words, "onlink"] if self.onlink else words)


@dataclass(frozen=True, slots=True, kw_only=True)
class RouteSpec:
    """A route of virtual_routes / static_routes (the `ip route add` shapes keepalived
    documents); `source` is the FILE:LINE that error messages name."""

    dst: str  # network, "ADDR/LEN"
    kind: str = "unicast"  # unicast | blackhole | unreachable | prohibit | throw
    src: str | None = None  # preferred source address
    via: str | None = None
    dev: str | None = None
    table: int = 254  # main
    metric: int | None = None
    scope: int | None = None  # None: link for a gateway-less unicast route, else global
    onlink: bool = False
    # Two or more paths (keepalived's `via A or B` and `nexthop ...`); `via` and `dev`
    # are then None.
    nexthops: tuple[Nexthop, ...] = ()
    source: str = ""

    @property
    def family(self) -> Family:
        return Family.IPV6 if ":" in self.dst else Family.IPV4

    def __str__(self) -> str:
        words = [self.dst] if self.kind == "unicast" else [self.kind, self.dst]
        for key, value in (("src", self.src), ("via", self.via), ("dev", self.dev)):
            if value is not None:
                words += [key, value]
        if self.table != 254:
            words += ["table", str(self.table)]
        if self.metric is not None:
            words += ["metric", str(self.metric)]
        words += [str(nh) for nh in self.nexthops]
        return " ".join(words)


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleSpec:
    """A rule of virtual_rules / static_rules (`ip rule add` shapes)."""

    family: Family
    src: str | None = None  # "from" network
    dst: str | None = None  # "to" network
    table: int = 254
    priority: int | None = None
    iif: str | None = None
    oif: str | None = None
    fwmark: int | None = None
    fwmask: int | None = None
    source: str = ""

    def __str__(self) -> str:
        words: list[str] = []
        for key, value in (("from", self.src), ("to", self.dst), ("iif", self.iif)):
            if value is not None:
                words += [key, value]
        if self.oif is not None:
            words += ["oif", self.oif]
        if self.fwmark is not None:
            mark = f"{self.fwmark:#x}" + (f"/{self.fwmask:#x}" if self.fwmask is not None else "")
            words += ["fwmark", mark]
        words += ["table", str(self.table)]
        if self.priority is not None:
            words += ["priority", str(self.priority)]
        return " ".join(words)


@dataclass(frozen=True, slots=True, kw_only=True)
class InstanceSpec:
    """One VRRP instance (`vrrp_instance` or the --serve flags)."""

    name: str
    interface: str
    vrid: int
    priority: int = 100
    advert_int_us: int = 1_000_000
    version: int = 2
    vips: tuple[Vip, ...] = ()
    excluded_vips: tuple[Vip, ...] = ()
    initial_state: InitialState = InitialState.BACKUP
    preempt: bool = True
    preempt_delay_us: int = 0
    accept: bool = True
    auth_pass: str | None = None
    unicast_src: str | None = None
    unicast_peers: tuple[str, ...] = ()
    mcast_src: str | None = None
    mcast_group: str | None = None  # None: the family's default group
    track_interfaces: tuple[TrackRef, ...] = ()
    track_scripts: tuple[TrackRef, ...] = ()
    track_files: tuple[TrackRef, ...] = ()
    track_processes: tuple[TrackRef, ...] = ()
    notify: NotifySpec = field(default_factory=NotifySpec)
    garp: GarpSpec = field(default_factory=GarpSpec)
    checksum_form: ChecksumForm = ChecksumForm.PSEUDO  # v3 IPv4 only
    sync_group: str | None = None
    source: str | None = None  # "FILE:LINE" of the definition, for messages
    # Unicast: drop adverts whose source is not a configured peer (keepalived's
    # check_unicast_src / vrrp_check_unicast_src).
    check_unicast_src: bool = False
    # keepalived lower_prio_no_advert: a master hearing a lower priority stays quiet.
    lower_prio_no_advert: bool = False
    # keepalived higher_prio_send_advert: one last advert before yielding to a higher one.
    higher_prio_send_advert: bool = False
    # keepalived dont_track_primary: the instance's own link going down is not a fault.
    dont_track_primary: bool = False
    # keepalived unicast_fault_no_peer: unicast was asked for without a peer, so FAULT.
    fault_no_peer: bool = False
    # keepalived skip_check_adv_addr: do not re-check the address list of the same master.
    skip_check_adv_addr: bool = False
    # keepalived notify_priority_changes: effective priority changes go to the notify FIFOs.
    notify_priority_changes: bool = False
    # keepalived use_vmac: the macvlan carrying the virtual MAC; VIPs live on it and
    # adverts leave from it (from the base interface with vmac_xmit_base).
    vmac: str | None = None
    vmac_xmit_base: bool = False
    # keepalived promote_secondaries: the interface's sysctl, set while the node runs.
    promote_secondaries: bool = False
    # Installed on entering MASTER and removed on leaving it (keepalived virtual_routes/rules).
    virtual_routes: tuple[RouteSpec, ...] = ()
    virtual_rules: tuple[RuleSpec, ...] = ()

    def __post_init__(self) -> None:
        if not 1 <= self.vrid <= 255:
            raise ValueError(f"virtual_router_id {self.vrid} out of range 1..255")
        if not 1 <= self.priority <= 255:
            raise ValueError(f"priority {self.priority} out of range 1..255")
        if self.version not in (2, 3):
            raise ValueError(f"VRRP version {self.version} is not 2 or 3")
        if self.version == 2 and self.advert_int_us % 1_000_000:
            raise ValueError("VRRPv2 advert_int must be whole seconds")
        if self.version == 3 and (self.advert_int_us % 10_000 or self.advert_int_us > 40_950_000):
            raise ValueError("VRRPv3 advert_int must be centiseconds, at most 40.95 s")
        if self.advert_int_us <= 0:
            raise ValueError("advert_int must be positive")
        if not self.vips:
            raise ValueError("an instance needs at least one virtual IP address")
        families = {v.family for v in self.vips}
        if len(families) > 1:
            raise ValueError("an instance's virtual IPs must all be IPv4 or all IPv6")
        if self.family is Family.IPV6 and self.version != 3:
            raise ValueError("IPv6 needs VRRP version 3")
        if self.auth_pass is not None and self.version != 2:
            raise ValueError("authentication exists only in VRRPv2")

    @property
    def family(self) -> Family:
        return self.vips[0].family

    def tracked(self, kind: str) -> tuple[TrackRef, ...]:
        """The tracked objects of one kind: interface, script, file or process."""
        return {
            "interface": self.track_interfaces,
            "script": self.track_scripts,
            "file": self.track_files,
            "process": self.track_processes,
        }.get(kind, ())

    @property
    def advert_int_cs(self) -> int:
        return self.advert_int_us // 10_000

    @property
    def group(self) -> str:
        """The multicast destination of adverts when no unicast peer is set."""
        if self.mcast_group:
            return self.mcast_group
        return DEFAULT_MCAST_V6 if self.family is Family.IPV6 else DEFAULT_MCAST_V4


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncGroupSpec:
    """A `vrrp_sync_group`: member instances change state together."""

    name: str
    members: tuple[str, ...]
    notify: NotifySpec = field(default_factory=NotifySpec)


@dataclass(frozen=True, slots=True, kw_only=True)
class FifoSpec:
    """keepalived's notify_fifo / vrrp_notify_fifo: state changes as lines on a FIFO."""

    path: str
    owner: RunAs | None = None  # who owns the FIFO hatui makes; None: the node
    script: tuple[str, ...] | None = None  # the reader to start, the path appended
    script_run_as: RunAs | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class NodeSpec:
    """Everything one node runs: instances plus the global settings they share."""

    instances: tuple[InstanceSpec, ...]
    scripts: tuple[ScriptSpec, ...] = ()
    track_files: tuple[TrackFileSpec, ...] = ()
    track_processes: tuple[TrackProcessSpec, ...] = ()
    sync_groups: tuple[SyncGroupSpec, ...] = ()
    router_id: str | None = None
    enable_script_security: bool = False
    script_user: str | None = None
    rt_priority: int | None = None  # vrrp_rt_priority: SCHED_RR 1..99 for the node's process
    nice: int | None = None  # vrrp_priority: the process's nice value, -20..19
    notify_fifos: tuple[FifoSpec, ...] = ()
    # keepalived static_*: set up at start, whatever the VRRP state, removed at stop.
    static_addresses: tuple[Vip, ...] = ()
    static_routes: tuple[RouteSpec, ...] = ()
    static_rules: tuple[RuleSpec, ...] = ()
    warnings: tuple[str, ...] = ()  # "FILE:LINE: message" for ignored or unknown keywords


# What a reload may change in a running instance. Anything else (interface, VRID, version,
# interval, authentication, unicast or multicast addressing, sync group) changes what the
# instance is on the wire: the reload stops the old instance and starts a new one.
_LIVE_FIELDS = frozenset(
    {
        "priority", "vips", "excluded_vips", "initial_state", "preempt", "preempt_delay_us",
        "accept", "track_interfaces", "track_scripts", "track_files", "track_processes",
        "notify", "garp", "source", "check_unicast_src", "lower_prio_no_advert",
        "higher_prio_send_advert", "skip_check_adv_addr", "notify_priority_changes",
    }
)  # fmt: skip


_FIELDS = tuple(f.name for f in fields(InstanceSpec))
_IDENTITY = tuple(name for name in _FIELDS if name not in _LIVE_FIELDS)
_ALL_BUT_SOURCE = tuple(name for name in _FIELDS if name != "source")


def same_config(old: InstanceSpec, new: InstanceSpec) -> bool:
    """Equal but for where the definition sits in the file (lines move when others change)."""
    return all(getattr(old, name) == getattr(new, name) for name in _ALL_BUT_SOURCE)


def live_change(old: InstanceSpec, new: InstanceSpec) -> bool:
    """True when `new` can replace `old` in a running router without a restart."""
    if old.family is not new.family:
        return False
    return all(getattr(old, name) == getattr(new, name) for name in _IDENTITY)
