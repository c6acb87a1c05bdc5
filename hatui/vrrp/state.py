"""The states of a VRRP instance: RFC 5798's three plus keepalived's FAULT."""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    INIT = "INIT"  # RFC 5798 6.4.1 Initialize: before Startup and after Shutdown
    BACKUP = "BACKUP"  # RFC 5798 6.4.2
    MASTER = "MASTER"  # RFC 5798 6.4.3 (RFC 9568 calls it Active)
    FAULT = "FAULT"  # keepalived: link down or a weight-0 tracked object failing
