"""The rules between sections of a config: metric needed by bayes and early_terminate, ``metric`` or
``metrics`` and what each needs, what ``scheduler`` excludes and which methods each engine runs
(W&B's rules, and sweepkit's extensions: ``metrics`` with grid, random or bayes; Optuna and Ax
engines that work), something for program agents to run, hyperband bands (from
``sweepkit.stopping.hyperband``), command references (``sweepkit.command_template``), a grid small
enough to enumerate. Each rule looks only at values that already have the right shape."""

from __future__ import annotations

import math
from typing import Any

from sweepkit.sweep_config.problems import Collector, found


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _user_proposes(data: dict[str, Any]) -> bool:
    """Whether the user's own ``scheduler.source`` proposes the runs (``sweepkit scheduler``)."""
    scheduler = data.get("scheduler")
    return isinstance(scheduler, dict) and bool(scheduler.get("source"))


def check_metric_needed(data: dict[str, Any], report: Collector) -> None:
    if "metric" in data or "metrics" in data:
        return
    if data.get("method") == "bayes" and not _user_proposes(data):
        report.error(
            ("metric",), "method bayes needs a metric to optimise: add metric: {name: ..., goal: ...}"
        )
    if data.get("method") == "custom" and not _user_proposes(data):
        report.error(
            ("metric",),
            "method custom (an Optuna sampler) needs a metric to optimise: add metric: {name: ..., goal: ...}",
        )
    if "early_terminate" in data:
        report.error(
            ("metric",),
            "early_terminate needs a metric to compare runs by: add metric: {name: ..., goal: ...}",
        )


#: The methods each scheduler engine runs (W&B's pairing): sweepkit's own methods for ``wandb``, the
#: engine's own sampler (``method: custom``) for the others.
METHODS_BY_ENGINE = {"wandb": ("grid", "random", "bayes"), "optuna": ("custom",), "ax": ("custom",)}
#: The settings engine ax takes (seed, and its initialisation budget).
AX_SETTINGS = ("seed", "n_startup_trials")
#: The package each built-in engine imports, and the extra that brings it.
ENGINE_PACKAGES = {"optuna": ("optuna", "optuna"), "ax": ("ax", "ax-platform")}
#: Optuna samplers that optimise one objective only.
SINGLE_OBJECTIVE_SAMPLERS = ("cmaes",)
#: Optuna samplers that need a package of their own (the ``optuna`` extra brings cmaes, not torch).
SAMPLER_PACKAGES = {"gp": "torch", "cmaes": "cmaes"}


def check_objectives(data: dict[str, Any], report: Collector) -> None:
    """``metric`` xor ``metrics``; the metrics' names distinct; several metrics need a method that can
    weigh them (custom: the engine's sampler; sweepkit also runs them with grid, random and bayes)."""
    metrics = data.get("metrics")
    if "metric" in data and "metrics" in data:
        report.error(
            ("metrics",),
            "metric and metrics cannot both be set: use metric for one objective, or metrics for several",
        )
        return
    if not isinstance(metrics, list):
        return
    seen: set[str] = set()
    for index, entry in enumerate(metrics):
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and name in seen:
            report.error(("metrics", index, "name"), f"{name!r} is listed twice; each metric once")
        if isinstance(name, str):
            seen.add(name)


def check_scheduler(data: dict[str, Any], report: Collector) -> None:
    """What ``scheduler`` excludes (``early_terminate``, a local ``controller``) and which method its
    engine runs; ``method: custom`` without a scheduler means Optuna's engine."""
    scheduler = data.get("scheduler")
    method = data.get("method")
    if not isinstance(scheduler, dict):
        if method == "custom":
            _check_engine_installed("optuna", ("method",), report)
        return
    if "early_terminate" in data:
        report.error(
            ("early_terminate",),
            "cannot be used together with scheduler: the scheduler's engine decides when runs stop",
        )
    controller = data.get("controller")
    if isinstance(controller, dict) and controller.get("type") == "local":
        report.error(
            ("controller",),
            "controller {type: local} cannot be used together with scheduler: use scheduler instead",
        )
    engine = scheduler.get("engine")
    if engine not in METHODS_BY_ENGINE:
        return  # the schema reports it
    methods = METHODS_BY_ENGINE[engine]
    if isinstance(method, str) and method not in methods:
        if engine == "wandb":
            advice = "set method to grid, random or bayes (sweepkit's own methods)"
        else:
            advice = f"write method: custom (the {engine} engine chooses the parameters itself)"
        report.error(("method",), f"scheduler.engine {engine} does not run method {method}: {advice}")
    settings = scheduler.get("settings")
    if engine == "ax" and not _user_proposes(data):
        _check_engine_installed("ax", ("scheduler", "engine"), report)
        extra = sorted(set(settings) - set(AX_SETTINGS)) if isinstance(settings, dict) else []
        for key in extra:
            report.error(
                ("scheduler", "settings", key),
                f"engine ax takes only {' and '.join(AX_SETTINGS)} in settings ({key} is for engine optuna)",
            )
    elif isinstance(settings, dict) and engine == "wandb":
        report.error(
            ("scheduler", "settings"), f"only engines optuna and ax take settings, not engine {engine}"
        )
    if engine == "optuna" and not _user_proposes(data):
        _check_engine_installed("optuna", ("scheduler", "engine"), report)
        sampler = settings.get("sampler") if isinstance(settings, dict) else None
        needs = SAMPLER_PACKAGES.get(sampler) if isinstance(sampler, str) else None
        if needs is not None:
            import importlib.util

            if importlib.util.find_spec(needs) is None:
                report.error(
                    ("scheduler", "settings", "sampler"),
                    f"{sampler} needs the package {needs} where the sweep runs: pip install {needs}",
                )
        if sampler in SINGLE_OBJECTIVE_SAMPLERS and isinstance(data.get("metrics"), list):
            report.error(
                ("scheduler", "settings", "sampler"),
                f"{sampler} optimises one metric only: use nsga2, tpe, gp, qmc or random with metrics",
            )


def _check_engine_installed(engine: str, path: tuple[str, ...], report: Collector) -> None:
    import importlib.util

    module, package = ENGINE_PACKAGES[engine]
    if importlib.util.find_spec(module) is None:
        report.error(
            path,
            f"the {engine} engine needs the package {package} where the sweep runs: "
            f"pip install 'sweepkit[{engine}]'",
        )


def check_runnable_by_program_agents(data: dict[str, Any], report: Collector) -> None:
    """A config with neither ``program`` nor ``command`` can be run only by function agents."""
    if "program" in data or "command" in data:
        return
    report.warn(
        ("program",),
        "not given, and no command either: program agents (sweepkit agent, sweepkit run) cannot run "
        "this sweep, only function agents (sweepkit.agent(sweep_id, function=train)) can",
        line_path=(None,),
    )


#: The most values an int_uniform or q_uniform range of a grid may hold (the grid lists them all).
MAX_GRID_VALUES = 1_000_000
#: The most points a grid may have: beyond, its counts stop being exact numbers in JSON and browsers.
MAX_GRID_POINTS = 2**53


def _grid_counts(parameters: dict[str, Any], prefix: str = "parameters") -> list[tuple[str, int, bool]]:
    """``(key path, number of grid values, whether they are a range)`` of each parameter of a
    normalized grid config (a range's values are listed by the grid; a categorical's are written out)."""
    counts = []
    for name, spec in parameters.items():
        path = f"{prefix}.{name}"
        if not isinstance(spec, dict):
            continue
        if isinstance(spec.get("parameters"), dict):
            counts += _grid_counts(spec["parameters"], f"{path}.parameters")
            continue
        kind, low, high = spec.get("distribution"), spec.get("min"), spec.get("max")
        if kind == "categorical" and isinstance(spec.get("values"), list):
            counts.append((path, len(spec["values"]), False))
        elif kind == "int_uniform" and _is_int(low) and _is_int(high):
            counts.append((path, max(0, high - low + 1), True))
        elif kind == "q_uniform" and _is_number(low) and _is_number(high) and _is_number(q := spec.get("q")):
            span = (high - low) / q if q > 0 else math.inf
            if math.isfinite(span):
                counts.append((path, max(0, math.ceil(span)), True))
    return counts


def check_grid_size(data: dict[str, Any], parameters: dict[str, Any] | None, report: Collector) -> None:
    """A grid too large to enumerate is refused here, in one sentence, not by a failing agent."""
    if data.get("method") != "grid" or not parameters:
        return
    counts = _grid_counts(parameters)
    for path, count, ranged in counts:
        if ranged and count > MAX_GRID_VALUES:
            report.error(
                tuple(path.split(".")),
                f"{count:,} grid values, more than the {MAX_GRID_VALUES:,} one grid parameter may list; "
                "use method random or bayes, or a coarser range (q_uniform with a larger q)",
            )
    if report.errors or any(count == 0 for _path, count, _ranged in counts):
        return
    digits = sum(math.log10(count) for _path, count, _ranged in counts)
    if digits > math.log10(MAX_GRID_POINTS):
        path, most, _ranged = max(counts, key=lambda item: item[1])
        report.error(
            ("parameters",),
            f"method grid: these {len(counts):,} parameters make a grid of about 10^{digits:.0f} points, more "
            f"than the 2^53 a grid can enumerate (the most values: {path}, {most:,}); use method random or "
            "bayes (with run_cap), or fewer values",
        )


def check_early_terminate(data: dict[str, Any], report: Collector) -> None:
    et = data.get("early_terminate")
    if not isinstance(et, dict) or et.get("type") != "hyperband":
        return
    eta = et.get("eta", 3)
    if not (_is_number(eta) and eta > 1):
        return  # the schema reports it
    max_iter, s, min_iter = et.get("max_iter"), et.get("s"), et.get("min_iter")
    uses_max = _is_int(max_iter) and _is_int(s)
    if not uses_max and not _is_int(min_iter):
        return  # the schema reports the missing or mistyped key
    from sweepkit.stopping.hyperband import bands as hyperband_bands

    try:
        bands = hyperband_bands(et)[:8]
    except ValueError:
        return  # a mistyped key: the schema reports it
    path = ("early_terminate",)
    if not bands and uses_max:
        report.error(
            path,
            f"no band: max_iter {found(max_iter)} divided by eta {found(eta)} up to s={found(s)} times never "
            "stays >= 1; raise max_iter or s, or lower eta",
        )
        return
    shown = ", ".join(map(str, bands)) + (", ..." if not uses_max else "")
    if uses_max and "min_iter" in et:
        report.warn(path + ("min_iter",), f"ignored: max_iter and s are given and win (bands {shown})")
    if not uses_max and "max_iter" in et:
        report.warn(path + ("max_iter",), f"ignored without s: the bands come from min_iter ({shown})")
    if not uses_max and "s" in et:
        report.warn(path + ("s",), f"ignored without max_iter: the bands come from min_iter ({shown})")


def _parameter_names(parameters: Any, prefix: str = "") -> set[str]:
    names: set[str] = set()
    if not isinstance(parameters, dict):
        return names
    for name, spec in parameters.items():
        flat = f"{prefix}{name}"
        names.add(flat)
        if isinstance(spec, dict) and isinstance(spec.get("parameters"), dict):
            names |= _parameter_names(spec["parameters"], flat + ".")
    return names


def check_command(data: dict[str, Any], report: Collector) -> None:
    """References no run can render are errors (the renderer's own verdict); a command that never
    passes the parameters gets a warning."""
    from sweepkit.command_template import reference_problems, unquoted_in_shell, uses_args_macro

    command = data.get("command")
    if not isinstance(command, list) or not command:
        return
    for index, message in reference_problems(command, _parameter_names(data.get("parameters"))):
        report.error(("command", index), message)
    if not uses_args_macro(command):
        report.warn(
            ("command",),
            "no ${args...} macro: the parameters reach the program only through the run's config "
            "(add ${args}, ${args_no_hyphens}, ... to pass them on the command line)",
        )
    for index, name in unquoted_in_shell(command):
        report.warn(
            ("command", index),
            f"${{{name}}} inside a shell script reaches the shell unquoted: a value with a space, a quote "
            f"or $(...) breaks the script or runs as code; write ${{quoted:{name}}}",
        )
