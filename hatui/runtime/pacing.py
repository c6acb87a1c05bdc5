"""Pacing: when a node's due timers and its deferred effects run.

The node decides nothing here; it hands the pacer each instance's new deadline after every
input and the effects that may wait. The policy, in order of precedence:

1. Adverts first. A wake-up runs every Adver_Timer that is due, and those due within
   ADVERT_SLACK_US go with them, each at its own deadline so that its period stays exact:
   masters with the same timing share one wake-up per interval. An advert never goes
   early for its own sake, only in step with one that is due.
2. Groups. At most ADVERT_GROUP adverts go in step; the next one moves GROUP_STEP_US on,
   once, into a phase of its own. Python spends tens of microseconds per advert, so a
   burst of hundreds would put the last one milliseconds after the first. The node starts
   its instances in such groups too.
3. On the grid. A late timer runs at its own deadline, so lateness never accumulates into
   the period, unless it is later than LATE_ON_GRID_US (an advert: half an interval, a
   stalled process), when it runs at `now`: one advert, never a catch-up burst.
4. Takeovers are as urgent as adverts. Every other timer (a GARP burst's delay or refresh,
   a spaced GARP round, the end of a preempt delay) waits until the wake-up's adverts are
   out, then runs for TIMER_BUDGET_US (one at least); the rest wait for the next wake-up,
   which comes at once. A waiting instance whose own advert or Master_Down falls due runs
   first.
5. Effects after adverts. GARP rounds (in parts of GARP_PART VIPs) and notifications that
   a wake-up causes wait until its adverts are out, then run in the gaps between timers:
   while the next timer is at least EFFECT_MARGIN_US away. One that waited
   EFFECT_STARVE_US runs at the next wake-up regardless, so a timeline with no gap still
   moves. Effects keep their order: while any wait, later ones queue behind them.

The pacer reads the state machine through its named fast path (`Router.deadline`,
`only_advert_due`, `urgent_due`, `advert_fired`; see hatui/vrrp/machine.py). Tests drive it
on a manual clock and scheduler (tests/runtime/test_pacing.py).
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from hatui.clock import Clock
from hatui.types import MonoUs
from hatui.vrrp.actions import SendAdvert
from hatui.vrrp.spec import InstanceSpec

ADVERT_SLACK_US = 1_000  # below the jitter of any real peer; Master_Down is 3 intervals
LATE_ON_GRID_US = 10_000
ADVERT_GROUP = 16
GROUP_STEP_US = 2_000  # more than ADVERT_SLACK_US, so that groups stay apart
TIMER_BUDGET_US = 200
EFFECT_MARGIN_US = 500  # a wake-up's lateness plus one GARP part
EFFECT_STARVE_US = 50_000
GARP_PART = 16  # VIPs one deferred GARP part announces


class Handle(Protocol):
    def cancel(self) -> None: ...


class Scheduler(Protocol):
    """Calls `fn` once the monotonic clock reaches `at` (µs)."""

    def call_at(self, at: MonoUs, fn: Callable[[], None]) -> Handle: ...


class FastPath(Protocol):
    """What the pacer reads of a state machine (hatui.vrrp.machine.Router)."""

    @property
    def spec(self) -> InstanceSpec: ...
    def deadline(self) -> MonoUs | None: ...
    def only_advert_due(self, until: MonoUs) -> bool: ...
    def urgent_due(self, until: MonoUs) -> bool: ...
    def advert_fired(self, now: MonoUs) -> SendAdvert | None: ...


class Timed(Protocol):
    """One instance on the timeline: its machine, its deadline as last entered, and
    whether the fast path may serve it (a sync group's coordinator needs every input)."""

    deadline: MonoUs | None
    fast: bool

    @property
    def router(self) -> FastPath: ...


E = TypeVar("E", bound=Timed)


@dataclass(frozen=True, slots=True)
class Deferred:
    """An effect waiting for a gap between timers, and the instance it speaks for."""

    run: Callable[[], None]
    owner: object | None = None


class Pacer(Generic[E]):
    """One timer for every instance's deadlines, and the queue of deferred effects.

    `fire(entry, when)` runs an entry's due timers through its state machine at `when`;
    `send(entry, advert)` sends an advert the fast path produced, and `failed(entry,
    advert, exc)` hears of a send that raised (the timer runs on regardless)."""

    def __init__(
        self,
        clock: Clock,
        scheduler: Scheduler,
        *,
        fire: Callable[[E, MonoUs], None],
        send: Callable[[E, SendAdvert], None],
        failed: Callable[[E, SendAdvert, Exception], None],
    ) -> None:
        self.clock = clock
        self.scheduler = scheduler
        self._fire_cb, self._send, self._failed = fire, send, failed
        # Every deadline in one heap; an entry is stale once its instance's deadline moved.
        self._due: list[tuple[MonoUs, int, E]] = []
        self._held: deque[tuple[MonoUs, E]] = deque()  # due timers left for the next wake-up
        self._seq = itertools.count()
        self._timer: Handle | None = None
        self._timer_at: MonoUs | None = None
        self._waking = False
        self._backlog: deque[Deferred] = deque()
        self._progress_at = 0  # when a deferred effect last ran, or the first was queued

    # -- the timeline -------------------------------------------------------------------

    def track(self, entry: E) -> None:
        """Enter the entry's deadline after an input changed it."""
        at = entry.router.deadline()
        if at != entry.deadline:
            entry.deadline = at
            if at is not None:
                heapq.heappush(self._due, (at, next(self._seq), entry))

    @staticmethod
    def forget(entry: E) -> None:
        entry.deadline = None  # its heap entries are stale from now on

    def earliest(self) -> MonoUs | None:
        """The earliest live deadline. A held timer is past due: the next wake-up is now."""
        due, held = self._due, self._held
        while due and due[0][0] != due[0][2].deadline:
            heapq.heappop(due)
        while held and held[0][0] != held[0][1].deadline:
            held.popleft()
        if held:
            return min(held[0][0], due[0][0]) if due else held[0][0]
        return due[0][0] if due else None

    def rearm(self) -> None:
        at = self.earliest()
        if at == self._timer_at:
            return
        self.cancel()
        self._timer_at = at
        if at is not None:
            self._timer = self.scheduler.call_at(at, self._on_timer)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timer_at = None

    def _on_timer(self) -> None:
        self._timer = None
        self._timer_at = None
        now = self.clock.mono_us()
        with self.waking():
            self._run_due(now, MonoUs(now + ADVERT_SLACK_US))
        self.rearm()

    def _run_due(self, now: MonoUs, horizon: MonoUs) -> None:
        """Rules 1 to 4 of the module docstring, for one wake-up. A router whose timer
        fires again at once comes round again; each firing moves its deadline past `now`,
        so the loop ends."""
        held = self._held
        if held:
            for at, entry in list(held):
                if at == entry.deadline and entry.router.urgent_due(horizon):
                    self._fire(entry, at, now)
        step_at, in_step = 0, 0  # the adverts in step with the first, at `step_at`
        due, seq = self._due, self._seq
        # The top entry is read in place: most leave it for a later deadline of the same
        # instance, which replaces it in one sift (heapreplace).
        while due:
            at, _, entry = due[0]
            if at != entry.deadline:
                heapq.heappop(due)
                continue
            if at > horizon:
                break
            router = entry.router
            if not router.only_advert_due(horizon):
                if at > now:
                    break  # a Master_Down or other timer: never early
                heapq.heappop(due)
                if router.urgent_due(now):
                    self._fire(entry, at, now)
                else:
                    held.append((at, entry))  # its deadline stays: an input supersedes it
                continue
            if in_step == 0 or at > step_at + ADVERT_SLACK_US:
                if at > now:
                    break
                step_at, in_step = at, 0
            if in_step == ADVERT_GROUP:
                entry.deadline = MonoUs(at + GROUP_STEP_US)
                heapq.heapreplace(due, (entry.deadline, next(seq), entry))
                continue
            in_step += 1
            when = at if now - at < router.spec.advert_int_us // 2 else max(at, now)
            if entry.fast:
                sent = router.advert_fired(when)
                if sent is not None:
                    # The heap first, so that whatever the send does finds it consistent.
                    entry.deadline = router.deadline()
                    if entry.deadline is None:
                        heapq.heappop(due)
                    else:
                        heapq.heapreplace(due, (entry.deadline, next(seq), entry))
                    try:
                        self._send(entry, sent)
                    except Exception as exc:
                        self._failed(entry, sent, exc)
                    continue
            heapq.heappop(due)
            entry.deadline = None
            self._fire_cb(entry, when)
        clock, first = self.clock, True
        stop = clock.mono_us() + TIMER_BUDGET_US
        while held and (first or clock.mono_us() < stop):
            at, entry = held.popleft()
            if at == entry.deadline:
                first = False
                self._fire(entry, at, now)

    def _fire(self, entry: E, at: MonoUs, now: MonoUs) -> None:
        entry.deadline = None
        self._fire_cb(entry, at if now - at < LATE_ON_GRID_US else max(at, now))

    # -- deferred effects ---------------------------------------------------------------

    @contextmanager
    def waking(self) -> Iterator[None]:
        """A wake-up: effects wait until it ends, then the gaps take them (also after an
        error, so that none is left waiting)."""
        self._waking = True
        try:
            yield
        finally:
            self._waking = False
            self.drain(wake=True)

    @property
    def busy(self) -> bool:
        """Whether an effect must wait: inside a wake-up, or behind others that wait."""
        return self._waking or bool(self._backlog)

    def defer(self, run: Callable[[], None], owner: object | None = None) -> None:
        if not self._backlog:
            self._progress_at = self.clock.mono_us()
        self._backlog.append(Deferred(run, owner))

    def effect(self, run: Callable[[], None]) -> None:
        """Run now, or after the wake-up's adverts and the effects queued before it."""
        if self.busy:
            self.defer(run)
        else:
            run()

    def drop(self, owner: object) -> None:
        """Forget the waiting effects of `owner` (its VIPs went: never announce them)."""
        if any(d.owner is owner for d in self._backlog):
            self._backlog = deque(d for d in self._backlog if d.owner is not owner)

    def drain(self, *, wake: bool) -> None:
        """Run waiting effects while the next timer is EFFECT_MARGIN_US away or more; at a
        wake-up (`wake`), one regardless if none has run for EFFECT_STARVE_US."""
        backlog, clock = self._backlog, self.clock
        forced = wake and clock.mono_us() - self._progress_at >= EFFECT_STARVE_US
        while backlog:
            if not forced:
                at = self.earliest()
                if at is not None and clock.mono_us() + EFFECT_MARGIN_US > at:
                    return
            forced = False
            backlog.popleft().run()
            self._progress_at = clock.mono_us()

    def flush(self) -> None:
        """Run every waiting effect now, in order (a stop)."""
        while self._backlog:
            self._backlog.popleft().run()
