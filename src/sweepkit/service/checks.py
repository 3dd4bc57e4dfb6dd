"""Checks of what a caller hands the sweep service, one sentence per problem.

The local service applies them; the HTTP client applies the same ones before sending, so that a bad
call fails with the same error and the same sentence whichever transport is behind the service (JSON
could not even carry some of the problems, such as a row key that is not text).
"""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.runs import UNSUCCESSFUL_STATES, RunState
from sweepkit.service.types import LogBatch
from sweepkit.values import is_step

#: Batch sequence numbers are signed 64-bit integers too.
MAX_SEQ = 2**63 - 1
#: The most slots an agent may report, and GPUs in one slot.
MAX_SLOTS = 1024
MAX_SLOT_GPUS = 64


def check_slots(slots: Any) -> list[list[str]] | None:
    """An agent's slots as ``register_agent`` takes them: for each slot, the names of its GPUs."""
    if slots is None:
        return None
    if not isinstance(slots, (list, tuple)) or not 1 <= len(slots) <= MAX_SLOTS:
        raise SweepkitError(f"slots: expected a list of 1 to {MAX_SLOTS} slots, each a list of GPU names")
    out = []
    for i, gpus in enumerate(slots):
        if (
            not isinstance(gpus, (list, tuple))
            or len(gpus) > MAX_SLOT_GPUS
            or not all(isinstance(g, str) and 0 < len(g) <= 64 and "\x00" not in g for g in gpus)
        ):
            raise SweepkitError(
                f"slots[{i}]: expected a list of at most {MAX_SLOT_GPUS} GPU names (text of 1 to 64 characters)"
            )
        out.append(list(gpus))
    return out


def check_slot(slot: Any) -> int | None:
    """The slot a claim is for: None, or 1 to ``MAX_SLOTS``."""
    if slot is None:
        return None
    if not isinstance(slot, Integral) or isinstance(slot, bool) or not 1 <= slot <= MAX_SLOTS:
        raise SweepkitError(f"slot: expected a slot number from 1 to {MAX_SLOTS}")
    return int(slot)


def check_workdir(workdir: Any) -> str | None:
    """An agent's working directory: None, or an absolute path of at most 4096 characters."""
    if workdir is None:
        return None
    if not isinstance(workdir, str) or not 0 < len(workdir) <= 4096 or "\x00" in workdir:
        raise SweepkitError("workdir: expected the agent's working directory (text of 1 to 4096 characters)")
    return workdir


def check_config(config: Any) -> dict[str, Any]:
    """A sweep config as ``create_sweep`` takes it: a mapping."""
    if not isinstance(config, Mapping):
        raise SweepkitError(f"config: expected a sweep config as a mapping, got {type(config).__name__}")
    return dict(config)


def as_dicts(items: Any) -> list[Any]:
    """``items`` as a list, each mapping in it as a dict (for JSON); the service judges the rest."""
    return [dict(item) if isinstance(item, Mapping) else item for item in items]


def check_points(points: Any) -> list[Any]:
    """The points ``queue_points`` takes: at least one (each judged against the space by the service)."""
    points = as_dicts(points)
    if not points:
        raise SweepkitError("points: expected at least one point to queue")
    return points


#: The most rows one history page holds.
MAX_HISTORY_PAGE = 100_000


def check_history_limit(limit: Any) -> int:
    """How many rows a history page may hold: ``limit`` brought into 1 to ``MAX_HISTORY_PAGE``."""
    return max(1, min(int(limit), MAX_HISTORY_PAGE))


def check_claim_key(claim_key: Any) -> str:
    if not isinstance(claim_key, str) or not 1 <= len(claim_key) <= 64:
        raise SweepkitError("claim_key: expected a text of 1 to 64 characters")
    return claim_key


def check_rows(run_id: str, rows: Any) -> None:
    """Each row a dict with text keys and an integer ``_step`` that fits 64 bits."""
    if not isinstance(rows, list):
        raise SweepkitError(f"run {run_id!r}: expected a list of logged rows, got {type(rows).__name__}")
    for index, row in enumerate(rows):
        problem = row_problem(row)
        if problem is not None:
            raise SweepkitError(f"run {run_id!r}: logged row {index} {problem}")


def row_problem(row: Any) -> str | None:
    """Why ``row`` cannot be logged ("needs an integer '_step' ..."), or None: a dict with text keys
    and an integer ``_step`` that fits 64 bits."""
    # exact types first: a batch holds thousands of plain dicts with int steps and str keys
    if type(row) is not dict and not isinstance(row, Mapping):
        return f"is {type(row).__name__}, not a dict"
    step = row.get("_step")
    if not is_step(step):
        return f"needs an integer '_step' from 0 to 2**63-1, got {step!r}"
    for key in row:
        if type(key) is not str and not isinstance(key, str):
            return f"has a key {key!r} that is not text"
    return None


def check_batch(run_id: str, batch: LogBatch) -> None:
    """The batch's rows (``check_rows``) and its sequence number."""
    check_rows(run_id, batch.rows)
    seq = batch.seq
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise SweepkitError(f"run {run_id!r}: a log batch needs a sequence number from 1 to 2**63-1")


def checked_batch(run_id: str, batch: LogBatch) -> list[dict[str, Any]]:
    """The batch checked (``check_batch``), its rows sorted by step; rows of one step are merged in the
    order given."""
    check_batch(run_id, batch)
    by_step: dict[int, dict[str, Any]] = {}
    for row in batch.rows:
        step = int(row["_step"])
        if step in by_step:
            by_step[step] = {**by_step[step], **row, "_step": step}
        else:
            by_step[step] = {**row, "_step": step}
    steps = list(by_step)
    if all(steps[i] < steps[i + 1] for i in range(len(steps) - 1)):  # already in order: the usual case
        return list(by_step.values())
    return [by_step[step] for step in sorted(steps)]


#: What ``retry_runs`` retries when no states are named.
DEFAULT_RETRY_STATES = (RunState.FAILED, RunState.CRASHED, RunState.KILLED)


def check_retry_states(states: Any) -> tuple[RunState, ...]:
    """The states ``retry_runs`` may retry: unsuccessful ones only (default failed, crashed, killed)."""
    if states is None:
        return DEFAULT_RETRY_STATES
    allowed = ", ".join(sorted(s.value for s in UNSUCCESSFUL_STATES))
    out = []
    for item in [states] if isinstance(states, str) else list(states):
        try:
            state = RunState(item)
        except ValueError:
            state = None
        if state not in UNSUCCESSFUL_STATES:
            raise SweepkitError(f"states: expected some of {allowed}; got {str(item)!r}")
        out.append(state)
    if not out:
        raise SweepkitError(f"states: expected some of {allowed}; got none")
    return tuple(out)
