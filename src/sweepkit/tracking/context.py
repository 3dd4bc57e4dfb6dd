"""The run context: which run a training script's module-level calls mean (``init()``, ``log()``,
``config``, ``wandb.run``), handed over explicitly rather than parked in a module global.

A ``RunContext`` holds what one caller of ``init()`` was handed and what it started: the run a
function agent claimed for it (its ``assignment``, and the ``sink`` its reports go to), the runs
``init()`` started in it (W&B's reinit rules look at the active ones) and which of them is
``wandb.run``. A function agent makes a context for each call of the user's function and installs
it for the duration of the call (``RunContext.installed()`` sets a ``contextvars.ContextVar``), so
calls executed side by side in threads never see each other's run. Everywhere else (a script, or a
program run an agent started, which finds its run through ``SWEEPKIT_RUN_FILE``) the process's own
context applies, as W&B's module-level run does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sweepkit.tracking.reinit import StartedRuns


class RunContext:
    """What ``init()`` attaches to and what it started (see the module docstring).

    ``assignment`` is the run a function agent handed over (anything with ``run_id``, ``run_name``,
    ``sweep_id``, ``project``, ``entity`` and ``config``, the sweep's values), and ``sink`` where
    that run's reports go; both are None in the process's own context.
    """

    def __init__(self, assignment: Any = None, sink: Any = None) -> None:
        self.assignment = assignment
        self.sink = sink
        #: The runs ``init()`` started in this context.
        self.runs = StartedRuns()
        self._current: Any = None

    @property
    def run(self) -> Any:
        """``wandb.run``: the run ``init()`` last made current, until it is finished (else None)."""
        run = self._current
        return run if run is not None and not run._finished else None

    def started(self, run: Any, *, current: bool) -> None:
        """Remember a run ``init()`` started; ``current`` makes it ``wandb.run``."""
        self.runs.started(run)
        if current:
            self._current = run

    @contextmanager
    def installed(self) -> Iterator[RunContext]:
        """This context for the calls made inside the ``with`` block, in this thread only."""
        token = _CONTEXT.set(self)
        try:
            yield self
        finally:
            _CONTEXT.reset(token)


#: The context of whatever runs outside a function agent's call: a script, a program run.
PROCESS_CONTEXT = RunContext()
_CONTEXT: ContextVar[RunContext] = ContextVar("sweepkit_run_context", default=PROCESS_CONTEXT)


def run_context() -> RunContext:
    """The context that ``init()``, ``log()``, ``config`` and ``wandb.run`` mean here and now."""
    return _CONTEXT.get()
