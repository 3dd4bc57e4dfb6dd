"""What changing a sweep's config does to it, said before it is applied; and what cannot be honoured.

``describe_change(old, new, runs, defaults)`` compares two ``SweepPolicy`` of one sweep with the
runs it has, and returns one sentence per effect: parameters added (with the value earlier runs are
taken to have had), removed or changed; how a grid grows or shrinks and how many of its points
already ran (a grid never runs a point again); how many earlier runs the new space cannot express
(bayes keeps the others as observations and ignores these); the method, ``run_cap``,
``early_terminate``, metric goal and command. A change that cannot be honoured raises
``ConflictError`` in one sentence: the metric's name (the runs' values are kept for the old one), or
a default for a parameter the change does not add or that does not fit it. Pure: no store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sweepkit.errors import ConflictError
from sweepkit.runs import RunState, RunView
from sweepkit.space.membership import describe, outside, value_fits


def describe_change(
    old: Any, new: Any, runs: Sequence[RunView], defaults: Mapping[str, Any], *, where: str
) -> list[str]:
    """The effects of replacing ``old`` by ``new`` (both ``SweepPolicy``) on a sweep with ``runs``."""
    if old.metric_name is not None and new.metric_name != old.metric_name:
        raise ConflictError(
            f"{where}: metric.name: cannot change a sweep's metric from {old.metric_name!r} to "
            f"{new.metric_name!r} (its runs' values are kept for {old.metric_name!r}); create a new sweep "
            "instead (sweepkit sweep NEW.yaml --from ID takes its runs along)"
        )
    old_params = {p.name: p for p in old.space}
    new_params = {p.name: p for p in new.space}
    added = [name for name in new_params if name not in old_params]
    for name, value in defaults.items():
        if name not in added:
            raise ConflictError(
                f"{where}: default {name}: only a parameter the new config adds takes a default "
                f"(it adds {', '.join(added) if added else 'none'})"
            )
        if not value_fits(new_params[name], value):
            raise ConflictError(
                f"{where}: default {name}: expected {describe(new_params[name])}, got {value!r}"
            )
    earlier = [run for run in runs if run.state != RunState.PENDING]
    n = len(earlier)
    out: list[str] = []
    if new.config.method != old.config.method:
        out.append(
            f"method {old.config.method} -> {new.config.method}: {_the(n)} stay, and the new method "
            "goes on from them"
        )
    for name in added:
        param = new_params[name]
        if not n:
            out.append(f"parameter {name} added")
        elif name in defaults:
            out.append(
                f"parameter {name} added: {_the(n)} {'is' if n == 1 else 'are'} taken to have had "
                f"{name}={defaults[name]!r}"
            )
        elif param.is_constant:
            out.append(f"parameter {name} added (a constant): earlier runs are taken to have had it")
        else:
            out.append(
                f"parameter {name} added without a default: {_the(n)} {'has' if n == 1 else 'have'} no value "
                f"for it and count as outside the new space (give a default, e.g. --default {name}=VALUE, to keep them)"
            )
    for name in old_params:
        if name not in new_params:
            out.append(f"parameter {name} removed: earlier runs keep their values, which no longer count")
        elif old_params[name] != new_params[name]:
            out.append(f"parameter {name}: {describe(old_params[name])} -> {describe(new_params[name])}")
    fill = {**{p.name: p.values[0] for p in new.space if p.is_constant and p.name in added}, **defaults}
    seen = [replace(run, params={**fill, **run.params}) for run in runs]
    queued = [run for run in seen if run.state == RunState.PENDING]
    out += _space_effects(old, new, [run for run in seen if run.state != RunState.PENDING], queued)
    stray = sum(1 for run in queued if outside(new.space, run.params) is not None)
    if stray:
        out.append(
            f"{stray} of {len(queued)} queued runs fall outside the new space: they still run as queued "
            "(sweepkit runs --delete removes them)"
        )
    out += _other_effects(old, new, n)
    return out


def _the(n: int) -> str:
    return "the earlier run" if n == 1 else f"the {n} earlier runs"


def _space_effects(old: Any, new: Any, runs: list[RunView], queued: list[RunView]) -> list[str]:
    """How the method sees the earlier runs (and the queued ones) in the new space (nothing when
    neither changed)."""
    method = new.config.method
    if method == old.config.method and list(new.space) == list(old.space):
        return []
    if method == "grid":
        from sweepkit.search.grid import grid_size, points_used

        size = grid_size(new.space)
        used = points_used(new.space, runs)
        taken = points_used(new.space, runs + queued)  # queued points are not new either
        before = _old_grid_size(old)
        if before is None or before == size:
            head = f"the grid has {size} points"
        else:
            head = f"the grid {'grows' if size > before else 'shrinks'} from {before} to {size} points"
        waiting = f", {taken - used} queued" if taken > used else ""
        return [f"{head}; {used} already ran{waiting}, {size - taken} new (a grid never runs a point again)"]
    out_count = sum(1 for run in runs if outside(new.space, run.params) is not None)
    if not runs:
        return []
    if method == "bayes":
        if out_count:
            return [
                f"{out_count} of {len(runs)} earlier runs fall outside the new space: bayes ignores them "
                f"and keeps the other {len(runs) - out_count} as observations"
            ]
        return [f"all {len(runs)} earlier runs lie in the new space: bayes keeps them all as observations"]
    if out_count:
        return [
            f"{out_count} of {len(runs)} earlier runs fall outside the new space (random draws from the new one)"
        ]
    return []


def _old_grid_size(old: Any) -> int | None:
    if old.config.method != "grid":
        return None
    from sweepkit.search.grid import grid_size

    return grid_size(old.space)


def _other_effects(old: Any, new: Any, n: int) -> list[str]:
    out = []
    old_cfg, new_cfg = old.config, new.config
    if new_cfg.run_cap != old_cfg.run_cap:
        if new_cfg.run_cap is None:
            out.append(f"run_cap {old_cfg.run_cap} removed: the method decides when the sweep ends")
        else:
            left = max(0, new_cfg.run_cap - n)
            out.append(
                f"run_cap {old_cfg.run_cap} -> {new_cfg.run_cap}: {n} runs so far, {left} more to hand out"
            )
    if (old_cfg.early_terminate or None) != (new_cfg.early_terminate or None):
        out.append(
            "early_terminate changed: the new rule judges values logged from now on; runs already stopped "
            "stay stopped"
        )
    out += _goal_changes(old, new)
    if (old_cfg.data.get("command"), old_cfg.program) != (new_cfg.data.get("command"), new_cfg.program):
        out.append("command changed: runs handed out from now on get the new one; running runs keep theirs")
    return out


def _goal_changes(old: Any, new: Any) -> list[str]:
    """A sentence for each objective whose goal the change turns around, by its key path (``metric.goal``,
    or ``metrics[i].goal`` for a sweep of several objectives)."""
    old_goals = {objective.name: objective.goal for objective in old.objectives}
    several = "metrics" in new.config.data
    out = []
    for i, objective in enumerate(new.objectives):
        was = old_goals.get(objective.name)
        if was is not None and objective.goal != was:
            where = f"metrics[{i}].goal ({objective.name})" if several else "metric.goal"
            out.append(f"{where} {was} -> {objective.goal}: every run is ranked by the new goal")
    return out
