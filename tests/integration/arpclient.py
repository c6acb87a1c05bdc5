"""A lab client that keeps asking for an address: a broadcast ARP request every INTERVAL s
(iputils arping takes whole seconds only), printing each reply as `TIME MAC`.

Run inside a lab namespace: python3 arpclient.py IFACE SENDER_IP TARGET_IP INTERVAL
"""

from __future__ import annotations

import select
import socket
import struct
import sys
import time

ETH_P_ARP = 0x0806


def main() -> None:
    iface, sender, target, interval = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    s.bind((iface, ETH_P_ARP))
    mac = s.getsockname()[4]
    request = (
        b"\xff" * 6
        + mac
        + struct.pack("!HHHBBH", ETH_P_ARP, 1, 0x0800, 6, 4, 1)
        + mac
        + socket.inet_aton(sender)
        + b"\x00" * 6
        + socket.inet_aton(target)
    )
    want = socket.inet_aton(target)
    nxt = time.monotonic()
    while True:
        now = time.monotonic()
        if now >= nxt:
            s.send(request)
            nxt = now + interval
        ready, _, _ = select.select([s], [], [], max(0.0, nxt - now))
        if not ready:
            continue
        frame = s.recv(128)
        op, sha, spa = struct.unpack_from("!H6s4s", frame, 20)
        if op == 2 and spa == want:
            print(f"{time.time():.6f} {sha.hex(':')}", flush=True)


if __name__ == "__main__":
    main()
