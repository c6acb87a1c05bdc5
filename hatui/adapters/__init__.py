"""Thin I/O adapters: capture, pcap files, transmit, netlink, scripts, control socket."""
