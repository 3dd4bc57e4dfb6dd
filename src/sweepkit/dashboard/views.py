"""What each dashboard endpoint answers, as JSON-able data built from the sweep service's values.

Pure shaping: no HTTP here. The service's own types (``SweepInfo``, ``RunInfo``, ``RunOutput``)
go through ``to_json``; the dashboard shapes what a page needs from them (the objective and its
goal, the parameters' axes, hyperband's bands, the allowed actions: all read from the sweep's plan,
never from its config).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit.dashboard.params import axes
from sweepkit.service import RunInfo, RunOutput, SweepInfo
from sweepkit.service.types import BandThreshold, to_json
from sweepkit.values import is_metric_value


def metric_of(sweep: SweepInfo) -> dict[str, Any] | None:
    """The sweep's (first) objective as pages show it: its name and goal."""
    objective = sweep.plan.objective
    return None if objective is None else {"name": objective.name, "goal": objective.goal}


def sweep_summary(sweep: SweepInfo, best: float | None) -> dict[str, Any]:
    """A sweep as the sweeps list shows it, with the actions its state allows (the service's rule)."""
    return {
        "id": sweep.id,
        "name": sweep.name,
        "project": sweep.project,
        "entity": sweep.entity,
        "method": sweep.method,
        "state": sweep.state.value,
        "state_reason": sweep.state_reason,
        "run_count": sweep.run_count,
        "runs_by_state": dict(sweep.runs_by_state),
        "planned_runs": sweep.planned_runs,
        "live_agents": sweep.live_agents,
        "created_at": to_json(sweep.created_at),
        "updated_at": to_json(sweep.updated_at),
        "metric": metric_of(sweep),
        "best": best,
        "actions": [action.value for action in sweep.actions],
    }


def hyperband_of(sweep: SweepInfo) -> dict[str, Any] | None:
    """The sweep's stopping rule as charts need it: its bands (up to 10,000 iterations), eta, strict."""
    rule = sweep.plan.stopping
    if rule is None:
        return None
    return {"bands": list(rule.bands), "eta": rule.eta, "strict": rule.strict}


def sweep_detail(sweep: SweepInfo, best: float | None) -> dict[str, Any]:
    """A sweep as its page shows it: the list's fields, the config, parameters and hyperband."""
    return {
        **sweep_summary(sweep, best),
        "config": sweep.config,
        "source": sweep.source,  # the config as written, when the client gave it
        "params": [p.to_json() for p in axes(sweep.plan.parameters)],
        "hyperband": hyperband_of(sweep),
    }


def threshold_list(found: Sequence[BandThreshold]) -> list[dict[str, Any]]:
    return [{"band": t.band, "threshold": t.threshold, "runs": t.runs} for t in found]


def run_detail(run: RunInfo, sweep: SweepInfo | None, command: str | None) -> dict[str, Any]:
    """A run as its page shows it: every field of ``RunInfo``, its sweep's metric and its command."""
    out = to_json(run)
    out["duration_s"] = run.duration_s
    if sweep is not None:
        metric = metric_of(sweep)
        out["sweep"] = {"id": sweep.id, "name": sweep.name, "metric": metric, "state": sweep.state.value}
        out["best"] = run.value(sweep.plan.objective)
        out["command"] = command
        out["hyperband"] = hyperband_of(sweep)
    else:
        out["sweep"] = None
        out["best"] = None
        out["command"] = None
        out["hyperband"] = None
    return out


def history_series(rows: Sequence[Mapping[str, Any]]) -> dict[str, list[list[float]]]:
    """Logged rows as ``{key: [[steps], [values]]}`` for every key with a finite number; the rest is
    left out (text, lists and media are in the run's summary, ``_runtime`` and the like are internal)."""
    out: dict[str, list[list[float]]] = {}
    for row in rows:
        step = row["_step"]
        for key, value in row.items():
            if key.startswith("_") or not is_metric_value(value):
                continue
            series = out.get(key)
            if series is None:
                series = out[key] = [[], []]
            series[0].append(step)
            series[1].append(value)
    return out


def output_delta(output: RunOutput, known_size: int | None) -> dict[str, Any]:
    """What a page that has shown ``known_size`` characters of a run's output needs: only the new
    characters when the kept tail still holds them all, else the head and tail whole."""
    size = output.size
    if known_size is not None and 0 <= known_size <= size:
        new = size - known_size
        if not output.truncated:
            return {"size": size, "append": (output.head + output.tail)[known_size:]}
        if new <= len(output.tail) and known_size >= len(output.head):
            return {"size": size, "append": output.tail[len(output.tail) - new :] if new else ""}
    return {
        "size": size,
        "head": output.head,
        "tail": output.tail,
        "skipped": max(0, size - len(output.head) - len(output.tail)),
    }
