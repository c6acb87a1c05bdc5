"""keepalived's preempt_delay: how long a backup waits before preempting a lower master."""

from __future__ import annotations

from hatui.codec.frames import VrrpAdvert
from hatui.types import MonoUs
from hatui.vrrp.actions import Action, Log, LogLevel
from hatui.vrrp.spec import InstanceSpec
from hatui.vrrp.status import TimerKind


class PreemptDelay:
    """keepalived 2.2.7 vrrp_state_backup: the first lower-priority master a backup hears
    starts the delay; a master of our priority or more stops it; entering BACKUP clears
    it. Its timer (PREEMPT_DELAY) is in the Router's table, which wakes the runtime
    when the delay ends."""

    __slots__ = ("_timers", "until")

    def __init__(self, timers: dict[TimerKind, MonoUs]) -> None:
        self._timers = timers
        self.until: MonoUs | None = None

    def holds(self, now: MonoUs) -> bool:
        """The delay runs: the backup does not preempt yet."""
        return self.until is not None and now < self.until

    def heard(
        self, spec: InstanceSpec, advert: VrrpAdvert, local: int, now: MonoUs
    ) -> list[Action]:
        """A backup heard a master's advert (not priority 0); `local` is our priority."""
        delay = spec.preempt_delay_us
        if not delay or not spec.preempt:
            return []
        if advert.priority >= local:
            if self.until is None:
                return []
            self.until = None
            self._timers.pop(TimerKind.PREEMPT_DELAY, None)
            message = "preempt delay stopped: master priority >= ours"
            return [Log(level=LogLevel.INFO, message=message)]
        if self.until is not None:
            return []
        self.until = MonoUs(now + delay)
        self._timers[TimerKind.PREEMPT_DELAY] = self.until
        message = (
            f"preempt delay started ({delay / 1e6:g} s): lower priority master "
            f"{advert.src_ip} ({advert.priority}), ours {local}"
        )
        return [Log(level=LogLevel.INFO, message=message)]

    def clear(self) -> None:
        self.until = None
