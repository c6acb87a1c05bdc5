"""A node's spec and the checks before it starts: shared by the node (runtime/serve.py)
and the serving console, which checks the config before it starts a node child and so
imports nothing of the node's capture or I/O."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os

from hatui.adapters.netlink import IfAddress, check_vip_subnet, ifindex, interface_addresses
from hatui.errors import RuntimeFault
from hatui.vrrp.spec import NodeSpec

log = logging.getLogger(__name__)


def load_spec(args: argparse.Namespace) -> NodeSpec:
    """The node spec from -c FILE or from the flags; errors raise ConfigError/UsageError.
    --rt-priority overrides the file's vrrp_rt_priority."""
    spec = _load_spec(args)
    rt = getattr(args, "rt_priority", None)
    return spec if rt is None else dataclasses.replace(spec, rt_priority=rt)


def _load_spec(args: argparse.Namespace) -> NodeSpec:
    if args.config:
        from hatui.config.keepalived import load_config

        spec = load_config(args.config, getattr(args, "config_id", None))
        for warning in spec.warnings:
            log.warning("%s", warning)
        return spec
    from hatui.config.flags import spec_from_flags
    from hatui.errors import UsageError

    if not args.interface or args.vrid is None or not args.vip:
        raise UsageError("--serve needs -c FILE, or --interface, --vrid and --vip")
    return spec_from_flags(
        interface=args.interface,
        vrid=args.vrid,
        priority=args.priority,
        vips=args.vip,
        advert_int=args.advert_int,
        # v2 is IPv4 only (RFC 3768): IPv6 VIPs imply v3 unless the operator says otherwise.
        version=args.vrrp_version or (3 if any(":" in v for v in args.vip) else 2),
        unicast_peers=args.unicast_peer,
        unicast_src=args.unicast_src,
        auth_pass=args.auth_pass,
        nopreempt=args.nopreempt,
        preempt_delay=args.preempt_delay,
        name=args.name,
        checksum_form=args.checksum,
    )


def preflight(spec: NodeSpec) -> list[str]:
    """Fail early and clearly: root, interfaces; returns warnings (VIP outside any subnet)."""
    if os.geteuid() != 0:
        raise RuntimeFault("--serve needs root (raw sockets and netlink): run it with sudo")
    warnings = []
    addresses: dict[str, list[IfAddress]] = {}  # one netlink dump per interface
    for ispec in spec.instances:
        ifindex(ispec.interface)  # raises RuntimeFault naming a missing interface
        for vip in ispec.vips:
            dev = vip.dev or ispec.interface
            if dev not in addresses:
                addresses[dev] = interface_addresses(dev)
            note = check_vip_subnet(vip, dev, addresses[dev])
            if note:
                warnings.append(f"{ispec.name}: {note}")
    return warnings
