"""systemd's notify protocol (sd_notify(3)): READY=1, STATUS=, WATCHDOG=1, STOPPING=1.

A few lines over a Unix datagram socket named by NOTIFY_SOCKET (a path, or `@name` for an
abstract socket). Without NOTIFY_SOCKET every call does nothing. A socket that cannot be
reached is logged once and never stops the node: readiness reporting is not worth a VIP.
The console uses the same protocol to learn when its node child is ready.
"""

from __future__ import annotations

import logging
import os
import socket

log = logging.getLogger(__name__)


def watchdog_interval_s(env: dict[str, str] | None = None) -> float | None:
    """Half of WATCHDOG_USEC in seconds (sd_watchdog_enabled(3)), or None when it is off.

    WATCHDOG_PID, when set, must name this process: a watchdog meant for another is ignored.
    """
    env = dict(os.environ) if env is None else env
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID")
    if not usec.isdigit() or int(usec) <= 0:
        return None
    if pid is not None and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2e6


class SdNotify:
    """Sends notify datagrams to NOTIFY_SOCKET, if there is one."""

    def __init__(self, address: str | None = None) -> None:
        address = os.environ.get("NOTIFY_SOCKET") if address is None else address
        self.address: str | None = None
        self.sock: socket.socket | None = None
        self.errors = 0
        if not address:
            return
        if address.startswith("@"):
            address = "\0" + address[1:]
        elif not address.startswith("/"):
            log.warning("NOTIFY_SOCKET %r is neither a path nor @abstract: ignored", address)
            return
        self.address = address
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.setblocking(False)

    @property
    def enabled(self) -> bool:
        return self.sock is not None

    def send(self, **fields: str) -> bool:
        """One datagram of `KEY=value` lines, e.g. send(READY="1", STATUS="...")."""
        if self.sock is None or self.address is None:
            return False
        text = "".join(f"{k}={v.replace(chr(10), ' ')}\n" for k, v in fields.items())
        try:
            self.sock.sendto(text.encode(), self.address)
        except OSError as exc:
            self.errors += 1
            if self.errors == 1:
                log.warning("NOTIFY_SOCKET %s: %s", self.address.lstrip("\0"), exc.strerror or exc)
            return False
        return True

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None
