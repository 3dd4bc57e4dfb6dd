"""``scheduler: {engine: ax}`` (with ``method: custom``): Ax's service API (its ``Client``) proposes
the runs, on the service side, with one metric or several (``metrics:``).

No state outlives a suggestion, as for the Optuna engine: each one builds an Ax experiment from the
stored runs and asks Ax's generation strategy (a centre point and Sobol points, then BoTorch's
model-based node: a GP with log noisy expected improvement for one metric, log noisy expected
hypervolume improvement for several) for one trial. Finished runs with a value for every metric are
completed trials; failed, crashed and killed runs, and finished runs missing a value, failed trials;
runs still pending or running are running trials, which Ax hands its acquisition as pending points.
``scheduler.settings.seed`` seeds it (with the number of runs so far, so a rebuilt experiment does not
draw the same point again) and ``scheduler.settings.n_startup_trials`` is Ax's initialisation budget
(default 5); a sweep whose initial runs are still running gets more Sobol runs rather than waiting.

Parameters reach Ax in their own terms where Ax has them: ``int_uniform`` as an integer range,
``uniform`` as a float range, the log-uniform kinds as a log-scaled range over their bounds, a
categorical as the index of its value (ordered when its values are increasing numbers); every other
kind (quantised, normal, beta) as its unit-interval coordinate (``Param.to_unit``/``from_unit``), so
each keeps exactly sweepkit's meaning. Ax's names are ``p0, p1, ...`` and ``m0, m1, ...`` (Ax parses
its objective from a string, where a W&B metric name such as ``val/loss`` would not survive). Ax is
the ``ax`` extra (``ax-platform``, which brings BoTorch and torch).
"""

from __future__ import annotations

import logging
import math
import random
import warnings
from collections.abc import Sequence
from typing import Any

from sweepkit.runs import ACTIVE_STATES, UNSUCCESSFUL_STATES, Objective, RunState, RunView
from sweepkit.runs.objective import values_of
from sweepkit.search.base import Suggestion
from sweepkit.search.sweep_runs import ENDED_VIEWS, EndedViews, every_run

#: Runs whose result is still to come: running trials for Ax.
PENDING_STATES = ACTIVE_STATES | {RunState.PREEMPTED}
#: The kinds Ax gets as a log-scaled float range over the parameter's bounds.
LOG_RANGE_KINDS = ("log_uniform_values", "log_uniform", "inv_log_uniform_values", "inv_log_uniform")
MISSING = "scheduler.engine ax needs the package ax-platform where the sweep runs: pip install 'sweepkit[ax]'"


#: The Ax module that logs a line at INFO when it is imported (Ax's storage, which sweepkit does not use).
IMPORT_LOGGER = "ax.storage.sqa_store.with_db_settings_base"


def _ax() -> Any:
    quiet = logging.getLogger(IMPORT_LOGGER)
    was, quiet.disabled = quiet.disabled, True
    try:
        import ax
        from ax.utils.common.logger import set_stderr_log_level
    except ImportError:
        raise RuntimeError(MISSING) from None
    finally:
        quiet.disabled = was
    set_stderr_log_level(logging.ERROR)  # Ax logs every trial it makes at INFO
    return ax


class _Dim:
    """How one parameter of the space is handed to Ax and read back."""

    def __init__(self, ax: Any, param: Any, name: str) -> None:
        self.param, self.name = param, name
        self.how = "unit"
        if param.is_categorical:
            values = param.values
            self.how = "index"
            numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
            ordered = numbers and all(values[i] < values[i + 1] for i in range(len(values) - 1))
            self.config = ax.ChoiceParameterConfig(
                name, list(range(len(values))), "int", is_ordered=ordered or len(values) == 2
            )
        elif param.kind == "int_uniform":
            self.how = "int"
            self.config = ax.RangeParameterConfig(name, tuple(param.bounds), "int")
        elif param.kind == "uniform":
            self.how = "float"
            self.config = ax.RangeParameterConfig(name, tuple(map(float, param.bounds)), "float")
        elif param.kind in LOG_RANGE_KINDS:
            self.how = "float"
            self.config = ax.RangeParameterConfig(
                name, tuple(map(float, param.bounds)), "float", scaling="log"
            )
        else:
            self.config = ax.RangeParameterConfig(name, (0.0, 1.0), "float")

    def absent(self) -> Any:
        """What a run where the parameter is inactive (``when``) tells Ax: the middle of its range."""
        if self.how == "index":
            return 0
        if self.how == "unit":
            return 0.5
        low, high = self.param.bounds
        if self.how == "int":
            return (low + high) // 2
        return math.sqrt(low * high) if self.param.kind in LOG_RANGE_KINDS else (low + high) / 2

    def encode(self, value: Any) -> Any:
        """A run's value as Ax's (ValueError when it is not in the space)."""
        if self.how == "index":
            return self.param.index_of(value)
        if self.how == "unit":
            return float(self.param.to_unit(value))
        low, high = self.param.bounds
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise ValueError(f"{value!r} is outside [{low}, {high}]")
        if self.how == "int":
            if value != int(value):
                raise ValueError(f"{value!r} is not an integer")
            return int(value)
        return float(value)

    def decode(self, value: Any) -> Any:
        if self.how == "index":
            return self.param.values[int(value)]
        if self.how == "unit":
            return self.param.from_unit(float(value))
        if self.how == "int":
            return int(value)
        low, high = self.param.bounds
        return min(max(float(value), low), high)


def _dims(ax: Any, space: Any) -> list[_Dim]:
    """The parameters Ax chooses (a constant, a categorical of one value or a range of one point is
    no choice: it is filled in afterwards)."""
    dims = []
    for param in space:
        if param.is_constant or (param.is_categorical and len(param.values) < 2):
            continue
        bounds = None if param.is_categorical else param.bounds
        if bounds is not None and bounds[0] == bounds[1]:
            continue
        dims.append(_Dim(ax, param, f"p{len(dims)}"))
    return dims


def _objective(objectives: Sequence[Objective]) -> str:
    """Ax's objective string: ``-m0`` minimises ``m0``; several, comma-separated, are a Pareto front."""
    return ", ".join(("" if o.goal == "maximize" else "-") + f"m{i}" for i, o in enumerate(objectives))


def _seed(config: Any, rng: random.Random, n_runs: int) -> int:
    """``settings.seed`` with the number of runs so far (a rebuilt experiment must not draw the same
    initial point again), else a draw of ``rng``."""
    settings = (config.scheduler or {}).get("settings") or {}
    if settings.get("seed") is not None:
        return (settings["seed"] * 1_000_003 + n_runs) % 2**31
    return rng.randrange(2**31)


def digests(config: Any, space: Any) -> dict[str, Any]:
    """The runs that ended for good, kept as they are: the experiment is rebuilt from every run."""
    return {ENDED_VIEWS: EndedViews()}


def _client(
    ax: Any, config: Any, dims: list[_Dim], objectives: list[Objective], seed: int
) -> tuple[Any, Any]:
    """A fresh Ax client for the sweep, and its generation strategy (Ax's default for the space)."""
    from ax.api.utils.generation_strategy_dispatch import choose_generation_strategy
    from ax.api.utils.structs import GenerationStrategyDispatchStruct

    settings = (config.scheduler or {}).get("settings") or {}
    client = ax.Client(random_seed=seed)
    client.configure_experiment(parameters=[d.config for d in dims], name="sweep")
    client.configure_optimization(objective=_objective(objectives))
    strategy = choose_generation_strategy(
        GenerationStrategyDispatchStruct(
            method="fast",
            initialization_budget=settings.get("n_startup_trials"),
            initialization_random_seed=seed,
            # runs still running do not hold the sweep up: more Sobol runs while too few have finished
            allow_exceeding_initialization_budget=True,
        )
    )
    client.set_generation_strategy(strategy)
    return client, strategy


def _tell(client: Any, dims: list[_Dim], objectives: list[Objective], views: Sequence[RunView]) -> int:
    """Every run as a trial of the experiment; how many were told."""
    told = 0
    for view in views:
        try:
            parameters = {
                d.name: d.encode(view.params[d.param.name]) if d.param.name in view.params else d.absent()
                for d in dims
                if d.param.name in view.params or d.param.is_conditional
            }
        except (TypeError, ValueError):  # a run from an older space: not told to Ax
            continue
        if len(parameters) < len(dims):  # a parameter the run never had
            continue
        state = RunState(view.state)
        found = values_of(objectives, view.metric)
        complete = state == RunState.FINISHED and all(v is not None and math.isfinite(v) for v in found)
        if not (
            complete or state in PENDING_STATES or state == RunState.FINISHED or state in UNSUCCESSFUL_STATES
        ):
            continue
        index = client.attach_trial(parameters=parameters)  # the same point twice: one arm, two trials
        if complete:
            client.complete_trial(index, raw_data={f"m{i}": float(v) for i, v in enumerate(found)})
        elif state not in PENDING_STATES:
            client.mark_trial_failed(index)
        told += 1
    return told


def next_run(config: Any, space: Any, runs: Sequence[RunView], rng: random.Random) -> Suggestion:
    """The search-method signature (see ``sweepkit.search.base``): one trial asked of an Ax
    experiment rebuilt from ``runs``."""
    ax = _ax()
    objectives = [Objective(m.name, m.goal) for m in config.metrics]
    dims = _dims(ax, space)
    views = list(every_run(runs))
    out: dict[str, Any] = {}
    info: dict[str, Any] = {"engine": "ax"}
    if dims:
        with warnings.catch_warnings():  # BoTorch warns about fits and scaling as a matter of course
            warnings.simplefilter("ignore")
            client, strategy = _client(ax, config, dims, objectives, _seed(config, rng, len(views)))
            told = _tell(client, dims, objectives, views)
            # A new strategy starts at its first node and moves one node a trial: moved through every
            # node the runs so far have completed (centre point, Sobol) before it is asked.
            strategy.current_generator_run_limit()
            ((_index, chosen),) = client.get_next_trials(max_trials=1).items()
        info.update(node=getattr(strategy, "current_node_name", None), n_trials=told)
        out = {d.param.name: d.decode(chosen[d.name]) for d in dims}
    for param in space:
        if param.name not in out:
            out[param.name] = param.values[0] if param.values is not None else param.from_unit(0.5)
    return Suggestion(space.prune({param.name: out[param.name] for param in space}), info)
