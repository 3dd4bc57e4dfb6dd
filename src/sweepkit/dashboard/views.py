"""What each dashboard endpoint answers, as JSON-able data built from the sweep service's values.

Pure shaping: no HTTP here. The service's own types (``SweepInfo``, ``RunInfo``, ``RunOutput``)
go through ``to_json``; the dashboard shapes what a page needs from them (the objective and its
goal, the parameters' axes, hyperband's bands, the allowed actions: all read from the sweep's plan,
never from its config).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sweepkit.dashboard.params import axes
from sweepkit.dashboard.run_files import cut_long_text, media_keys
from sweepkit.runs import Objective
from sweepkit.service import RunInfo, RunOutput, SweepInfo
from sweepkit.service.types import AgentInfo, BandThreshold, ConfigVersion, RankedRun, to_json
from sweepkit.values import is_metric_value

#: Keys every logged row has, offered as x axes: the time since the run started, and the wall clock.
TIME_KEYS = ("_runtime", "_timestamp")


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
        "objectives": [{"name": o.name, "goal": o.goal} for o in sweep.plan.objectives],
        "best": best,
        "actions": [action.value for action in sweep.actions],
        "scheduler": scheduler_of(sweep),
    }


def scheduler_of(sweep: SweepInfo) -> dict[str, Any] | None:
    """The sweep's user scheduler process (``sweepkit scheduler``), None when the service proposes its
    runs: its state ("waiting": none started yet, "alive", "gone"), where it runs, when last heard."""
    scheduler = sweep.scheduler
    if scheduler is None:
        return None
    return {
        "state": scheduler.state,
        "host": scheduler.host,
        "pid": scheduler.pid,
        "seen_at": to_json(scheduler.seen_at),
        "command": f"sweepkit scheduler {sweep.id}",
    }


def hyperband_of(sweep: SweepInfo) -> dict[str, Any] | None:
    """The sweep's stopping rule as charts need it: its bands (up to 10,000 iterations), eta, strict."""
    rule = sweep.plan.stopping
    if rule is None:
        return None
    return {"bands": list(rule.bands), "eta": rule.eta, "strict": rule.strict}


def sweep_detail(
    sweep: SweepInfo, best: float | None, versions: Sequence[ConfigVersion] = ()
) -> dict[str, Any]:
    """A sweep as its page shows it: the list's fields, the config (and each of its versions, newest
    first, with what changing to it did), parameters and hyperband."""
    return {
        **sweep_summary(sweep, best),
        "config": sweep.config,
        "source": sweep.source,  # the config as written, when the client gave it
        "versions": [to_json(v) for v in reversed(versions)],
        "params": [p.to_json() for p in axes(sweep.plan.parameters)],
        "hyperband": hyperband_of(sweep),
    }


def agent_view(agent: AgentInfo) -> dict[str, Any]:
    """An agent as the sweep page's agents view shows it (every field of ``AgentInfo``)."""
    return to_json(agent)


def ranked_run(ranked: RankedRun, objective: Objective | None) -> dict[str, Any]:
    """One of the best runs (``best_runs``): its number, id, name, rank and value."""
    run = ranked.run
    return {
        "number": run.number,
        "id": run.id,
        "name": run.name,
        "rank": ranked.rank,
        "value": run.value(objective),
    }


def files_of(folder: Path | None, host: str | None) -> dict[str, Any]:
    """Where a run's files are (its agent's host and folder) and whether this machine can read them."""
    return {
        "folder": None if folder is None else str(folder),
        "host": host,
        "here": folder is not None and folder.is_dir(),
    }


def threshold_list(found: Sequence[BandThreshold]) -> list[dict[str, Any]]:
    return [{"band": t.band, "threshold": t.threshold, "runs": t.runs} for t in found]


def run_detail(
    run: RunInfo, sweep: SweepInfo | None, command: str | None, files: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A run as its page shows it: every field of ``RunInfo`` (long text cut: ``run_files.cut_long_text``),
    its media keys, where its files are, its sweep's metric and its command."""
    out = to_json(run)
    out["summary"] = cut_long_text(out["summary"])
    out["config"] = cut_long_text(out["config"])
    out["media"] = media_keys(run.summary)
    out["files"] = files
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
    """Logged rows as ``{key: [[steps], [values]]}`` for every key with a finite number, and the
    time keys (``_runtime``, ``_timestamp``: what charts can be drawn against); the rest is left out
    (text, lists and media are in the run's summary and its media)."""
    out: dict[str, list[list[float]]] = {}
    for row in rows:
        step = row["_step"]
        for key, value in row.items():
            if (key.startswith("_") and key not in TIME_KEYS) or not is_metric_value(value):
                continue
            series = out.get(key)
            if series is None:
                series = out[key] = [[], []]
            series[0].append(step)
            series[1].append(value)
    return out


def key_choices(counts: Mapping[str, int], metric: str | None) -> dict[str, Any]:
    """What a chart can draw across runs: every key runs logged a number under (the sweep metric
    first, then by name, each with how many runs have it) and what it can be drawn against."""
    keys = sorted((k for k in counts if not k.startswith("_")), key=lambda k: (k != metric, k))
    return {
        "metric": metric,
        "keys": [{"key": k, "runs": counts[k]} for k in keys],
        "x": [k for k in TIME_KEYS if k in counts] + [k for k in keys if k != metric],
    }


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
