"""Folding logged rows into a run: history rows, summary, and the sweep metric's history.

The metric history grows by one value per logged row; rewriting it from Python on every ``log``
would make long runs slower and slower, so the new values are appended by the database itself
(``statements.log_update``) and Python never reads the list to log: this module works out what
changes, the statement applies it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sweepkit.store.sqltypes import to_json


@dataclass
class FoldedRows:
    """What a batch of logged rows changes in a run."""

    #: step -> (row data after merging, whether a row for that step is already stored)
    rows: dict[int, tuple[dict[str, Any], bool]] = field(default_factory=dict)
    summary: dict[str, Any] = field(default_factory=dict)
    #: metric values to append to the metric history, in order
    appended: list[float] = field(default_factory=list)
    #: a new value for the metric history's last element (its step was logged again)
    replace_last: float | None = None
    last_step: int | None = None

    @property
    def metric_changed(self) -> bool:
        return bool(self.appended) or self.replace_last is not None


def metric_value(value: Any) -> float | None:
    """A logged metric value as a float (NaN kept); None for values that are not numbers."""
    if value is None or isinstance(value, (bool, str)):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def steps_maybe_stored(rows: Iterable[dict[str, Any]], last_step: int | None) -> list[int]:
    """The steps of ``rows`` that a run whose newest step is ``last_step`` may already hold."""
    if last_step is None:
        return []
    return sorted({row["_step"] for row in rows if row["_step"] <= last_step})


def fold_rows(
    rows: list[dict[str, Any]],
    stored: dict[int, dict[str, Any]],
    metric_name: str | None,
    summary: dict[str, Any],
    last_step: int | None,
) -> FoldedRows:
    """Merge ``rows`` (in order) with the ``stored`` rows of their steps and with the summary."""
    out = FoldedRows(summary=dict(summary), last_step=last_step)
    for row in rows:
        step = row["_step"]
        previous = out.rows[step][0] if step in out.rows else stored.get(step)
        out.rows[step] = ({**previous, **row} if previous else row, step in stored)
        out.summary.update(row)
        value = metric_value(row.get(metric_name)) if metric_name is not None else None
        if value is not None:
            had_value = previous is not None and metric_value(previous.get(metric_name)) is not None
            if not had_value:
                out.appended.append(value)
            elif step == out.last_step:
                # The newest step logged again: its value replaces the one it logged before.
                if out.appended:
                    out.appended[-1] = value
                else:
                    out.replace_last = value
        out.last_step = step if out.last_step is None else max(out.last_step, step)
    return out


def metric_params(folded: FoldedRows) -> dict[str, str]:
    """Bound parameters of ``statements.log_update``: the new metric values as JSON text."""
    params = {f"m{i}": _json_text(value) for i, value in enumerate(folded.appended)}
    if folded.replace_last is not None:
        params["mlast"] = _json_text(folded.replace_last)
    return params


def _json_text(value: float) -> str:
    return json.dumps(to_json(value), allow_nan=False)
