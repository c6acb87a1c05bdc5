"""The fleet: every node, VRRP instance and LAN router a Prometheus server holds (pure)."""
