"""Promise 4: hostile frames at line rate change nothing they should not.

The codec's one-test-per-reason rejections live in tests/codec/test_rejections.py and its
fuzzing in tests/codec/test_fuzz.py; wrong passwords against keepalived in
tests/integration/test_node_keepalived.py. Here a stranger floods a live hatui pair.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from hatui.codec.build import build_vrrp_frame
from hatui.codec.frames import Family
from hatui.lab import Lab
from hatui.lab.faults import figure, masters, start_node, wait_converged
from hatui.lab.nodes import VIP, flags, has_vip, start_observer, wait_for
from tests.conftest import require_root

STRANGER_IP, STRANGER_MAC = "192.0.2.66", "02:00:00:00:00:66"
FLOOD = 20_000


def _advert(**kw: object) -> bytes:
    args: dict[str, object] = {
        "src_mac": STRANGER_MAC,
        "src_ip": STRANGER_IP,
        "vrid": 51,
        "priority": 254,
        "interval_cs": 10,
        "addresses": [VIP],
        "version": 3,
        "family": Family.IPV4,
    }
    args.update(kw)
    return build_vrrp_frame(**args)  # type: ignore[arg-type]


def _msg(**kw: object) -> bytearray:
    """The VRRP message of a valid priority-254 advert, to corrupt by hand."""
    from hatui.codec.vrrp import encode_vrrp

    args: dict[str, object] = {
        "version": 3,
        "vrid": 51,
        "priority": 254,
        "interval_cs": 10,
        "addresses": [VIP],
        "family": Family.IPV4,
        "src_ip": STRANGER_IP,
        "dst_ip": "224.0.0.18",
    }
    args.update(kw)
    return bytearray(encode_vrrp(**args))  # type: ignore[arg-type]


def hostile_frames() -> dict[str, bytes]:
    """One frame per hostile kind; each would preempt our master (254) if it were accepted."""
    bad_sum = _msg()
    bad_sum[6] ^= 0xFF
    bad_version = _msg()
    bad_version[0] = 0x41  # version 4, type 1
    bad_type = _msg()
    bad_type[0] = 0x32  # version 3, type 2
    absurd_count = _msg()
    absurd_count[3] = 255  # 255 addresses claimed, one present
    return {
        "ttl": _advert(ttl=64),
        "checksum": _advert(vrrp=bytes(bad_sum)),
        "version": _advert(vrrp=bytes(bad_version)),
        "type": _advert(vrrp=bytes(bad_type)),
        "truncated": _advert(vrrp=bytes(_msg()[:6])),
        "address_count": _advert(vrrp=bytes(absurd_count)),
        "vrid0": _advert(vrid=0),
        "foreign_vrid": _advert(vrid=52),
    }


def _flood(lab: Lab, host, frames: list[bytes], count: int) -> float:  # type: ignore[no-untyped-def]
    path = lab.workdir / "frames.hex"
    path.write_text("\n".join(f.hex() for f in frames))
    t0 = time.monotonic()
    out = subprocess.run(
        host.argv([sys.executable, "-m", "tests.reliability.flood", "eth0", str(path), str(count)]),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert out.stdout.strip() == f"sent {count}", out
    return count / (time.monotonic() - t0)


def test_hostile_flood_is_counted_and_moves_nothing(lab: Lab) -> None:
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    x = lab.add_host("x", 66, mac=STRANGER_MAC, silent=True)
    obs = start_observer(lab)
    na = start_node(lab, a, flags(150))
    nb = start_node(lab, b, flags(100))
    wait_converged(lab, [na, nb], 6, "a master", master="a")
    obs.mark()
    frames = hostile_frames()
    rate = _flood(lab, x, list(frames.values()), FLOOD)
    figure("hostile_flood_frames", FLOOD)
    figure("hostile_flood_rate_fps", round(rate), "frames/s")
    time.sleep(0.5)
    # Nothing moved: a is still the one master, both nodes alive and answering.
    assert na.proc.poll() is None and nb.proc.poll() is None
    assert masters([na, nb]) == ["a"] and has_vip(lab, a) and not has_vip(lab, b)
    changes = [e for e in obs.since("master_change") if e["vrid"] == 51]
    assert not changes, changes
    # The nodes count what reached their routers: the foreign VRID and v2 frames are not theirs.
    counters = na.status()["counters"]
    figure("hostile_master_counters", str(counters))
    # The observer counted the rejects by reason (its final document).
    obs_rc = lab.stop(obs.proc)
    assert obs_rc == 0
    doc = [e for e in _json_lines(obs.log) if "counters" in e][-1]
    rejected = doc["counters"]["rejected"]
    figure("hostile_observer_rejected", str(rejected))
    for reason in ("ttl", "checksum", "version", "type", "length", "address_count", "vrid"):
        assert rejected.get(reason, 0) > 0, (reason, rejected)
    # Not rejected by the codec, and still harmless: VRID 52 is another router.
    assert any(r["vrid"] == 52 for r in doc["routers"]), doc["routers"]


def test_stranger_with_priority_255_takes_over_and_is_visible(lab: Lab) -> None:
    """RFC 5798 6.4.3: a valid advert with a higher priority wins, even from a stranger."""
    require_root()
    a, b = lab.add_host("a", 11), lab.add_host("b", 12)
    x = lab.add_host("x", 66, mac=STRANGER_MAC, silent=True)
    obs = start_observer(lab)
    na = start_node(lab, a, flags(150))
    nb = start_node(lab, b, flags(100))
    wait_converged(lab, [na, nb], 6, "a master", master="a")
    obs.mark()
    # 10 adverts a second for 1.5 s, as an address owner (255) would send them.
    path = lab.workdir / "owner.hex"
    path.write_text(_advert(priority=255).hex())
    proc = lab.spawn(
        x,
        [
            "sh",
            "-c",
            f"cd {Path(__file__).resolve().parents[2]} && for i in $(seq 15); do "
            f"{sys.executable} -m tests.reliability.flood eth0 {path} 1; sleep 0.1; done",
        ],
    )
    wait_for(lambda: masters([na, nb]) == [], 3, "both nodes to step down to backup")
    assert not has_vip(lab, a) and not has_vip(lab, b)
    fo = obs.wait("master_change", "the observer to see the stranger win", to=STRANGER_IP)
    assert fo["cause"] == "preempt", fo
    claim = obs.wait("owner_claim", "the observer to flag the priority-255 claim")
    assert STRANGER_IP in claim["detail"] and "priority 255" in claim["detail"], claim
    proc.wait(30)
    # The stranger goes silent: a takes back over after Master_Down_Interval.
    took = wait_converged(lab, [na, nb], 3, "a back", master="a")
    figure("stranger_gone_a_back_s", round(took, 3), "s")


def _json_lines(path: Path) -> list[dict[str, object]]:
    from hatui.lab.nodes import read_json_lines

    return read_json_lines(path)
