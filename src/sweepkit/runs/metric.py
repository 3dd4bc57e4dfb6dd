"""A run's values of the sweep's metric: what counts as a value, and the aggregates kept per run so that nobody rereads a history (count, last, min, max, the values at hyperband's bands).

One rule everywhere (``sweepkit.values.is_metric_value``): a *metric value* is a real number (not a
boolean, not text) that is finite.
Rows that log the metric as anything else do not count; the k-th value is *iteration k*.

**A run's value** of the metric (``Objective.value_of`` in ``sweepkit.runs.objective``, which also
says which value is better), by which bayes, ``metric.target``, ``sweepkit best``, ``sweepkit
runs`` and the dashboard rank it, is ``MetricStats.best``: the best of every value it logged and the
summary value it set itself. That is the rule of W&B's sweep engine (``SweepRun.metric_extremum``);
W&B's web pages sort by the summary value instead (the last logged value unless ``define_metric``
or the script says otherwise). Hyperband compares W&B's per-iteration values (``at``, and
``best_logged`` when not strict), never the summary.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sweepkit.runs.objective import sign
from sweepkit.values import is_metric_value


@dataclass(frozen=True)
class MetricStats:
    """What the service keeps of one run's metric values, updated as values arrive.

    ``bands`` maps an iteration number (1-based) to the value the run logged there, for the
    iterations hyperband compares runs at; ``summary`` is the summary value of the metric the run
    set itself (``run.summary[name] = value``), if it is a metric value.
    """

    count: int = 0
    last: float | None = None
    min: float | None = None
    max: float | None = None
    bands: Mapping[int, float] = field(default_factory=dict)
    summary: float | None = None
    #: With several objectives (``metrics:``): the aggregates of each other objective's metric, by
    #: name (no bands: hyperband judges the first metric only).
    others: Mapping[str, MetricStats] = field(default_factory=dict)

    def best(self, goal: str) -> float | None:
        """The run's value (see the module docstring): the best of its logged values and the summary
        value it set, or None when it has neither."""
        candidates = [v for v in (self.best_logged(goal), self.summary) if v is not None]
        if not candidates:
            return None
        return min(candidates) if sign(goal) > 0 else max(candidates)

    def best_logged(self, goal: str) -> float | None:
        """The best value logged (the summary aside), or None."""
        if not self.count:
            return None
        return self.min if sign(goal) > 0 else self.max

    def describe_best(self, goal: str) -> str:
        """Where ``best(goal)`` comes from, in words (for ``sweepkit best``)."""
        logged = self.best_logged(goal)
        if logged is None:
            return "the summary value the run set; it logged no value"
        plural = "s" if self.count != 1 else ""
        if self.summary is not None and self.best(goal) == self.summary and self.summary != logged:
            return f"the summary value the run set, better than its {self.count} logged value{plural}"
        return f"the best of its {self.count} logged value{plural}" + (
            " and its summary value" if self.summary is not None else ""
        )

    def at(self, iteration: int) -> float | None:
        """The value logged at ``iteration`` (kept only for band iterations)."""
        return self.bands.get(iteration)

    def add(self, values: Iterable[Any], band_iterations: Collection[int] | None = ()) -> MetricStats:
        """These stats with ``values`` appended (values that are not metric values are skipped).

        ``band_iterations``: the iterations whose value to keep; None keeps every iteration.
        """
        count, last, low, high = self.count, self.last, self.min, self.max
        bands = dict(self.bands)
        for value in values:
            if not is_metric_value(value):
                continue
            value = float(value)
            count += 1
            last = value
            low = value if low is None else min(low, value)
            high = value if high is None else max(high, value)
            if band_iterations is None or count in band_iterations:
                bands[count] = value
        return MetricStats(count, last, low, high, bands, self.summary, self.others)

    def of(self, name: str) -> MetricStats:
        """The aggregates of another objective's metric ``name`` (empty when it logged none)."""
        return self.others.get(name) or MetricStats()

    def add_others(
        self, rows: Iterable[Mapping[str, Any]], summary: Mapping[str, Any], names: Iterable[str]
    ) -> MetricStats:
        """These stats with the other objectives' values in ``rows`` (logged rows) and ``summary``
        (the summary values the run set) added to theirs."""
        others = dict(self.others)
        for name in names:
            stats = others.get(name) or MetricStats()
            stats = stats.add([row[name] for row in rows if name in row], ())
            if name in summary:
                stats = stats.with_summary(summary[name])
            others[name] = stats
        return replace(self, others=others)

    @classmethod
    def from_values(
        cls, values: Iterable[Any], band_iterations: Collection[int] | None = None
    ) -> MetricStats:
        """Stats of a whole series of logged values (every iteration kept unless told otherwise)."""
        return cls().add(values, band_iterations)

    def with_summary(self, value: Any) -> MetricStats:
        """These stats with the run's summary value of the metric (None if it is not a metric value)."""
        summary = float(value) if is_metric_value(value) else None
        return replace(self, summary=summary)

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "last": self.last,
            "min": self.min,
            "max": self.max,
            "bands": {str(k): v for k, v in sorted(self.bands.items())},
            "summary": self.summary,
            **({"others": {k: v.to_json() for k, v in self.others.items()}} if self.others else {}),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> MetricStats:
        if not data:
            return cls()
        return cls(
            count=int(data.get("count") or 0),
            last=data.get("last"),
            min=data.get("min"),
            max=data.get("max"),
            bands={int(k): float(v) for k, v in (data.get("bands") or {}).items()},
            summary=data.get("summary"),
            others={str(k): cls.from_json(v) for k, v in (data.get("others") or {}).items()},
        )
