"""Search methods: given the space and the runs so far, the next parameters or "finished".

:func:`next_run` dispatches on the config's ``method`` to the module of that name; each has the same
signature and is a pure function with no I/O. Grid and random import neither numpy nor scipy
(bayes is imported only when a sweep uses it); ``method: custom`` runs the scheduler's engine
(``optuna_engine``, or ``ax_engine`` for ``scheduler: {engine: ax}``). ``config`` is a
``sweepkit.sweep_config.SweepConfig``, typed loosely: the search methods sit below the config layer.
"""

from __future__ import annotations

import importlib
import random
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sweepkit.search.base import Finished, Suggestion
from sweepkit.search.sweep_runs import Digest, SweepRuns

if TYPE_CHECKING:  # pragma: no cover
    from sweepkit.runs import RunView
    from sweepkit.space import SearchSpace

#: method name -> module implementing ``next_run``
METHODS = {
    "grid": "sweepkit.search.grid",
    "random": "sweepkit.search.random_search",
    "bayes": "sweepkit.search.bayes",
    # method: custom: the scheduler's engine (an Optuna sampler; sweep_config's ``engine``)
    "custom": "sweepkit.search.optuna_engine",
}
#: ``method: custom``: the module of each built-in scheduler engine (``SweepConfig.engine``)
ENGINES = {"optuna": "sweepkit.search.optuna_engine", "ax": "sweepkit.search.ax_engine"}

__all__ = [
    "METHODS",
    "Finished",
    "Suggestion",
    "SweepRuns",
    "complete",
    "digests",
    "next_run",
    "prepare",
    "prepares",
]


def _method(config: Any):
    module = METHODS.get(config.method)
    if module is None:
        raise ValueError(f"method: expected one of {', '.join(METHODS)}, got {config.method!r}")
    if config.method == "custom":
        module = ENGINES.get(config.engine, module)
    return importlib.import_module(module)


def next_run(
    config: Any, space: SearchSpace, runs: Sequence[RunView] | SweepRuns, rng: random.Random
) -> Suggestion | Finished:
    """The next run's parameters for the sweep's method (``config.method``), or Finished; ``runs``
    every run of the sweep, or a ``SweepRuns`` holding the method's ``digests``."""
    return _method(config).next_run(config, space, runs, rng)


def digests(config: Any, space: SearchSpace) -> dict[str, Digest]:
    """What the sweep's method keeps of the runs that ended for good (none: it does not look at runs)."""
    make = getattr(_method(config), "digests", None)
    return make(config, space) if make is not None else {}


def prepares(config: Any) -> bool:
    """Whether the sweep's method may compute a suggestion ahead of the sweep's lock (``prepare``)."""
    return hasattr(_method(config), "prepare")


def prepare(config: Any, space: SearchSpace, runs: SweepRuns, rng: random.Random) -> Any | None:
    """A suggestion computed ahead, before the sweep's lock, for ``complete`` to check under it;
    None for a method that does not prepare (its suggestion is cheap, or cannot be checked)."""
    make = getattr(_method(config), "prepare", None)
    return make(config, space, runs, rng) if make is not None else None


def complete(config: Any, prepared: Any, runs: SweepRuns) -> Suggestion | None:
    """The suggestion for ``runs`` from one ``prepare``d before, or None: compute it afresh."""
    return _method(config).complete(prepared, runs)
