"""A run as data to export: the JSON object and the flattened CSV rows that ``sweepkit runs``, the
dashboard's export and the Python API all give (one shape for every way out).

Columns are dotted (``config.optimizer.lr``, ``summary.loss``); the run's value of its sweep's
objective, as the service judged it, is ``metric.NAME``. A CSV cell keeps the value whole (floats
at full precision). Pure: standard library only.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

#: The columns every run has, first.
BASE_COLUMNS = ["id", "name", "state", "duration_s", "exit_code"]


def run_json(run: Any) -> dict[str, Any]:
    """A run (a service ``RunInfo``) as ``sweepkit runs --format json``, the dashboard's export and
    ``Run.to_json`` show it.

    ``"metric"`` holds the run's value of its sweep's (first) objective, as the service judged it:
    the value it is ranked by, which may differ from its summary value; ``"objectives"`` holds
    every objective's value when the sweep has several.
    """
    ranked: dict[str, Any] = {}
    values = dict(run.objective_values)
    if values:
        name, value = next(iter(values.items()))
        ranked["metric"] = {"name": name, "value": value}
        if len(values) > 1:
            ranked["objectives"] = values
    return {
        "id": run.id,
        "number": run.number,
        "name": run.name,
        "sweep_id": run.sweep_id,
        "state": run.state.value,
        "config": run.config,
        "summary": {k: v for k, v in run.summary.items() if not k.startswith("_")},
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "duration_s": run.duration_s,
        "exit_code": run.exit_code,
        "stop_reason": run.stop_reason,
        "reason": run.reason,
        "suggestion": run.suggestion,
        "error": run.error,
        "retry_of": run.retry_of,
        "retried_by": run.retried_by,
        **ranked,
    }


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"opt": {"lr": 1}}`` -> ``{"opt.lr": 1}``."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            out.update(flatten(item, name + "."))
        else:
            out[name] = item
    return out


def csv_cell(value: Any) -> str:
    """A value for CSV: whole, floats at full precision."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def run_rows(
    runs: Sequence[Mapping[str, Any]], metric: str | None, *, everything: bool = False
) -> tuple[list[str], list[list[Any]]]:
    """Column names and raw values for ``sweepkit runs`` (``runs`` as ``run_json`` gives them):
    the base columns, config and summary flattened (the metric first), and why a run did not
    finish; ``everything`` adds the search method's suggestion details and the retry links."""
    config_cols: dict[str, None] = {}
    summary_cols: dict[str, None] = {}
    suggestion_cols: dict[str, None] = {}
    flat = []
    retries = everything
    for run in runs:
        config = flatten(run["config"])
        summary = flatten(run["summary"])
        suggestion = flatten(run.get("suggestion") or {}) if everything else {}
        flat.append((config, summary, suggestion))
        config_cols.update(dict.fromkeys(config))
        summary_cols.update(dict.fromkeys(summary))
        suggestion_cols.update(dict.fromkeys(suggestion))
        retries = retries or bool(run.get("retry_of") or run.get("retried_by"))
    summary_order = list(summary_cols)
    if metric in summary_cols:
        summary_order.remove(metric)
        summary_order.insert(0, metric)
    ranked = any("metric" in run for run in runs)
    # with several objectives: each one's value, and the Pareto front a finished run lies on
    others = list(dict.fromkeys(name for run in runs for name in list(run.get("objectives") or {})[1:]))
    fronts = any("pareto_rank" in run for run in runs)
    header = [*BASE_COLUMNS]
    header += [f"metric.{metric}"] if ranked else []  # the value the run is ranked by
    header += [f"metric.{name}" for name in others] + (["pareto_rank"] if fronts else [])
    header += [*(f"config.{c}" for c in config_cols), *(f"summary.{c}" for c in summary_order)]
    header += [f"suggestion.{c}" for c in suggestion_cols]
    header += ["retry_of", "retried_by"] if retries else []
    header.append("reason")
    rows = []
    for run, (config, summary, suggestion) in zip(runs, flat, strict=True):
        row = [run[c] for c in BASE_COLUMNS]
        row += [(run.get("metric") or {}).get("value")] if ranked else []
        row += [(run.get("objectives") or {}).get(name) for name in others]
        row += [run.get("pareto_rank")] if fronts else []
        row += [config.get(c) for c in config_cols] + [summary.get(c) for c in summary_order]
        row += [suggestion.get(c) for c in suggestion_cols]
        row += [run.get("retry_of"), run.get("retried_by")] if retries else []
        row.append(run.get("reason"))
        rows.append(row)
    return header, rows


def csv_table(header: list[str], rows: list[list[Any]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return buf.getvalue()
