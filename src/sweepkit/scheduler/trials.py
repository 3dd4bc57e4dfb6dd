"""An Optuna study kept in step with a sweep's runs, in the scheduler process.

Each run of the sweep is one trial. A run the process has not seen (every run when it starts again,
runs queued by ``sweepkit sweep --add``, retries) becomes a trial with its parameters: the user's
``search_space`` is replayed on an ``optuna.trial.FixedTrial`` holding them to learn their
distributions (or, for a config's ``parameters``, each is a categorical's index or a distribution's
unit-interval coordinate, as in ``sweepkit.search.optuna_engine``). A run still to come is a running
trial; a run that ended is told to the study (Optuna's semantics): finished with a value of every
metric, complete; stopped by the sweep's stopping rule, pruned; failed, crashed, killed, or finished
without every value, failed. So a restarted process rebuilds the same study from the runs alone.
"""

from __future__ import annotations

import json
import random
import warnings
from collections.abc import Sequence
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.runs import RunState
from sweepkit.scheduler.user_code import UserCode, user_error
from sweepkit.values import json_safe

#: How often ``Trials.ask`` asks the sampler for parameters no known run has.
ASK_TRIES = 20
#: Runs whose result is still to come (a preempted run is handed out again).
OPEN_STATES = frozenset({RunState.PENDING, RunState.RUNNING, RunState.PREEMPTING, RunState.PREEMPTED})


def optuna_module() -> Any:
    from sweepkit.search.optuna_engine import optuna_module as engine_optuna

    try:
        return engine_optuna()
    except RuntimeError:
        raise SweepkitError(
            "sweepkit scheduler needs the package optuna: pip install 'sweepkit[optuna]'"
        ) from None


class Trials:
    """The study and which trial each run is (see the module docstring)."""

    def __init__(self, config: Any, space: Any, code: UserCode, *, seed_offset: int = 0) -> None:
        self.optuna = optuna = optuna_module()
        self.config = config
        self.space = space
        self.code = code
        self.objectives = [(m.name, m.goal) for m in config.metrics]
        if not self.objectives:
            raise SweepkitError(
                "metric: the scheduler's study learns from the sweep's metric, and this sweep has none: "
                "update its config with metric: {name: ..., goal: ...} (or metrics:)"
            )
        self.study = optuna.create_study(
            directions=[goal for _, goal in self.objectives], sampler=self._sampler(seed_offset)
        )
        #: run id -> trial number, for runs whose result is still to come.
        self.open: dict[str, int] = {}
        #: Every run the study knows.
        self.known: set[str] = set()
        #: The parameters of each run the study knows (as JSON text) -> its trial's number.
        self.seen: dict[str, int] = {}
        self._fixed = None if code.search_space is not None else _unit_distributions(optuna, space)

    # --- the sampler ----------------------------------------------------------------------------------

    def _sampler(self, seed_offset: int) -> Any:
        optuna = self.optuna
        if self.code.optimizer is not None:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
                    built = self.code.optimizer()
            except Exception as err:  # noqa: BLE001 - the user's code
                raise user_error("optimizer", self.code, err) from None
            if isinstance(built, optuna.Study):
                built = built.sampler
            if not isinstance(built, optuna.samplers.BaseSampler):
                raise SweepkitError(
                    f"scheduler.optimizer: {self.code.optimizer.__name__}() in {self.code.path} returned "
                    f"{type(built).__name__}, expected an Optuna sampler (for example optuna.samplers.TPESampler())"
                )
            return built
        from sweepkit.search.optuna_engine import _sampler

        # Seeded by settings.seed and the runs so far (a restarted process does not draw again what
        # the last one drew), else at random.
        # A define-by-run search_space may ask different parameters run by run, as conditions do.
        dynamic = self.code.search_space is not None or self.space.conditional
        return _sampler(optuna, self.config, random.SystemRandom().randrange(2**31), seed_offset, dynamic)

    # --- runs -> trials -------------------------------------------------------------------------------

    def sync(self, runs: Sequence[Any]) -> int:
        """Take in the sweep's runs: new ones become trials, ended ones are told; returns how many
        results were told."""
        told = 0
        for run in runs:
            if run.id not in self.known:
                told += self._add(run)
            elif run.id in self.open and run.state not in OPEN_STATES:
                self._tell(self.open.pop(run.id), run)
                told += 1
        return told

    def _add(self, run: Any) -> bool:
        """A run the study did not know as a trial; whether its result was told."""
        self.known.add(run.id)
        found = self._trial_form(run.params)
        if found is None:  # parameters the space cannot take (an older space): not told
            return False
        params, distributions = found
        self.seen.setdefault(_key(run.params), len(self.study.trials))
        trial_state = self.optuna.trial.TrialState
        if run.state in OPEN_STATES:
            trial = self.optuna.trial.create_trial(
                params=params, distributions=distributions, state=trial_state.RUNNING
            )
            self.study.add_trial(trial)
            self.open[run.id] = self.study.trials[-1].number
            return False
        state, values = self._outcome(run)
        trial = self.optuna.trial.create_trial(
            params=params, distributions=distributions, state=state, values=values
        )
        self.study.add_trial(trial)
        return True

    def _tell(self, number: int, run: Any) -> None:
        state, values = self._outcome(run)
        self.study.tell(number, values, state=state, skip_if_finished=True)

    def _outcome(self, run: Any) -> tuple[Any, list[float] | None]:
        trial_state = self.optuna.trial.TrialState
        values = [run.objective_values.get(name) for name, _ in self.objectives]
        if run.state == RunState.FINISHED and all(v is not None for v in values):
            return trial_state.COMPLETE, [float(v) for v in values]
        if run.state == RunState.KILLED and run.stop_info:
            return trial_state.PRUNED, None
        return trial_state.FAIL, None

    def _trial_form(self, params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """A run's parameters as a trial's, with their distributions (None: they do not fit)."""
        if self.code.search_space is not None:
            fixed = self.optuna.trial.FixedTrial(dict(params))
            try:
                with warnings.catch_warnings():  # a value outside its range: said below, not warned
                    warnings.simplefilter("ignore")
                    self.code.search_space(fixed)
            except Exception:  # noqa: BLE001 - a run the user's space cannot replay: not told
                return None
            replayed = dict(fixed.params)
            if not all(_contains(fixed.distributions[name], value) for name, value in replayed.items()):
                return None  # a run of an older space (a range since narrowed): not told
            return replayed, dict(fixed.distributions)
        from sweepkit.search.optuna_engine import encoded

        found = encoded(self.space, params, self._fixed)  # without the parameters inactive in the run
        return None if found is None else (found, {name: self._fixed[name] for name in found})

    def admits(self, params: dict[str, Any]) -> bool:
        """Whether this space could propose ``params``: the user's ``search_space`` replayed on them
        asks for exactly these parameters, each within its distribution; else they fit the config's
        ``parameters``."""
        if self.code.search_space is not None:
            found = self._trial_form(params)
            return found is not None and set(found[0]) == set(params)
        from sweepkit.space.membership import check_point

        return not check_point(self.space, params)[1]

    # --- new suggestions ------------------------------------------------------------------------------

    def ask(self) -> tuple[int, dict[str, Any]]:
        """A new trial and the run parameters it proposes, never those of a run the study knows: a
        repeat (a seeded sampler started again draws what it drew before) is told as its twin's result
        (complete with its values, else failed), and the sampler asked again, up to ``ASK_TRIES`` times."""
        for _ in range(ASK_TRIES - 1):
            number, params = self._ask_once()
            twin = self.seen.get(_key(params))
            if twin is None:
                break
            done = self.study.trials[twin]
            if done.state == self.optuna.trial.TrialState.COMPLETE:
                self.study.tell(number, done.values)
            else:
                self.study.tell(number, state=self.optuna.trial.TrialState.FAIL)
        else:
            number, params = self._ask_once()
        self.seen.setdefault(_key(params), number)
        return number, params

    def _ask_once(self) -> tuple[int, dict[str, Any]]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", self.optuna.exceptions.ExperimentalWarning)
            if self.code.search_space is None:
                from sweepkit.search.optuna_engine import ask_point

                trial, params = ask_point(self.study, self.space, self._fixed)
                return trial.number, params
            trial = self.study.ask()
            try:
                self.code.search_space(trial)
            except Exception as err:  # noqa: BLE001 - the user's code
                self.study.tell(trial.number, state=self.optuna.trial.TrialState.FAIL)
                raise user_error("search_space", self.code, err) from None
        if not trial.params:
            self.study.tell(trial.number, state=self.optuna.trial.TrialState.FAIL)
            raise SweepkitError(
                f"scheduler.search_space: {self.code.search_space.__name__}(trial) in {self.code.path} "
                "asked the trial for no parameter (call trial.suggest_float(...) and the like)"
            )
        return trial.number, dict(trial.params)

    def queued(self, numbers: Sequence[int], run_ids: Sequence[str]) -> None:
        """These trials became these runs."""
        for number, run_id in zip(numbers, run_ids, strict=True):
            self.known.add(run_id)
            self.open[run_id] = number

    def forget(self, run_id: str) -> None:
        """A run the study waited for was deleted: its trial failed."""
        number = self.open.pop(run_id, None)
        if number is not None:
            self.study.tell(number, state=self.optuna.trial.TrialState.FAIL, skip_if_finished=True)

    def lost(self, numbers: Sequence[int]) -> None:
        """These trials' runs may or may not exist (the queueing call failed): failed trials; a run
        that does exist is taken in as a new trial by the next ``sync``."""
        for number in numbers:
            self.study.tell(number, state=self.optuna.trial.TrialState.FAIL, skip_if_finished=True)


def _contains(distribution: Any, value: Any) -> bool:
    """Whether an Optuna distribution holds ``value`` (a run's value, as the user's space asked it)."""
    try:
        return bool(distribution._contains(distribution.to_internal_repr(value)))
    except (TypeError, ValueError):
        return False


def _key(params: dict[str, Any]) -> str:
    return json.dumps(json_safe(params), sort_keys=True)


def _unit_distributions(optuna: Any, space: Any) -> dict[str, Any]:
    from sweepkit.search.optuna_engine import distributions_of

    return distributions_of(optuna, space)
