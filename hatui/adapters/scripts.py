"""Check scripts, notify scripts and track files, run as asyncio subprocesses that never block.

Conventions follow keepalived: a check script succeeds with exit status 0; a timeout is
a failure and kills the script's whole process group; notify scripts are fire-and-forget;
generic `notify` scripts get `TYPE NAME STATE PRIORITY` appended.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shlex
import shutil
import signal
from collections.abc import Callable
from typing import Literal

from hatui.errors import RuntimeFault
from hatui.vrrp.spec import NotifySpec, RunAs, ScriptSpec

log = logging.getLogger(__name__)

NotifyState = Literal["MASTER", "BACKUP", "FAULT", "STOP"]
NotifyKind = Literal["INSTANCE", "GROUP"]
OnChange = Callable[[str, bool], None]


def command_argv(command: str) -> list[str]:
    """Split a script line as a shell would (keepalived does not run a shell either)."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise RuntimeFault(f"script {command!r}: {exc}") from None
    if not argv:
        raise RuntimeFault("empty script command")
    return argv


def check_executable(argv: list[str]) -> str | None:
    """Why `argv[0]` cannot run (missing, not executable), or None if it can."""
    exe = argv[0]
    if "/" not in exe:
        return None if shutil.which(exe) else f"script {exe!r} not found in PATH"
    if not os.path.isfile(exe):
        return f"script {exe} does not exist"
    if not os.access(exe, os.X_OK):
        return f"script {exe} is not executable"
    return None


def _identity(run_as: RunAs | None) -> dict[str, object]:
    """Popen's user/group arguments: only when they differ from ours (changing ids needs
    root); the supplementary groups become the one group, as keepalived's setgroups."""
    if run_as is None or (run_as.uid, run_as.gid) == (os.geteuid(), os.getegid()):
        return {}
    return {"user": run_as.uid, "group": run_as.gid, "extra_groups": [run_as.gid]}


async def run_command(
    argv: list[str], timeout_s: float, *, run_as: RunAs | None = None
) -> int | None:
    """Run `argv` in its own process group (as `run_as`); its exit status, or None on
    timeout (the group is killed) or when it cannot start."""
    try:
        proc = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            start_new_session=True,
            **_identity(run_as),  # type: ignore[arg-type]
        )
    except OSError as exc:
        log.warning("cannot run %s: %s", argv[0], exc.strerror or exc)
        return None
    try:
        return await asyncio.wait_for(proc.wait(), timeout_s)
    except TimeoutError:
        _kill_group(proc.pid)
        await proc.wait()
        return None
    except asyncio.CancelledError:
        _kill_group(proc.pid)  # the loop's child watcher still reaps it
        raise


def _kill_group(pid: int) -> None:
    # The script may have forked helpers: kill the whole group it leads.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def result_text(status: int | None, elapsed_s: float, timeout_s: float) -> str:
    """A check run's evidence: "exit 1", "killed by signal 9", "timed out after 2 s" (no
    status after the whole timeout), "could not run" (no status sooner)."""
    if status is None:
        if elapsed_s >= timeout_s * 0.99:
            return f"timed out after {timeout_s:g} s"
        return "could not run"
    if status < 0:  # asyncio's returncode for a signal
        return f"killed by signal {-status}"
    return f"exit {status}"


class ScriptChecker:
    """Runs one `vrrp_script` every interval and reports rise/fall transitions.

    The state starts unknown; `on_change(name, ok)` fires when `rise` consecutive
    successes make it OK or `fall` consecutive failures make it failed. A script that
    cannot run is reported failed at start with a warning (keepalived's behaviour), or
    raises RuntimeFault when `strict`.
    """

    def __init__(self, spec: ScriptSpec, on_change: OnChange, *, strict: bool = False) -> None:
        self.spec = spec
        self.on_change = on_change
        self.strict = strict
        self.ok: bool | None = None
        self.runs = 0
        self.timeouts = 0
        self.last_result = ""  # the last run's evidence: "exit 1", "timed out after 2 s"
        self._streak = 0  # >0 consecutive successes, <0 consecutive failures
        self._task: asyncio.Task[None] | None = None

    @property
    def timeout_s(self) -> float:
        return (self.spec.timeout_us or self.spec.interval_us) / 1e6

    def start(self) -> None:
        """Check the script and start running it; needs a running loop."""
        argv = command_argv(self.spec.command)
        problem = check_executable(argv)
        if problem is not None:
            if self.strict:
                raise RuntimeFault(f"vrrp_script {self.spec.name}: {problem}")
            log.warning("vrrp_script %s: %s; marking it failed", self.spec.name, problem)
            self.last_result = problem
            self._set(False)
            return
        self._task = asyncio.get_running_loop().create_task(self._loop(argv))

    async def _loop(self, argv: list[str]) -> None:
        loop = asyncio.get_running_loop()
        interval = self.spec.interval_us / 1e6
        next_run = loop.time()
        while True:
            started = loop.time()
            status = await run_command(argv, self.timeout_s, run_as=self.spec.run_as)
            self.runs += 1
            if status is None:
                self.timeouts += 1
                log.info("vrrp_script %s timed out or could not run", self.spec.name)
            self.last_result = result_text(status, loop.time() - started, self.timeout_s)
            self.record(status == 0)
            # Runs start every interval, like keepalived; a slow script delays the next.
            next_run = max(next_run + interval, loop.time())
            await asyncio.sleep(next_run - loop.time())

    def record(self, success: bool) -> None:
        """Apply one result to the rise/fall counters (public for tests and replays)."""
        if success:
            self._streak = self._streak + 1 if self._streak > 0 else 1
            if self.ok is not True and self._streak >= self.spec.rise:
                self._set(True)
        else:
            self._streak = self._streak - 1 if self._streak < 0 else -1
            if self.ok is not False and -self._streak >= self.spec.fall:
                self._set(False)

    def _set(self, ok: bool) -> None:
        self.ok = ok
        log.info("vrrp_script %s is now %s", self.spec.name, "OK" if ok else "failing")
        self.on_change(self.spec.name, ok)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


_notify_tasks: set[asyncio.Task[int | None]] = set()


def run_notify(
    argv: list[str], timeout_s: float = 30.0, run_as: RunAs | None = None
) -> asyncio.Task[int | None]:
    """Start a notify script and return at once; failures and timeouts are logged."""

    async def run() -> int | None:
        status = await run_command(argv, timeout_s, run_as=run_as)
        if status is None:
            log.warning("notify %s: timed out after %.0f s or could not run", argv[0], timeout_s)
        elif status != 0:
            log.warning("notify %s exited with status %d", shlex.join(argv), status)
        return status

    task = asyncio.get_running_loop().create_task(run())
    _notify_tasks.add(task)  # keep a reference until done: the loop holds only weak ones
    task.add_done_callback(_notify_tasks.discard)
    return task


def notify_runs(
    notify: NotifySpec, *, kind: NotifyKind, name: str, state: NotifyState, priority: int
) -> list[tuple[list[str], RunAs | None]]:
    """The commands keepalived runs for a state change, each with who runs it: the
    state's own script as written, then the generic `notify` script with
    `TYPE NAME STATE PRIORITY`."""
    field = state.lower()
    specific = {
        "MASTER": notify.master,
        "BACKUP": notify.backup,
        "FAULT": notify.fault,
        "STOP": notify.stop,
    }[state]
    out = []
    if specific:
        out.append((command_argv(specific), notify.user_of(field)))
    if notify.generic:
        argv = [*command_argv(notify.generic), kind, name, state, str(priority)]
        out.append((argv, notify.user_of("generic")))
    return out


def notify_commands(
    notify: NotifySpec, *, kind: NotifyKind, name: str, state: NotifyState, priority: int
) -> list[list[str]]:
    """The argv lists of `notify_runs`."""
    runs = notify_runs(notify, kind=kind, name=name, state=state, priority=priority)
    return [argv for argv, _ in runs]


def read_track_file(path: str) -> int | None:
    """The integer in a track file, or None (a failure) if it is missing or not a number."""
    try:
        with open(path, encoding="ascii", errors="replace") as f:
            text = f.read(64)
    except OSError:
        return None
    first = text.split(maxsplit=1)[0] if text.strip() else ""
    try:
        return int(first)
    except ValueError:
        return None
