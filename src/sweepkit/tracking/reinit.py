"""W&B's rules for ``init()`` called again in one process (its ``reinit`` setting), and the runs a
run context started.

While a run is active, ``init()`` follows ``reinit`` as current W&B does: ``"return_previous"``
(or ``False``) returns the most recent active run; ``"finish_previous"`` (or ``True``) finishes every
active run and starts a new one; ``"create_new"`` starts another run beside them without making it
``wandb.run``; ``"default"`` is ``"finish_previous"`` in a notebook and ``"return_previous"``
elsewhere. With no active run, ``init()`` starts a new run.

Inside an agent, the process (or, for a function agent, the call) was handed one run of the sweep.
W&B would give every further ``init()`` there the same run id and so write into the finished run
again; sweepkit never does: an ``init()`` that would need a second run raises W&B's error type
(``wandb.Error``) with the reason, at the call.
"""

from __future__ import annotations

import sys
from typing import Any

from sweepkit.errors import SweepkitError

RETURN_PREVIOUS = "return_previous"
FINISH_PREVIOUS = "finish_previous"
CREATE_NEW = "create_new"
_MODES = ("default", RETURN_PREVIOUS, FINISH_PREVIOUS, CREATE_NEW)


def mode_of(reinit: Any, settings: Any = None) -> str:
    """The rule an ``init(reinit=..., settings=...)`` call asks for (``reinit`` wins over settings)."""
    value = reinit if reinit is not None else getattr(settings, "reinit", None)
    if value is None or value == "default":
        return FINISH_PREVIOUS if in_notebook() else RETURN_PREVIOUS
    if value is True:
        return FINISH_PREVIOUS
    if value is False:
        return RETURN_PREVIOUS
    if value in _MODES:
        return value
    raise SweepkitError(
        f"init(reinit={value!r}): expected one of {', '.join(map(repr, _MODES))}, True or False"
    )


def in_notebook() -> bool:
    """Whether this process is a Jupyter kernel (where W&B's default finishes the previous run)."""
    ipython = sys.modules.get("IPython")
    get = getattr(ipython, "get_ipython", None)
    shell = get() if callable(get) else None
    return type(shell).__name__ in ("ZMQInteractiveShell", "Shell")  # Jupyter, Colab


class StartedRuns:
    """The runs ``init()`` started in one run context, newest last; finished ones are kept by id only."""

    def __init__(self) -> None:
        self._runs: list[Any] = []
        self._finished: set[str] = set()

    def started(self, run: Any) -> None:
        self._runs.append(run)

    def active(self) -> list[Any]:
        """The runs not finished yet, oldest first."""
        still = []
        for run in self._runs:
            if run._finished:
                self._finished.add(run.id)
            else:
                still.append(run)
        self._runs = still
        return list(still)

    def most_recent_active(self) -> Any:
        active = self.active()
        return active[-1] if active else None

    def was_finished(self, run_id: str) -> bool:
        self.active()
        return run_id in self._finished

    def was_finished_any(self) -> bool:
        self.active()
        return bool(self._finished)


def second_run_refused(run_id: str, sweep_id: str | None, why: str) -> SweepkitError:
    """The error for an ``init()`` inside an agent that would need a second run of the sweep."""
    sweep = f" of sweep {sweep_id}" if sweep_id else ""
    return SweepkitError(
        f"wandb.init(): {why}; the agent handed this process one run (run {run_id}{sweep}) and W&B "
        "would write into that same run again, so start each further run in a process of its own"
    )
