"""Test-only frame injector: sends raw Ethernet frames round-robin from a lab namespace.

Usage: python -m tests.reliability.flood IFACE FRAMES.hex COUNT
Prints how many frames it sent. Runs only inside a lab host (tests start it with Lab.spawn).
"""

from __future__ import annotations

import socket
import sys


def main(iface: str, frames_file: str, count: int) -> int:
    with open(frames_file) as f:
        frames = [bytes.fromhex(line) for line in f.read().split() if line]
    sent = 0
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        while sent < count:
            try:
                s.send(frames[sent % len(frames)])
            except BlockingIOError:  # queue full at line rate: try the next one
                continue
            except OSError as exc:
                if exc.errno == 105:  # ENOBUFS: the qdisc is full, keep flooding
                    continue
                raise
            sent += 1
    print(f"sent {sent}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
