"""Slots: one agent running several runs at once, each slot with its own GPUs (or none, on CPUs).

``plan_slots`` turns ``--gpus``/``--gpus-per-run`` or ``--parallel`` into slots; ``SlotAgent`` runs
``Agent``'s claim -> execute -> finish loop in one thread per slot. A slot's run gets the slot's
``CUDA_VISIBLE_DEVICES`` on top of the usual run environment (``CUDA_DEVICE_ORDER=PCI_BUS_ID`` too,
unless set: CUDA then numbers the GPUs as nvidia-smi and NVML do). The slots share what the agent has
once: its heartbeat thread (one call for all their runs), its ``--count`` (counted at each claim, so
no slot starts a run beyond it), its failure policy (once it gives up no slot starts a new run; runs
going on finish), and its stop: Ctrl-C or SIGTERM stops every slot's run cleanly, and a sweep that
pauses or ends pauses or ends every slot. A slot whose run failed or crashed takes the next run.

Program runs only: a function run finds its run through module globals (``sweepkit.init()``), so
one process executes one function run at a time.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sweepkit import env
from sweepkit.agents.gpus import gpu_groups, parse_gpus
from sweepkit.agents.loop import Agent, AgentReport
from sweepkit.agents.messages import start_line
from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState
from sweepkit.service.types import Claim

#: Why a function cannot run in parallel slots, and what to do instead.
FUNCTION_RUNS_ONE_AT_A_TIME = (
    "parallel runs (--gpus, --parallel) need program mode: a function run is handed its run through "
    "module globals, so one process runs one function run at a time; start one agent process per GPU "
    "(each with its own CUDA_VISIBLE_DEVICES) or give the sweep a program"
)


@dataclass(frozen=True)
class Slot:
    """Where one run at a time executes: its number, its GPUs, and whether other slots print beside it."""

    number: int
    gpus: tuple[str, ...] = ()
    #: Runs of other slots print to the same console: this slot's output lines carry its run's id.
    side_by_side: bool = False

    @property
    def env(self) -> dict[str, str]:
        """What the slot adds to its runs' environment: its GPUs, numbered as nvidia-smi numbers them."""
        if not self.gpus:
            return {}
        order = os.environ.get(env.CUDA_DEVICE_ORDER) or "PCI_BUS_ID"
        return {env.CUDA_VISIBLE_DEVICES: ",".join(self.gpus), env.CUDA_DEVICE_ORDER: order}

    @property
    def where(self) -> str:
        return f"GPU {','.join(self.gpus)}" if self.gpus else f"slot {self.number}"


def plan_slots(
    *,
    gpus: str | None = None,
    gpus_per_run: int | None = None,
    parallel: int | None = None,
    say: Callable[[str], None] = lambda message: None,
) -> list[Slot]:
    """The slots for ``--gpus`` (``all`` or indices) in groups of ``--gpus-per-run``, or ``--parallel``
    slots without GPUs."""
    if gpus is not None and parallel is not None:
        raise SweepkitError("give --gpus (one run per GPU group) or --parallel (runs on CPUs), not both")
    if gpus_per_run is not None and gpus is None:
        raise SweepkitError("--gpus-per-run needs --gpus (all, or GPU indices like 0,1,2,3)")
    if gpus is not None:
        chosen = parse_gpus(gpus)
        per_run = gpus_per_run or 1
        groups, left = gpu_groups(chosen, per_run)
        if left:
            say(
                f"GPU {','.join(left)} stay{'s' if len(left) == 1 else ''} unused: {len(chosen)} GPUs "
                f"make {len(groups)} group{'s' if len(groups) != 1 else ''} of {per_run}"
            )
        return [Slot(k, tuple(group), len(groups) > 1) for k, group in enumerate(groups, start=1)]
    if parallel is None or parallel < 1:
        raise SweepkitError(f"--parallel: expected 1 or more runs at once, got {parallel}")
    return [Slot(k, (), parallel > 1) for k in range(1, parallel + 1)]


class SlotAgent(Agent):
    """An agent that runs up to one run per slot at once (see the module docstring)."""

    def __init__(
        self,
        service: Any,
        sweep_id: str,
        *,
        gpus: str | None = None,
        gpus_per_run: int | None = None,
        parallel: int | None = None,
        **options: Any,
    ) -> None:
        """``gpus``, ``gpus_per_run`` and ``parallel`` as ``plan_slots`` takes them; the rest as ``Agent``."""
        if options.get("function") is not None:
            raise SweepkitError(FUNCTION_RUNS_ONE_AT_A_TIME)
        notes: list[str] = []
        self.slots = plan_slots(gpus=gpus, gpus_per_run=gpus_per_run, parallel=parallel, say=notes.append)
        super().__init__(service, sweep_id, **options)
        for note in notes:
            self.say(note)
        say, said = self.say, threading.Lock()

        def say_whole_lines(message: str) -> None:
            with said:
                say(message)

        self.say = say_whole_lines
        self._lock = threading.Lock()  # guards everything below
        self._claims = 0  # claims made or on their way (--count counts them)
        self._running = 0  # slots executing a run
        self._failures: list[float] = []
        self._successes = 0
        self._ended: str | None = None  # the sweep hands out nothing more: why
        self._gave_up: str | None = None  # the failure policy's verdict
        self._announced_pause = False
        self._error: BaseException | None = None  # what ended a slot unexpectedly

    def _run_runs(self, agent_id: str, report: AgentReport) -> None:
        """Run every slot's loop in a thread of its own until none starts another run."""
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=self._slot_loop,
                args=(slot, agent_id, report, started),
                name=f"sweepkit-slot-{slot.number}",
                daemon=True,
            )
            for slot in self.slots
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()  # the signal handlers still run meanwhile
        if self.fatal is not None:
            raise self.fatal
        if self._error is not None:
            raise self._error
        report.gave_up = self._gave_up is not None
        report.reason = self.interrupted or self._gave_up or self._ended or self._count_reason() or ""

    # -- one slot ------------------------------------------------------------------------------------
    def _slot_loop(self, slot: Slot, agent_id: str, report: AgentReport, started: float) -> None:
        try:
            while True:
                assignment = self._next_assignment(agent_id)
                if assignment is None:
                    return
                self.say(start_line(assignment, where=slot.where))
                try:
                    state = self._execute(assignment, slot)
                finally:
                    with self._lock:
                        self._running -= 1
                self._ended_run(assignment.run_id, state, report, started)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread, which raises it
            with self._lock:
                if exc is not self.fatal and self._error is None:
                    self._error = exc
            if exc is not self.fatal and not self.interrupted:
                self.interrupted = f"the agent must stop: {exc}"  # the other slots stop their runs

    def _next_assignment(self, agent_id: str) -> Any:
        """The slot's next run, or None when the agent starts no more runs."""
        while True:
            with self._lock:
                if self._no_more_runs():
                    return None
                self._claims += 1
            claim = None
            try:
                claim = self.service.claim_run(self.sweep.id, agent_id, uuid.uuid4().hex)
            finally:
                with self._lock:
                    if claim is not None and claim.status == Claim.CLAIMED:
                        self._running += 1
                        self._announced_pause = False
                    else:
                        self._claims -= 1
            if claim.status == Claim.CLAIMED:
                return claim.assignment
            if claim.status != "paused":
                with self._lock:
                    if self._ended is None:
                        self._ended = f"sweep {self.sweep.id} is {claim.status}" + (
                            f": {claim.reason}" if claim.reason else ""
                        )
                return None
            with self._lock:
                announce, self._announced_pause = not self._announced_pause, True
            if announce:
                self.say(f"sweep {self.sweep.id} is paused; waiting for resume")
            self._sleep(self.poll_s)

    def _no_more_runs(self) -> bool:
        """Whether no slot may start another run (the caller holds the lock)."""
        return bool(
            self.fatal is not None
            or self._error is not None
            or self.interrupted
            or self._gave_up
            or self._ended
            or self._count_reason()
        )

    def _count_reason(self) -> str | None:
        if self.count is not None and self._claims >= self.count:
            return f"ran {self.count} run{'s' if self.count != 1 else ''} (--count)"
        return None

    def _ended_run(self, run_id: str, state: RunState, report: AgentReport, started: float) -> None:
        """Record how a slot's run ended, and apply the failure policy."""
        with self._lock:
            report.runs[run_id] = state
            if state == RunState.FINISHED:
                self._successes += 1
            if state != RunState.FAILED or self._gave_up:
                return
            self._failures.append(time.monotonic())
            self._gave_up = self.policy.verdict(started, self._failures, self._successes)
            running = self._running
        if self._gave_up and running:
            self.say(
                f"agent starts no new run and gives up once its {running} running "
                f"run{'s' if running != 1 else ''} end: {self._gave_up}"
            )
