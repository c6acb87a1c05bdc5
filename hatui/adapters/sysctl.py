"""Per-interface kernel settings (/proc/sys) a node changes, and puts back when it stops."""

from __future__ import annotations

import logging

from hatui.errors import RuntimeFault

log = logging.getLogger(__name__)

ROOT = "/proc/sys"


class Sysctls:
    """Sets `net/ipv4/conf/IFACE/NAME`-style keys, remembering each old value once."""

    def __init__(self, root: str = ROOT) -> None:
        self.root = root
        self.saved: dict[str, str] = {}

    def set(self, key: str, value: int) -> None:
        path = f"{self.root}/{key}"
        try:
            with open(path, encoding="ascii") as f:
                old = f.read().strip()
            if old != str(value):
                with open(path, "w", encoding="ascii") as f:
                    f.write(f"{value}\n")
                self.saved.setdefault(key, old)
        except OSError as exc:
            raise RuntimeFault(f"cannot set {key.replace('/', '.')}: {exc.strerror}") from None

    def restore(self) -> None:
        """Put back every value this object changed; a failure is logged, not raised."""
        for key, old in reversed(list(self.saved.items())):
            try:
                with open(f"{self.root}/{key}", "w", encoding="ascii") as f:
                    f.write(f"{old}\n")
            except OSError as exc:
                log.warning("cannot restore %s: %s", key.replace("/", "."), exc.strerror)
        self.saved.clear()
