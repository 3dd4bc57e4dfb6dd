"""``scheduler: {engine: optuna}`` (and ``method: custom``): an Optuna sampler proposes the runs, on
the service side, with one metric or several (``metrics:``).

No state outlives a suggestion: each one builds an in-memory study from the stored runs (so a
server restart loses nothing) and asks it for one trial. Finished runs with a value for every
metric are complete trials; failed, crashed and killed runs, and finished runs missing a value, are
failed trials; runs still pending or running are running trials, which TPE (with its constant liar)
and the other samplers keep away from. The sampler is chosen by name in the sweepkit extension key
``scheduler.settings.sampler``: ``tpe`` (default for one metric), ``nsga2`` (default for several),
``cmaes`` (one metric only), ``gp``, ``qmc``, ``random``.

Each parameter is handed to Optuna in the form sweepkit draws it from: a categorical as the index of
its value, any other distribution as its unit-interval coordinate (``Param.to_unit``/``from_unit``),
so log, quantised, normal and integer distributions keep exactly sweepkit's meaning. Optuna is the
``optuna`` extra.

Conditional parameters (``when``) are asked define-by-run, parents first: a suggestion holds only
the parameters its own values make active, and a run is told to the study with the parameters it
has (a trial of Optuna may lack some), so runs on every branch teach the sampler. TPE then models
the parameters that occur together as one group (``group=True``); CMA-ES, the GP and QMC model the
parameters every run has and draw the conditional ones at random (Optuna's own fallback).
"""

from __future__ import annotations

import random
import warnings
from collections.abc import Sequence
from typing import Any

from sweepkit.runs import ACTIVE_STATES, UNSUCCESSFUL_STATES, Objective, RunState, RunView
from sweepkit.runs.objective import values_of
from sweepkit.search.base import Suggestion
from sweepkit.search.sweep_runs import ENDED_VIEWS, EndedViews, every_run

#: Runs whose result is still to come: running trials for the sampler.
PENDING_STATES = ACTIVE_STATES | {RunState.PREEMPTED}
SAMPLERS = ("tpe", "nsga2", "cmaes", "gp", "qmc", "random")


def optuna_module() -> Any:
    """Optuna, quiet (RuntimeError naming the extra when it is not installed)."""
    try:
        import optuna
    except ImportError:
        raise RuntimeError(
            "scheduler.engine optuna needs the package optuna where the sweep runs: pip install 'sweepkit[optuna]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna


def sampler_name(config: Any) -> str:
    """The sampler the sweep runs: ``scheduler.settings.sampler``, else tpe (nsga2 for several metrics)."""
    settings = (config.scheduler or {}).get("settings") or {}
    return settings.get("sampler") or ("nsga2" if len(config.metrics) > 1 else "tpe")


def _sampler(optuna: Any, config: Any, seed: int, n_runs: int, conditional: bool = False) -> Any:
    with warnings.catch_warnings():  # the samplers Optuna calls experimental say so on every build
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return _built_sampler(optuna, config, seed, n_runs, conditional)


def _built_sampler(optuna: Any, config: Any, seed: int, n_runs: int, conditional: bool) -> Any:
    """The sampler of one suggestion: seeded by ``settings.seed`` and the number of runs so far (a
    study rebuilt for each suggestion must not draw the same point again), else by ``seed``."""
    settings = (config.scheduler or {}).get("settings") or {}
    if settings.get("seed") is not None:
        seed = (settings["seed"] * 1_000_003 + n_runs) % 2**32
    name = sampler_name(config)
    startup = settings.get("n_startup_trials")
    samplers = optuna.samplers
    if name == "tpe":
        extra = {} if startup is None else {"n_startup_trials": startup}
        if conditional:  # the parameters that occur together are modelled together
            extra["group"] = True
        return samplers.TPESampler(seed=seed, constant_liar=True, multivariate=True, **extra)
    if name == "nsga2":
        extra = (
            {}
            if settings.get("population_size") is None
            else {"population_size": settings["population_size"]}
        )
        return samplers.NSGAIISampler(seed=seed, **extra)
    # CMA-ES, the GP and QMC model only the parameters every trial has; with conditions they draw the
    # others at random, which is what the sweep asked for, so Optuna is not to warn on every trial.
    quiet = {"warn_independent_sampling": False} if conditional else {}
    if name == "cmaes":
        extra = {} if startup is None else {"n_startup_trials": startup}
        return samplers.CmaEsSampler(seed=seed, **extra, **quiet)
    if name == "gp":
        extra = {} if startup is None else {"n_startup_trials": startup}
        return samplers.GPSampler(seed=seed, **extra, **quiet)
    if name == "qmc":
        return samplers.QMCSampler(seed=seed, scramble=True, **quiet)
    return samplers.RandomSampler(seed=seed)


def distributions_of(optuna: Any, space: Any) -> dict[str, Any]:
    dist = optuna.distributions
    out = {}
    for param in space:
        if param.is_constant:
            continue
        if param.is_categorical:
            out[param.name] = dist.CategoricalDistribution(list(range(len(param.values))))
        else:
            out[param.name] = dist.FloatDistribution(0.0, 1.0)
    return out


def encoded(space: Any, params: Any, names: dict[str, Any]) -> dict[str, Any] | None:
    """A run's parameters as the trial's (None when one is missing or outside the space); a
    conditional parameter the run's values make inactive is left out, not missing."""
    out = {}
    active = space.active(params) if space.conditional else None
    try:
        for param in space:
            if param.name not in names:
                continue
            if active is not None and param.name not in active:
                continue
            value = params[param.name]
            out[param.name] = param.index_of(value) if param.is_categorical else float(param.to_unit(value))
    except (KeyError, TypeError, ValueError):  # a run from an older space: not told to the sampler
        return None
    return out


def ask_point(study: Any, space: Any, distributions: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """One trial asked of ``study`` and its run parameters: every parameter at once without
    conditions, else define-by-run, parents first, only the parameters the values drawn so far make
    active."""
    if not space.conditional:
        trial = study.ask(distributions)
        return trial, {param.name: _decoded(param, trial.params.get(param.name)) for param in space}
    trial = study.ask()
    point: dict[str, Any] = {}
    for param in space.order:
        if not space.is_active(param, point):
            continue
        asked = None
        if param.is_categorical and param.name in distributions:
            asked = trial.suggest_categorical(param.name, list(range(len(param.values))))
        elif param.name in distributions:
            asked = trial.suggest_float(param.name, 0.0, 1.0)
        point[param.name] = _decoded(param, asked)
    return trial, {name: point[name] for name in space.names if name in point}


def _decoded(param: Any, asked: Any) -> Any:
    """The sweep's value of a parameter from the trial's (a constant has none)."""
    if param.is_constant:
        return param.values[0]
    if param.is_categorical:
        return param.values[asked]
    return param.from_unit(asked)


def digests(config: Any, space: Any) -> dict[str, Any]:
    """The runs that ended for good, kept as they are: the study is rebuilt from every run."""
    return {ENDED_VIEWS: EndedViews()}


def study_of(config: Any, space: Any, runs: Sequence[RunView], rng: random.Random) -> Any:
    """The in-memory study a suggestion is asked of: every run told as a trial, with the parameters
    it has."""
    optuna = optuna_module()
    objectives = [Objective(m.name, m.goal) for m in config.metrics]
    distributions = distributions_of(optuna, space)
    study = optuna.create_study(
        directions=[o.goal for o in objectives],
        sampler=_sampler(optuna, config, rng.randrange(2**31), len(runs), space.conditional),
    )
    trial_state = optuna.trial.TrialState
    for view in every_run(runs):
        params = encoded(space, view.params, distributions)
        if params is None:
            continue
        state = RunState(view.state)
        found = values_of(objectives, view.metric)
        if state == RunState.FINISHED and all(v is not None for v in found):
            kwargs: dict[str, Any] = {"values": found, "state": trial_state.COMPLETE}
        elif state in PENDING_STATES:
            kwargs = {"state": trial_state.RUNNING}
        elif state == RunState.FINISHED or state in UNSUCCESSFUL_STATES:
            kwargs = {"state": trial_state.FAIL}
        else:
            continue
        told = {name: distributions[name] for name in params}
        study.add_trial(optuna.trial.create_trial(params=params, distributions=told, **kwargs))
    return study


def next_run(config: Any, space: Any, runs: Sequence[RunView], rng: random.Random) -> Suggestion:
    """The search-method signature (see ``sweepkit.search.base``): one trial asked of a study rebuilt
    from ``runs``."""
    study = study_of(config, space, runs, rng)
    _trial, out = ask_point(study, space, distributions_of(optuna_module(), space))
    info = {"engine": "optuna", "sampler": sampler_name(config), "n_trials": len(study.trials) - 1}
    return Suggestion(out, info)
