"""What each dashboard endpoint answers, as JSON-able data built from the sweep service's values.

Pure shaping: no HTTP here. The service's own types (``SweepInfo``, ``RunInfo``, ``RunOutput``)
go through ``to_json``; the dashboard adds what a page needs next to them (the metric and its goal,
the parameters' axes, hyperband's bands, a run's command line).
"""

from __future__ import annotations

import math
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit.dashboard.params import axes
from sweepkit.service import RunInfo, RunOutput, SweepInfo
from sweepkit.service.types import to_json


def metric_of(config: Mapping[str, Any]) -> dict[str, Any] | None:
    metric = config.get("metric")
    if not metric:
        return None
    return {"name": metric.get("name"), "goal": metric.get("goal", "minimize")}


def sweep_summary(sweep: SweepInfo, best: float | None) -> dict[str, Any]:
    """A sweep as the sweeps list shows it."""
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
        "metric": metric_of(sweep.config),
        "best": best,
    }


def hyperband_of(config: Mapping[str, Any]) -> dict[str, Any] | None:
    """The sweep's hyperband section as charts need it: its bands (up to 10,000 iterations), eta, strict."""
    section = config.get("early_terminate")
    if not section or section.get("type", "hyperband") != "hyperband" or not config.get("metric"):
        return None
    from sweepkit.stopping.hyperband import bands

    return {
        "bands": bands(section, up_to=10_000),
        "eta": section.get("eta", 3),
        "strict": bool(section.get("strict", True)),
    }


def sweep_detail(sweep: SweepInfo, best: float | None) -> dict[str, Any]:
    """A sweep as its page shows it: the list's fields, the config, parameters and hyperband."""
    return {
        **sweep_summary(sweep, best),
        "config": sweep.config,
        "source": sweep.source,  # the config as written, when the client gave it
        "params": [p.to_json() for p in axes(sweep.config)],
        "hyperband": hyperband_of(sweep.config),
    }


def threshold_list(found: Mapping[int, tuple[float, int]]) -> list[dict[str, Any]]:
    return [
        {"band": band, "threshold": value, "runs": count} for band, (value, count) in sorted(found.items())
    ]


def command_line(config: Mapping[str, Any], params: Mapping[str, Any]) -> str | None:
    """The run's command as its agent was told to run it: the macros only the agent's machine can
    fill (``${interpreter}``, ``${env}``, ``${args_json_file}``, ``${envvar:NAME}``) are left as written.
    None when the sweep's command cannot be rendered for these parameters."""
    from sweepkit.command_template import CommandError, render_parts
    from sweepkit.space import SearchSpace

    try:
        values = SearchSpace.from_parameters(config.get("parameters") or {}).unflatten(dict(params))
        elements = render_parts(config.get("command"), values, program=config.get("program"))
    except (CommandError, ValueError, KeyError, TypeError):
        return None
    shown = []
    for parts in elements:
        if len(parts) == 1 and isinstance(parts[0], dict):
            shown.append("${" + str(parts[0].get("agent")) + "}")  # a macro the agent fills in
            continue
        shown.append(
            shlex.quote("".join(p if isinstance(p, str) else "${" + str(p.get("agent")) + "}" for p in parts))
        )
    return " ".join(shown)


def run_detail(run: RunInfo, sweep: SweepInfo | None) -> dict[str, Any]:
    """A run as its page shows it: every field of ``RunInfo``, its sweep's metric and its command."""
    out = to_json(run)
    out["duration_s"] = run.duration_s
    if sweep is not None:
        metric = metric_of(sweep.config)
        out["sweep"] = {"id": sweep.id, "name": sweep.name, "metric": metric, "state": sweep.state.value}
        out["best"] = run.metric.best(metric["goal"]) if metric else None
        out["command"] = command_line(sweep.config, run.params)
        out["hyperband"] = hyperband_of(sweep.config)
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
            if key.startswith("_") or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            if not math.isfinite(value):
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
