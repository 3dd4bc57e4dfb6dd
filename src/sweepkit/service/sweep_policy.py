"""A stored sweep's policy: its config and space, what they mean, and the decisions the service takes
with them.

``SweepPolicy`` answers, for the local service inside its transactions: what the sweep means (its
``SweepPlan``: objectives, stopping rule, parameters — decided here once and handed to clients),
which parameters come next (``run_cap``, the objective's target, then the search method), which runs
to stop and each band's threshold (the stopping rule), which metric iterations a run's aggregates
keep, a run's value for each objective, and how a claimed run becomes an ``Assignment``.
Pure apart from the config it holds: no store, no I/O.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from sweepkit import env
from sweepkit.command_template import CommandError, display_line, render_parts, uses_args_json_file
from sweepkit.runs import ACTIVE_STATES, MetricStats, Objective, RunState, RunView, is_metric_value
from sweepkit.runs.objective import targets_reached, values_of
from sweepkit.search.base import Finished, Suggestion
from sweepkit.search.sweep_runs import Digest, SweepRuns
from sweepkit.service.types import BandThreshold, Condition, Parameter, StoppingRule, SweepPlan
from sweepkit.stopping import StopDecision, band_iterations
from sweepkit.values import nonfinite_text

if TYPE_CHECKING:
    import numpy as np

#: Bands a plan lists for clients (charts): those up to this iteration.
SHOWN_BANDS_UP_TO = 10_000


class SweepPolicy:
    """The config and search space of one sweep (rebuilt when its config changes).

    ``config`` is the stored one: validated and filled in when the sweep was created or updated
    (the service's one validation), so it is taken as it is, not validated again (a config that an
    older sweepkit stored without filling it in is validated here, once per process).
    """

    def __init__(self, config: Mapping[str, Any], source: str):
        from sweepkit.space import SearchSpace, SpaceError
        from sweepkit.sweep_config import SweepConfig, load_config

        data = dict(config)
        self.config = SweepConfig(source, data, data, [])
        try:
            self.space = SearchSpace.from_config(self.config)
        except SpaceError:  # a config stored by an older sweepkit, not filled in: validate it now
            self.config = load_config(data, filename=source)
            self.space = SearchSpace.from_config(self.config)
        metrics = self.config.metrics
        #: What the sweep optimises: W&B's ``metric`` is the one objective, ``metrics`` several.
        self.objectives: list[Objective] = [Objective(m.name, m.goal, m.target) for m in metrics]
        #: The first objective's metric: the one hyperband judges and agents check a run logged.
        self.metric_name: str | None = metrics[0].name if metrics else None
        metric = metrics[0] if metrics else None
        self.bands: frozenset[int] = (
            band_iterations(self.config.early_terminate) if metric is not None else frozenset()
        )
        self.plan = self._plan()
        #: The sweep's runs as its search method digested them, kept from claim to claim by the
        #: service (``sweepkit.search.sweep_runs``); None until a claim builds them.
        self.kept_runs: SweepRuns | None = None
        #: The ``change_seq`` of the newest snapshot of ``kept_runs`` known to be in the store.
        self.saved_seq: int | None = None
        #: Names the config and the format of a saved snapshot of the runs (``digest_key``).
        self.digest_key = digest_key(config)
        #: The suggestion computed ahead that claims asked for meanwhile may share (``prepare_next``).
        self._prepared: _Shared | None = None

    # --- what the sweep means -------------------------------------------------------------------------

    def _plan(self) -> SweepPlan:
        return SweepPlan(
            method=self.config.method,
            objectives=list(self.objectives),
            stopping=self._stopping(),
            parameters=[_parameter(param) for param in self.space],
            run_cap=self.config.run_cap,
        )

    def _stopping(self) -> StoppingRule | None:
        section = self.config.early_terminate
        if not section or not self.objectives or section.get("type", "hyperband") != "hyperband":
            return None
        from sweepkit.stopping.hyperband import bands

        return StoppingRule(
            kind="hyperband",
            objective=self.objectives[0].name,
            bands=bands(section, up_to=SHOWN_BANDS_UP_TO),
            eta=float(section.get("eta", 3)),
            strict=bool(section.get("strict", True)),
        )

    def objective_values(self, stats: MetricStats) -> dict[str, float | None]:
        """A run's value for each objective, from its aggregates of the sweep's metrics."""
        names = [objective.name for objective in self.objectives]
        return dict(zip(names, values_of(self.objectives, stats), strict=True))

    def with_other_objectives(
        self, stats: MetricStats, rows: Sequence[Mapping[str, Any]], summary: Mapping[str, Any]
    ) -> MetricStats:
        """``stats`` with the values of the objectives after the first in ``rows`` and ``summary``."""
        names = [objective.name for objective in self.objectives[1:]]
        return stats.add_others(rows, summary, names) if names else stats

    def no_value_reason(self, stats: MetricStats, summary: Mapping[str, Any]) -> str | None:
        """Why a run that ended has no value of the sweep's metric (W&B's imputation rules still place
        it in the search), or None when it has one (or the sweep has no metric)."""
        if self.metric_name is None or any(v is not None for v in self.objective_values(stats).values()):
            return None
        name = self.metric_name
        if name not in summary:
            return f"no value of the sweep's metric {name!r}: the run never logged it"
        last = summary[name]
        shown = nonfinite_text(last) if isinstance(last, float) else repr(last)[:60]
        return (
            f"no usable value of the sweep's metric {name!r}: every value it logged was NaN, an "
            f"infinity or not a number (the last: {shown})"
        )

    def thresholds(
        self, runs: Sequence[RunView], ended: Mapping[int, Sequence[float]] | None = None
    ) -> list[BandThreshold]:
        """Each band's threshold now, from the runs' values at the bands (none without a rule), and
        those of the runs ``ended`` keeps (``sweepkit.stopping.band_values``; then not in ``runs``)."""
        section = self.config.early_terminate
        if self.plan.stopping is None or section is None:
            return []
        from sweepkit.stopping.hyperband import thresholds

        found = thresholds(section, self.objectives[0].goal, runs, ended=ended)
        return [BandThreshold(band, value, count) for band, (value, count) in sorted(found.items())]

    def command_line(self, params: Mapping[str, Any]) -> str | None:
        """A run's command as its agent was told to run it, as one line (the macros only the agent's
        machine can fill left as written); None when it cannot be rendered for these parameters."""
        try:
            parts = render_parts(self.config.command, self.values(params), program=self.config.program)
        except (CommandError, ValueError, KeyError, TypeError):
            return None
        return display_line(parts)

    def planned_runs(self, run_count: int, extra: int, views: Callable[[], Sequence[RunView]]) -> int | None:
        """How many runs the sweep will have when its method is done (None: open-ended).

        ``run_count`` runs so far, ``extra`` of them not the method's (retries, queued and imported
        runs: they do not count against ``run_cap``). A grid ends when every point is used, whoever
        used it: an imported or queued run at a new point spares the grid that point, a retry does
        not, so with extra runs the grid's share is read from ``views()`` (the sweep's runs)."""
        cap = self.config.run_cap
        if self.config.engine == "user":  # a user scheduler's runs are all queued, within run_cap
            return cap
        method_left = None if cap is None else max(0, cap - (run_count - extra))
        if self.config.method == "grid":
            from sweepkit.search.grid import grid_size, points_used

            size = grid_size(self.space)
            if not extra:  # the method's runs only: each a new point
                return size if cap is None else min(cap, size)
            points_left = max(0, size - points_used(self.space, views()))
            return run_count + (points_left if method_left is None else min(method_left, points_left))
        return None if method_left is None else run_count + method_left

    # --- claims --------------------------------------------------------------------------------------

    def rng(self, n_runs: int) -> random.Random:
        seed = self.config.seed
        if seed is None:
            return random.Random()
        return random.Random(f"sweepkit:{seed}:{n_runs}")

    @property
    def reads_runs(self) -> bool:
        """Whether a claim looks at the sweep's runs (a random search without a target does not)."""
        targets = any(objective.target is not None for objective in self.objectives)
        if self.config.engine == "user":
            return targets
        return self.config.method != "random" or targets

    @property
    def prepares(self) -> bool:
        """Whether a claim computes its suggestion before the sweep's lock (bayes): other methods'
        suggestions are cheap, made under the lock from what the policy keeps."""
        if self.config.engine == "user":
            return False
        from sweepkit.search import prepares

        return prepares(self.config)

    def new_runs(self) -> SweepRuns:
        """An empty ``SweepRuns`` with the digests this sweep's claims need."""
        from sweepkit.search import SweepRuns, digests

        kept = {} if self.config.engine == "user" else digests(self.config, self.space)
        if any(objective.target is not None for objective in self.objectives):
            kept[_REACHED] = _Reached(self.objectives)
        if self.stops_runs:
            from sweepkit.stopping.band_values import BAND_VALUES, BandValues

            kept[BAND_VALUES] = BandValues(self.bands, self.objectives[0].goal)
        return SweepRuns(kept)

    def prepare_next(self, run_count: int, runs: SweepRuns, asked_at: float | None = None) -> Any | None:
        """The next run's suggestion computed ahead, before the sweep's lock, for ``next_run`` to
        check under it (``sweepkit.search.prepare``); None when there is none to compute ahead.

        Claims asked for (``asked_at``, ``time.monotonic()``) while another claim's suggestion was
        being computed, with no run ended since (agents asking at once through one service, as
        through ``sweepkit server``), share that suggestion, up to :data:`SHARED_CLAIMS` claims:
        the check under the lock scores its candidates again, away from the runs claimed since
        (``bayes.complete``), so each gets its own point for a millisecond instead of waiting for
        one model fit after another. A claim asked for later computes its own. Called with
        ``runs.lock`` held."""
        if not isinstance(self.next_run(run_count, runs, decide_only=True), Suggestion):
            return None
        from sweepkit.search import prepare

        key = _results_key(runs)
        shared = self._prepared
        if (
            shared is not None
            and asked_at is not None
            and asked_at < shared.made_at
            and shared.key == key
            and shared.claims < SHARED_CLAIMS
        ):
            shared.claims += 1
            return shared.prepared
        prepared = prepare(self.config, self.space, runs, self.rng(run_count))
        checkable = getattr(prepared, "model", None) is not None
        self._prepared = _Shared(key, prepared, time.monotonic()) if checkable else None
        return prepared

    def next_run(
        self,
        run_count: int,
        runs: Sequence[RunView] | SweepRuns,
        *,
        prepared: Any | None = None,
        decide_only: bool = False,
    ) -> Suggestion | Finished | None:
        """The next run's parameters; ``runs`` may load lazily, so look at them only when needed. None
        when the user's scheduler process proposes the runs (``scheduler.source``) and the cap and
        targets leave room: the runs it queued are all there is. ``prepared``: what ``prepare_next``
        computed ahead (checked against ``runs``). With ``decide_only``, an empty ``Suggestion`` when
        the method is to suggest one (no suggestion is computed)."""
        cfg = self.config
        if cfg.run_cap is not None and run_count >= cfg.run_cap:
            return Finished(f"run_cap {cfg.run_cap} reached")
        if any(objective.target is not None for objective in self.objectives):
            reached = (
                runs.digests[_REACHED] if isinstance(runs, SweepRuns) else _Reached(self.objectives, runs)
            )
            first = reached.first()
            if first is not None:
                run_id, found = first
                return Finished(_targets_reason(self.objectives, found, run_id))
        if cfg.engine == "user":
            return None
        if decide_only:
            return Suggestion({}, {})
        if prepared is not None and isinstance(runs, SweepRuns):
            from sweepkit.search import complete

            done = complete(cfg, prepared, runs)
            if done is not None:
                return done
        from sweepkit.search import next_run

        return next_run(cfg, self.space, runs, self.rng(run_count))

    def values(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """A run's parameters as its program sees them: nested groups as nested dicts."""
        return self.space.unflatten(dict(params))

    def assignment_fields(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """The parts of an ``Assignment`` that come from the sweep's config."""
        values = self.values(params)
        command, error = None, None
        try:
            command = render_parts(self.config.command, values, program=self.config.program)
        except CommandError as err:
            error = str(err)
        return {
            "config": values,
            "command": command,
            "command_error": error,
            "needs_args_json_file": uses_args_json_file(self.config.command),
            "metric_name": self.metric_name,
        }

    # --- logging ---------------------------------------------------------------------------------------

    @property
    def stops_runs(self) -> bool:
        return bool(self.bands)

    def metric_values(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        if self.metric_name is None:
            return []
        name = self.metric_name
        return [row[name] for row in rows if name in row and is_metric_value(row[name])]

    def crosses_band(self, stats: MetricStats, new_values: int) -> bool:
        """Whether ``new_values`` more values take a run with ``stats`` into a new band."""
        return bool(self.crossed_bands(stats, new_values))

    def crossed_bands(self, stats: MetricStats, new_values: int) -> list[int]:
        """The bands that ``new_values`` more values take a run with ``stats`` into, ascending.

        Only these bands' thresholds change, so only the runs whose latest band is one of them can
        be condemned now: the stopping rule judges each with the runs that reached it.
        """
        return sorted(band for band in self.bands if stats.count < band <= stats.count + new_values)

    def stop_runs(
        self, runs: Sequence[RunView], ended: Mapping[int, Sequence[float]] | None = None
    ) -> list[StopDecision]:
        """The running runs among ``runs`` to stop now; ``ended``: the values at the bands of the
        sweep's runs that ended for good (``sweepkit.stopping.band_values``), then not in ``runs``."""
        from sweepkit.stopping import stop_runs

        return stop_runs(self.config, runs, ended=ended)


#: Changes whenever what a ``SweepRuns`` keeps, or how it is saved, changes meaning.
DIGEST_FORMAT = "sweep-runs/2"


#: How many claims may share one suggestion computed ahead (``SweepPolicy.prepare_next``).
SHARED_CLAIMS = 4


@dataclass
class _Shared:
    """A suggestion computed ahead (``SweepPolicy.prepare_next``), what the runs had told then
    (``_results_key``), when it was ready, and how many claims took it."""

    key: tuple
    prepared: Any
    made_at: float
    claims: int = 1


def _results_key(runs: SweepRuns) -> tuple:
    """What the runs have told so far: the same while only new runs were claimed (the runs kept,
    the ended runs they are up to date with, the live runs that are not active, e.g. crashed: a
    preempted run has ended for good and is never live)."""
    told = frozenset((view.id, view.state) for view in runs.live if view.state not in ACTIVE_STATES)
    return id(runs), runs.change_seq, told


def digest_key(config: Mapping[str, Any]) -> str:
    """The key a saved snapshot of a sweep's runs is stored with: its config, sweepkit's version and
    the format (a snapshot made for another config or by another version is never used)."""
    import hashlib
    import json

    from sweepkit.version import __version__

    text = json.dumps([DIGEST_FORMAT, __version__, config], sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()


#: The key of the digest of the runs that reached every target.
_REACHED = "metric.target"


class _Reached(Digest):
    """The finished runs whose values meet every target of the sweep's objectives (the first ends
    the sweep)."""

    def __init__(self, objectives: Sequence[Objective], runs: Sequence[RunView] = ()) -> None:
        self.objectives = list(objectives)
        self._found: dict[str, tuple[int, list[float | None]]] = {}
        self.update([replace(view, number=i) for i, view in enumerate(runs)], [])

    def update(self, added: list[RunView], removed: list[str]) -> None:
        for run_id in [*removed, *(view.id for view in added)]:
            self._found.pop(run_id, None)
        for view in added:
            if view.state != RunState.FINISHED:
                continue
            found = values_of(self.objectives, view.metric)
            if targets_reached(self.objectives, found):
                self._found[view.id] = (view.number or 0, found)

    def state(self) -> dict[str, np.ndarray]:
        import numpy as np

        ids = sorted(self._found)
        values = [[np.nan if v is None else v for v in self._found[i][1]] for i in ids]
        return {
            "ids": np.array(ids, dtype=str),
            "numbers": np.array([self._found[i][0] for i in ids], dtype=np.int64),
            "values": np.array(values, dtype=float).reshape(len(ids), len(self.objectives)),
        }

    def restore(self, arrays: Mapping[str, np.ndarray]) -> None:
        self._found = {
            run_id: (number, [None if v != v else v for v in values])
            for run_id, number, values in zip(
                arrays["ids"].tolist(), arrays["numbers"].tolist(), arrays["values"].tolist(), strict=True
            )
        }

    def first(self) -> tuple[str, list[float | None]] | None:
        """(id, values) of the first run by number that met every target, or None."""
        if not self._found:
            return None
        run_id = min(self._found, key=lambda key: (self._found[key][0], key))
        return run_id, self._found[run_id][1]


def _targets_reason(objectives: Sequence[Objective], values: Sequence[float | None], run_id: str) -> str:
    aimed = [(o, v) for o, v in zip(objectives, values, strict=True) if o.target is not None]
    if len(objectives) == 1:
        ((objective, value),) = aimed
        return f"metric.target {objective.target:g} reached by run {run_id} ({objective.name}={value:g})"
    said = ", ".join(f"{o.name}={v:g} (target {o.target:g})" for o, v in aimed)
    return f"every target of metrics reached by run {run_id}: {said}"


def run_env(sweep_id: str, run_id: str, project: str | None, entity: str | None) -> dict[str, str]:
    """The environment a run gets from its sweep: W&B's names and sweepkit's (never a secret)."""
    out = {
        env.SWEEP_ID: sweep_id,
        env.RUN_ID: run_id,
        env.WANDB_SWEEP_ID: sweep_id,
        env.WANDB_RUN_ID: run_id,
    }
    if project:
        out[env.WANDB_PROJECT] = project
    if entity:
        out[env.WANDB_ENTITY] = entity
    return out


def _finite(x: float | None) -> float | None:
    return x if x is not None and x - x == 0 else None


def _parameter(param: Any) -> Parameter:
    """One parameter of the space as the plan lists it."""
    when = [
        Condition(c.parent, list(c.values))
        if c.values is not None
        else Condition(c.parent, low=_finite(c.low), high=_finite(c.high))
        for c in param.conditions
    ]
    if param.is_constant:
        return Parameter(param.name, "constant", values=param.values, when=when)
    if param.is_categorical:
        return Parameter(param.name, "category", values=param.values, when=when)
    low, high = param.bounds or (None, None)
    return Parameter(
        param.name,
        "number",
        log=param.is_log_scaled,
        integer=param.is_integer,
        low=_finite(low),
        high=_finite(high),
        when=when,
    )
