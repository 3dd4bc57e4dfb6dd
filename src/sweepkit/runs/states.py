"""Run and sweep states: the one definition of what a run or a sweep can be, and what counts as what."""

from __future__ import annotations

from enum import Enum


class _Word(str, Enum):
    """An enum of words that prints as its word (``str(RunState.FAILED) == "failed"``)."""

    def __str__(self) -> str:
        return self.value


class RunState(_Word):
    PENDING = "pending"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"
    CRASHED = "crashed"
    KILLED = "killed"
    PREEMPTING = "preempting"
    PREEMPTED = "preempted"


#: Runs that occupy a slot now: search methods treat their parameters as pending points.
ACTIVE_STATES = frozenset({RunState.PENDING, RunState.RUNNING, RunState.PREEMPTING})
#: Runs that ended without success: bayes imputes their metric (``metric.impute``).
UNSUCCESSFUL_STATES = frozenset({RunState.FAILED, RunState.CRASHED, RunState.KILLED, RunState.PREEMPTED})
#: Runs that will not change any more.
TERMINAL_STATES = frozenset(
    {RunState.FINISHED, RunState.FAILED, RunState.CRASHED, RunState.KILLED, RunState.PREEMPTED}
)


#: Runs that have ended for good: nothing about them changes any more but a retry or a deletion (a
#: crashed run may still be heard from again; a preempted one resumes as a new run, as in W&B).
ENDED_FOR_GOOD = TERMINAL_STATES - {RunState.CRASHED}


class SweepState(_Word):
    """``stopped``: start nothing new, running runs finish; ``cancelled``: also kill them."""

    RUNNING = "running"
    PAUSED = "paused"
    STOPPED = "stopped"
    CANCELLED = "cancelled"
    FINISHED = "finished"


#: Sweeps that never hand out a run again (``resume`` refuses them).
FINAL_SWEEP_STATES = frozenset({SweepState.FINISHED, SweepState.CANCELLED})


class SweepAction(_Word):
    """What a user can do to a sweep (``sweepkit sweep --pause`` ...)."""

    PAUSE = "pause"
    RESUME = "resume"
    STOP = "stop"
    CANCEL = "cancel"


#: What each action does to a sweep in each state; an action left out would change nothing (stop a
#: stopped sweep) or is refused (pause a finished one).
_ALLOWED = {
    SweepState.RUNNING: (SweepAction.PAUSE, SweepAction.STOP, SweepAction.CANCEL),
    SweepState.PAUSED: (SweepAction.RESUME, SweepAction.STOP, SweepAction.CANCEL),
    SweepState.STOPPED: (SweepAction.RESUME, SweepAction.CANCEL),
    SweepState.FINISHED: (SweepAction.CANCEL,),
    SweepState.CANCELLED: (),
}


def allowed_actions(state: SweepState) -> list[SweepAction]:
    """The actions that change a sweep in ``state`` (the service's rule; the dashboard offers these)."""
    return list(_ALLOWED[SweepState(state)])
