"""haproxy beside the VIP: pure parsing of its stats socket and config, joined to VRRP.

No I/O here: the adapter (hatui.adapters.haproxy) reads the socket and files and passes
text and times in, so every case (garbage, version column sets, alerts) is a unit test.
"""
