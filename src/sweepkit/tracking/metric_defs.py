"""``run.define_metric()``: what a run's summary keeps for a metric, and which metric is its x-axis.

W&B's rules, kept by the run as it logs:

- ``summary="min,max,mean,first,last,best"`` (any of them): the run's summary of the metric becomes a
  dict of those aggregates (``{"min": 0.12, "last": 0.3}``) instead of the last logged value;
  ``best`` is the minimum or maximum by ``goal`` (``"minimize"``, the default, or ``"maximize"``);
  ``"none"`` asks for no aggregate (the summary keeps the last value, as sweepkit's service records it).
- ``step_metric="epoch"``: the metric is plotted against ``epoch``; with ``step_sync`` (on by default
  when there is a step metric) a row that logs the metric without ``epoch`` gets the last ``epoch``.
- a name ending in ``*`` (``"val/*"``) defines every metric it matches that has no definition of its own.

None of this changes what the sweep ranks a run by: see ``sweepkit.runs.metric.MetricStats.best``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from typing import Any, NamedTuple

from sweepkit.errors import SweepkitError
from sweepkit.runs.goals import DEFAULT_GOAL, GOALS, sign
from sweepkit.values import is_metric_value

AGGREGATES = ("min", "max", "mean", "first", "last", "best", "none", "copy")


class MetricDefinition(NamedTuple):
    """One ``define_metric`` call's result (W&B returns an object; scripts mostly discard it)."""

    name: str
    step_metric: str | None = None
    step_sync: bool | None = None
    hidden: bool | None = None
    summary: tuple[str, ...] = ()
    goal: str | None = None

    def __repr__(self) -> str:
        return f"<Metric {self.name}>"


class _Track:
    """Running aggregates of one metric's numeric values."""

    def __init__(self) -> None:
        self.count = 0
        self.total = 0.0
        self.first: float | None = None
        self.last: float | None = None
        self.low: float | None = None
        self.high: float | None = None

    def add(self, value: float) -> None:
        if self.count == 0:
            self.first = value
        self.count += 1
        self.total += value
        self.last = value
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)


class MetricDefinitions:
    """A run's metric definitions and the aggregates they need (see the module docstring)."""

    #: Definitions by exact name, and by pattern (``"val/*"``) for the names without their own.
    defined: dict[str, MetricDefinition]
    globs: dict[str, MetricDefinition]
    #: The aggregates kept of each metric a definition asks a summary of; the last value of each key.
    tracks: dict[str, _Track]
    last_values: dict[str, Any]

    def __init__(self) -> None:
        self.defined, self.globs, self.tracks, self.last_values = {}, {}, {}, {}

    def define(
        self,
        name: str,
        step_metric: Any = None,
        step_sync: bool | None = None,
        hidden: bool | None = None,
        summary: str | None = None,
        goal: str | None = None,
        overwrite: bool | None = None,
        **_ignored: Any,
    ) -> MetricDefinition:
        """W&B's ``define_metric`` (its other arguments are ignored)."""
        if not isinstance(name, str) or not name:
            raise SweepkitError("define_metric(): the metric needs a non-empty name")
        if isinstance(step_metric, MetricDefinition):
            step_metric = step_metric.name
        aggregates = tuple(part.strip() for part in (summary or "").split(",") if part.strip())
        unknown = [part for part in aggregates if part not in AGGREGATES]
        if unknown:
            raise SweepkitError(
                f"define_metric({name!r}, summary={summary!r}): unknown aggregate {unknown[0]!r}; "
                f"expected some of {', '.join(AGGREGATES[:-1])}"
            )
        if goal is not None:
            goal = {"min": GOALS[0], "max": GOALS[1]}.get(goal, goal)
            if goal not in GOALS:
                raise SweepkitError(
                    f"define_metric({name!r}, goal={goal!r}): expected 'minimize' or 'maximize'"
                )
        table = self.globs if name.endswith("*") else self.defined
        previous = table.get(name)
        if previous is not None and not overwrite:
            definition = MetricDefinition(
                name,
                step_metric if step_metric is not None else previous.step_metric,
                step_sync if step_sync is not None else previous.step_sync,
                hidden if hidden is not None else previous.hidden,
                aggregates or previous.summary,
                goal or previous.goal,
            )
        else:
            definition = MetricDefinition(name, step_metric, step_sync, hidden, aggregates, goal)
        table[name] = definition
        return definition

    def lookup(self, name: str) -> MetricDefinition | None:
        found = self.defined.get(name)
        if found is not None:
            return found
        for pattern, definition in self.globs.items():
            if fnmatch.fnmatchcase(name, pattern):
                return definition
        return None

    def sync_steps(self, row: dict[str, Any]) -> None:
        """Add the last value of each logged metric's step metric when the row lacks it (step_sync)."""
        if not (self.defined or self.globs):
            return
        additions = {}
        for key in row:
            definition = self.lookup(key)
            if definition is None or not definition.step_metric or definition.step_sync is False:
                continue
            step_key = definition.step_metric
            if step_key not in row and step_key in self.last_values:
                additions[step_key] = self.last_values[step_key]
        row.update(additions)

    def remember(self, row: Mapping[str, Any]) -> None:
        """Keep the row's values for later step syncing (only when a step metric is defined)."""
        if self.defined or self.globs:
            self.last_values.update(row)

    def summaries(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The summary values the definitions give the metrics of a committed row."""
        out: dict[str, Any] = {}
        if not (self.defined or self.globs):
            return out
        for key, value in row.items():
            if key.startswith("_"):
                continue
            definition = self.lookup(key)
            if definition is None or not definition.summary or "none" in definition.summary:
                continue
            if not is_metric_value(value):
                continue
            track = self.tracks.setdefault(key, _Track())
            track.add(float(value))
            out[key] = _aggregates(track, definition)
        return out


def _aggregates(track: _Track, definition: MetricDefinition) -> dict[str, float]:
    values: dict[str, float] = {}
    for kind in definition.summary:
        if kind == "min":
            values["min"] = track.low
        elif kind == "max":
            values["max"] = track.high
        elif kind == "mean":
            values["mean"] = track.total / track.count
        elif kind == "first":
            values["first"] = track.first
        elif kind in ("last", "copy"):
            values["last"] = track.last
        elif kind == "best":
            values["best"] = track.low if sign(definition.goal or DEFAULT_GOAL) > 0 else track.high
    return values
