"""The rules between sections of a config: metric needed by bayes and early_terminate, hyperband
bands, command macros. Each rule looks only at values that already have the right shape."""

from __future__ import annotations

import re
from typing import Any

from sweepkit.sweep_config.problems import Collector, found

# whole-argument macros that pass the parameters to the program (SPEC 4)
ARGS_MACROS = (
    "${args}",
    "${args_no_equals}",
    "${args_no_hyphens}",
    "${args_no_boolean_flags}",
    "${args_append_hydra}",
    "${args_override_hydra}",
    "${args_json}",
    "${args_json_file}",
)
OTHER_MACROS = ("${env}", "${interpreter}", "${program}")
_MACRO = re.compile(r"\$\{([^}]*)\}")
MAX_BANDS = 1000


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def hyperband_bands(early_terminate: dict[str, Any], *, limit: int = MAX_BANDS) -> list[int]:
    """The iterations at which hyperband compares runs (SPEC 3), at most ``limit`` of them.

    From ``max_iter`` and ``s``: ``floor(max_iter / eta^k)`` for k = 1..s, values >= 1, sorted.
    Otherwise from ``min_iter``: ``int(min_iter * eta^k)`` for k = 0, 1, 2, ... Empty when neither
    gives a band.
    """
    eta = early_terminate.get("eta", 3)
    max_iter, s, min_iter = (early_terminate.get(k) for k in ("max_iter", "s", "min_iter"))
    bands: list[int] = []
    try:
        if _is_number(max_iter) and _is_int(s):
            band = max_iter
            for _ in range(min(s, limit)):
                band = band / eta
                if band < 1:
                    break
                bands.append(int(band))
            return sorted(bands)
        if _is_number(min_iter):
            band = min_iter
            bands.append(int(band))
            while len(bands) < limit and band < 2**62:
                band = band * eta
                bands.append(int(band))
    except (OverflowError, ValueError, ZeroDivisionError):
        pass  # numbers beyond floats: keep the bands found so far
    return sorted(bands)


def check_metric_needed(data: dict[str, Any], report: Collector) -> None:
    if "metric" in data:
        return
    if data.get("method") == "bayes":
        report.error(
            ("metric",), "method bayes needs a metric to optimise: add metric: {name: ..., goal: ...}"
        )
    if "early_terminate" in data:
        report.error(
            ("metric",),
            "early_terminate needs a metric to compare runs by: add metric: {name: ..., goal: ...}",
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
    bands = hyperband_bands(et, limit=8)
    path = ("early_terminate",)
    if not bands:
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
    """Warn when a command never passes the parameters, or names a macro nothing fills."""
    command = data.get("command")
    if not isinstance(command, list) or not command:
        return
    names = _parameter_names(data.get("parameters"))
    passes_args = False
    for index, element in enumerate(command):
        if not isinstance(element, str):
            continue
        for match in _MACRO.finditer(element):
            macro, inner = match.group(0), match.group(1)
            if macro in ARGS_MACROS or inner in names:
                passes_args = True
            elif macro in OTHER_MACROS or inner.startswith("envvar:"):
                continue
            else:
                report.warn(
                    ("command", index),
                    f"{macro} is neither a macro nor a parameter name; it is passed to the program as written",
                )
    if not passes_args:
        report.warn(
            ("command",),
            "no ${args...} macro: the parameters reach the program only through the run's config "
            "(add ${args}, ${args_no_hyphens}, ... to pass them on the command line)",
        )
