"""What the runs of a sweep tell the bayes model: observed values, imputed failures, pending points.

Values are turned "lower is better" with ``metric.sign``. By run state (as W&B's engine counts them;
docs/bayes.md, "Run states and imputation"):

- finished: the run's value (``MetricStats.best``: the best of its logged values and the summary
  value it set); a finished run with neither is imputed like a failed one;
- failed, crashed, killed: imputed by ``metric.impute``:
  ``worst`` the worst finite value seen in any run (0.0 when none), ``best`` the run's own best
  logged value (else the best value seen in any run, else 0.0), ``latest`` the run's last
  logged value (else the worst);
- pending, running, preempting and preempted: pending points (no value). A preempted run is
  requeued and resumes, as in W&B, so its point is taken but its result is still to come.

The runs that ended for good are digested once (``EndedRuns``: each one's encoded point, kind and
signed values, kept in run order), so that a claim in a sweep of 10,000 runs reads and encodes only
the runs that changed and the live ones (``sweepkit.search.sweep_runs``); ``Points.observations``
then sorts every run of the sweep in a few array operations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sweepkit.runs import ACTIVE_STATES, UNSUCCESSFUL_STATES, RunState, RunView
from sweepkit.search.bayes.encoding import Domain, row_keys
from sweepkit.search.bayes.model import model_cache_entries, remember_model_entries
from sweepkit.search.sweep_runs import Digest

#: Runs whose point is taken and whose result is still to come.
PENDING_STATES = ACTIVE_STATES | {RunState.PREEMPTED}

#: What the model does with a run: its value, an imputed one, a pending point, or nothing.
OBSERVED, IMPUTED, PENDING, SKIPPED = 0, 1, 2, 3


@dataclass
class Observations:
    """Runs sorted by what the model does with them (values are ``sign * value``)."""

    observed: list[tuple[int, float]] = field(default_factory=list)  # (run index, value)
    imputed: list[int] = field(default_factory=list)  # run indexes of imputed values
    pending: list[int] = field(default_factory=list)  # run indexes


def _fields(metric: Any, view: RunView) -> tuple[int, float, float, float]:
    """A run's kind, and its best, last and worst values signed "lower is better" (NaN: none).

    The best is its summary value when it logged none; the worst is its worst logged value, or
    that summary value.
    """
    sign = float(metric.sign)
    stats = view.metric
    best = stats.best(metric.goal)
    best = None if best is None else sign * best
    last = sign * stats.last if stats.count else None
    worst = sign * (stats.max if sign > 0 else stats.min) if stats.count else best
    state = RunState(view.state)
    if state in PENDING_STATES:
        kind = PENDING
    elif state == RunState.FINISHED and best is not None:
        kind = OBSERVED
    elif state == RunState.FINISHED or state in UNSUCCESSFUL_STATES:
        kind = IMPUTED
    else:
        kind = SKIPPED
    nan = float("nan")
    return kind, nan if best is None else best, nan if last is None else last, nan if worst is None else worst


@dataclass
class Points:
    """Runs in run order as arrays: number, encoded row (``has_row`` False when a value is missing
    or outside the space), kind, and signed best, last and worst values (NaN: none)."""

    numbers: np.ndarray
    rows: np.ndarray
    has_row: np.ndarray
    kind: np.ndarray
    best: np.ndarray
    last: np.ndarray
    worst: np.ndarray

    @classmethod
    def empty(cls, dim: int) -> Points:
        return cls(
            np.empty(0, dtype=np.int64),
            np.empty((0, dim)),
            np.empty(0, dtype=bool),
            np.empty(0, dtype=np.int8),
            *(np.empty(0) for _ in range(3)),
        )

    @classmethod
    def of(cls, metric: Any, domain: Domain | None, views: list[RunView], numbers: list[int]) -> Points:
        """The runs ``views`` numbered ``numbers`` (no rows without a ``domain``)."""
        dim = domain.dim if domain is not None else 0
        encoded = (
            domain.encode_many([view.params for view in views]) if domain is not None else [None] * len(views)
        )
        fields_ = [_fields(metric, view) for view in views]
        rows = np.array([r if r is not None else np.zeros(dim) for r in encoded]).reshape(len(views), dim)
        return cls(
            np.array(numbers, dtype=np.int64),
            rows,
            np.array([r is not None for r in encoded], dtype=bool),
            np.array([f[0] for f in fields_], dtype=np.int8),
            *(np.array([f[i] for f in fields_], dtype=float) for i in (1, 2, 3)),
        )

    def _columns(self) -> tuple[np.ndarray, ...]:
        return (self.numbers, self.rows, self.has_row, self.kind, self.best, self.last, self.worst)

    def take(self, keep: np.ndarray) -> Points:
        return Points(*(column[keep] for column in self._columns()))

    def merged(self, other: Points) -> Points:
        """Both sets of runs, in run order."""
        joined = [np.concatenate([a, b]) for a, b in zip(self._columns(), other._columns(), strict=True)]
        order = np.argsort(joined[0], kind="stable")
        return Points(*(column[order] for column in joined))

    def __len__(self) -> int:
        return len(self.numbers)

    def values(self, metric: Any) -> np.ndarray:
        """Each run's value for the model: observed, imputed by ``metric.impute``, or NaN."""
        impute = getattr(metric, "impute", "worst") or "worst"
        worst_seen = self.worst[~np.isnan(self.worst)]
        best_seen = self.best[~np.isnan(self.best)]
        worst = float(worst_seen.max()) if len(worst_seen) else 0.0
        best_any = float(best_seen.min()) if len(best_seen) else 0.0
        if impute == "best":
            imputed = np.where(np.isnan(self.best), best_any, self.best)
        elif impute == "latest":
            imputed = np.where(np.isnan(self.last), worst, self.last)
        else:
            imputed = np.full(len(self), worst)
        out = np.where(self.kind == OBSERVED, self.best, imputed)
        out[(self.kind != OBSERVED) & (self.kind != IMPUTED)] = np.nan
        return out

    def model_inputs(self, metric: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
        """``(x, y, pending rows, number of observations)``: the observed and imputed runs with a
        row, in run order, and the pending ones."""
        counted = (self.kind == OBSERVED) | (self.kind == IMPUTED)
        y_all = self.values(metric)
        take = counted & self.has_row
        pend = self.rows[(self.kind == PENDING) & self.has_row]
        return self.rows[take], y_all[take], pend, int(counted.sum())


class EndedRuns(Digest):
    """Bayes's digest of the runs that ended for good: their ``Points``, in run order."""

    def __init__(self, metric: Any, domain: Domain) -> None:
        self.metric = metric
        self.domain = domain
        self.points = Points.empty(domain.dim)
        #: How many of these runs have each point (``row_key`` of their rows).
        self.keys: dict[tuple, int] = {}
        self._kept: dict[str, tuple[int, tuple | None]] = {}  # run id -> (number, key)

    def update(self, added: list[RunView], removed: list[str]) -> None:
        gone = []
        for run_id in [*removed, *(view.id for view in added)]:
            number, key = self._kept.pop(run_id, (None, None))
            if number is None:
                continue
            gone.append(number)
            if key is not None:
                self.keys[key] -= 1
                if not self.keys[key]:
                    del self.keys[key]
        points = self.points
        if gone:
            points = points.take(~np.isin(points.numbers, np.array(gone, dtype=np.int64)))
        if added:
            numbers = [int(view.number) for view in added]
            new = Points.of(self.metric, self.domain, added, numbers)
            keys = iter(row_keys(new.rows[new.has_row]))
            for view, number, has_row in zip(added, numbers, new.has_row.tolist(), strict=True):
                key = next(keys) if has_row else None
                self._kept[view.id] = (number, key)
                if key is not None:
                    self.keys[key] = self.keys.get(key, 0) + 1
            points = points.merged(new)
        self.points = points

    def state(self) -> dict[str, np.ndarray]:
        """The points, each one's run id, and the model's recent hyperparameter fits (a cache of a
        pure function of the runs: a new process then need not fit them again)."""
        ids = sorted(self._kept, key=lambda run_id: self._kept[run_id][0])
        names = ("numbers", "rows", "has_row", "kind", "best", "last", "worst")
        out = dict(zip(names, self.points._columns(), strict=True))
        out["ids"] = np.array(ids, dtype=str)
        out["hyper_keys"], out["hyper_values"] = model_cache_entries(self.domain.dim)
        return out

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        names = ("numbers", "rows", "has_row", "kind", "best", "last", "worst")
        self.points = Points(*(arrays[name] for name in names))
        # In bulk (a new process's first claim restores 10,000 runs): each run's key, None without a row.
        found = row_keys(self.points.rows[self.points.has_row])
        keys: list[tuple | None] = [None] * len(self.points.numbers)
        for i, key in zip(np.flatnonzero(self.points.has_row).tolist(), found, strict=True):
            keys[i] = key
        self._kept = dict(
            zip(arrays["ids"].tolist(), zip(self.points.numbers.tolist(), keys, strict=True), strict=True)
        )
        self.keys = dict(Counter(found))
        remember_model_entries(arrays["hyper_keys"], arrays["hyper_values"])

    def with_live(self, live: list[RunView]) -> tuple[Points, UsedPoints]:
        """Every run of the sweep (these and the ``live`` ones) in run order, and the points used."""
        if not live:
            return self.points, UsedPoints(self.keys, set())
        numbers = [int(view.number) for view in live]
        new = Points.of(self.metric, self.domain, live, numbers)
        return self.points.merged(new), UsedPoints(self.keys, set(row_keys(new.rows[new.has_row])))


class UsedPoints:
    """The points of a sweep's runs (``row_key``s) for a suggestion to test against: the ended runs'
    (looked up in the digest's own counts, not copied into a new set of 10,000 keys at every claim)
    and the live runs'. Valid until the digest next changes."""

    __slots__ = ("_ended", "_live")

    def __init__(self, ended: dict[tuple, int], live: set[tuple]) -> None:
        self._ended = ended
        self._live = live

    def __contains__(self, key: object) -> bool:
        return key in self._ended or key in self._live

    def __iter__(self):
        yield from self._ended
        yield from (key for key in self._live if key not in self._ended)


def collect(metric: Any, runs: list[Any]) -> Observations:
    """The runs (in run order) sorted by what the model does with them."""
    domain_free = Points.of(metric, None, list(runs), list(range(len(runs))))
    values = domain_free.values(metric)
    out = Observations()
    for i, kind in enumerate(domain_free.kind.tolist()):
        if kind == PENDING:
            out.pending.append(i)
        elif kind in (OBSERVED, IMPUTED):
            out.observed.append((i, float(values[i])))
            if kind == IMPUTED:
                out.imputed.append(i)
    return out
