"""Bytes to typed frames and back: Ethernet, IPv4/IPv6, VRRPv2/v3, ARP, ND, CARP."""
