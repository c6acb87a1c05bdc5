"""hatui: a terminal console for VRRP high-availability pairs."""

__version__ = "0.1.0"
