"""A vrrp_sync_group coordinator: from one member's actions, the inputs for the others.

Rules (keepalived vrrp_sync.c and keepalived.conf(5) "VRRP synchronization group"):

FAULT    Level-triggered: while any member has a fault of its own (link, weight-0
         tracker), the group is FAULT and every member in BACKUP or MASTER is told FAULT
         ("sync group G: VI_1 is in FAULT"). When no member has one any more, the group
         is BACKUP and the members it held in FAULT are released (they go BACKUP, or
         MASTER as address owner).
MASTER   A member asking to go MASTER (WantMaster, its Master_Down_Timer expired) is let
         go only when every other member wants MASTER too, or the group is already
         MASTER (vrrp_sync_can_goto_master: prefer BACKUP to thrashing). A member that
         enters MASTER moves the group to MASTER and every other member with it.
BACKUP   A member leaving MASTER for BACKUP moves the group, and every master, to BACKUP.
Loops    A forced transition moves a member to the state the group is already in, so it
         finds nothing to do: no ping-pong. Shutdown (-> INIT) is not propagated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from hatui.vrrp import actions as act
from hatui.vrrp.inputs import SyncGroupChanged
from hatui.vrrp.machine import Router
from hatui.vrrp.state import State


@dataclass(frozen=True, slots=True, kw_only=True)
class Member:
    """What the coordinator needs to know of one member right now."""

    state: State
    wants_master: bool = False
    own_fault: bool = False  # a fault of its own, not one the group imposed
    group_fault: bool = False  # held in FAULT (or INIT) by the group


def member_view(router: Router) -> Member:
    """The coordinator's view of a live router."""
    return Member(
        state=router.state,
        wants_master=router.wants_master,
        own_fault=bool(router.own_faults),
        group_fault=router.group_fault,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """The coordinator's answer: inputs for members, in order, and the group's new state."""

    inputs: tuple[tuple[str, SyncGroupChanged], ...] = ()
    entered: State | None = None  # the group's new state, for its notify scripts


class SyncGroup:
    """One vrrp_sync_group; `follow` after every input any member handled."""

    def __init__(self, name: str, members: Sequence[str]) -> None:
        if not members:
            raise ValueError(f"sync group {name} has no members")
        self.name = name
        self.members = tuple(members)
        self.state = State.INIT

    def follow(
        self, member: str, actions: Sequence[act.Action], view: Mapping[str, Member]
    ) -> Step:
        """Given what `member` just did and every member's current view, what follows."""
        if member not in self.members:
            raise KeyError(f"{member} is not a member of sync group {self.name}")
        before = self.state
        faulty = [m for m in self.members if view[m].own_fault]
        if faulty:
            inputs = self._hold_in_fault(faulty[0], view)
        elif self.state is State.FAULT:
            # The owner may have recovered straight into MASTER: release, then follow it.
            inputs = self._release(member, view) + self._follow_actions(member, actions, view)
        else:
            inputs = self._follow_actions(member, actions, view)
        entered = self.state if self.state is not before else None
        return Step(inputs=inputs, entered=entered)

    def _hold_in_fault(
        self, culprit: str, view: Mapping[str, Member]
    ) -> tuple[tuple[str, SyncGroupChanged], ...]:
        self.state = State.FAULT
        cause = f"sync group {self.name}: {culprit} is in FAULT"
        event = SyncGroupChanged(state=State.FAULT, member=culprit, cause=cause)
        # Also members still in INIT: they start in FAULT.
        return tuple(
            (m, event)
            for m in self.members
            if m != culprit and not view[m].own_fault and not view[m].group_fault
        )

    def _release(
        self, member: str, view: Mapping[str, Member]
    ) -> tuple[tuple[str, SyncGroupChanged], ...]:
        self.state = State.BACKUP
        cause = f"sync group {self.name}: {member} recovered"
        event = SyncGroupChanged(state=State.BACKUP, member=member, cause=cause)
        return tuple((m, event) for m in self.members if view[m].group_fault)

    def _follow_actions(
        self, member: str, actions: Sequence[act.Action], view: Mapping[str, Member]
    ) -> tuple[tuple[str, SyncGroupChanged], ...]:
        out: list[tuple[str, SyncGroupChanged]] = []
        for action in actions:
            match action:
                case act.Transition(old=old, new=new):
                    out += self._on_transition(member, old, new)
                case act.WantMaster():
                    others = [m for m in self.members if m != member]
                    if self.state is State.MASTER or all(view[m].wants_master for m in others):
                        cause = f"sync group {self.name}: every member wants MASTER"
                        go = SyncGroupChanged(state=State.MASTER, member=member, cause=cause)
                        out.append((member, go))
                case _:
                    pass
        return tuple(out)

    def _on_transition(
        self, member: str, old: State, new: State
    ) -> list[tuple[str, SyncGroupChanged]]:
        if new is State.MASTER and self.state is not State.MASTER:
            self.state = State.MASTER
            return self._tell_others(member, State.MASTER, "became MASTER")
        if old is State.MASTER and new is State.BACKUP and self.state is State.MASTER:
            self.state = State.BACKUP
            return self._tell_others(member, State.BACKUP, "left MASTER")
        if new is State.BACKUP and self.state is State.INIT:
            self.state = State.BACKUP  # startup: nothing to force
        return []

    def _tell_others(
        self, member: str, state: State, verb: str
    ) -> list[tuple[str, SyncGroupChanged]]:
        cause = f"sync group {self.name}: {member} {verb}"
        event = SyncGroupChanged(state=state, member=member, cause=cause)
        return [(m, event) for m in self.members if m != member]
