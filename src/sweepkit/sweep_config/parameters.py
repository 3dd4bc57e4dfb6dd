"""Checking the parameter tree and filling it in: each leaf gets its distribution and defaults.

A parameter is a mapping: a distribution (explicit ``distribution`` or inferred from its keys) or
a nested group ``{parameters: {...}}``, at any depth. Every problem is reported, none stops the walk.
"""

from __future__ import annotations

import math
import re
from typing import Any

from sweepkit.sweep_config import schema_quick
from sweepkit.sweep_config.conditions import ConditionChecker
from sweepkit.sweep_config.distributions import (
    EXPONENT_KINDS,
    GRID_KINDS,
    SPEC_KEYS,
    defaults_of,
    infer_kind,
    keys_of,
    kinds,
)
from sweepkit.sweep_config.jsonsafe import canonical_key
from sweepkit.sweep_config.problems import Collector, KeyPath, did_you_mean, format_path, found, one_of
from sweepkit.sweep_config.schema import check_definition

NAME_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")
PROBABILITY_TOLERANCE = 1e-6
# legacy exponent bounds above this look like raw values: e^30 is about 1e13
EXPONENT_LOOKS_RAW_ABOVE = 30.0

_NUMERIC_KINDS = frozenset(kinds()) - {"constant", "categorical", "categorical_w_probabilities"}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _num(value: Any) -> str:
    try:
        return f"{value:g}"
    except (OverflowError, ValueError):
        return repr(value)


def _sum(weights: list[Any]) -> float:
    try:
        return math.fsum(weights)
    except (OverflowError, ValueError):
        return math.inf


class ParameterChecker:
    """Walks ``parameters`` once, reporting problems and building the normalized tree."""

    def __init__(self, report: Collector, method: str | None) -> None:
        self.report = report
        self.method = method if method in ("grid", "random", "bayes") else None
        self.flat_names: dict[str, KeyPath] = {}
        self.conditional: set[str] = set()
        self.conditions = ConditionChecker(report)

    def check(self, parameters: dict[str, Any], path: KeyPath = ("parameters",)) -> dict[str, Any]:
        out = self._check_group(parameters, path, ())
        if self.conditions.whens:
            self.conditions.check()
        return out

    def _check_group(
        self, parameters: dict[str, Any], path: KeyPath, prefix: tuple[str, ...]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, spec in parameters.items():
            at = path + (name,)
            if not isinstance(name, str) or not NAME_PATTERN.match(name):
                self.report.error(
                    at,
                    f"parameter name {found(name)} is not allowed: a name starts with a letter or _ and "
                    "holds only letters, digits, _, . and -",
                )
            flat = ".".join(prefix + (str(name),))
            is_group = isinstance(spec, dict) and "parameters" in spec
            if isinstance(spec, dict) and "when" in spec:
                self.conditional.add(flat)
                self.conditions.add_when(at + ("when",), flat, spec["when"], group=is_group)
            if not is_group:
                self._register_flat_name(flat, at)
            else:
                self.conditions.add_group(flat)
            normalized = self._check_parameter(spec, at, prefix + (str(name),))
            if normalized is not None:
                out[name] = normalized
                if "distribution" in normalized:
                    self.conditions.add_leaf(flat, normalized)
        return out

    def _register_flat_name(self, flat: str, at: KeyPath) -> None:
        other = self.flat_names.get(flat)
        if other is None:
            self.flat_names[flat] = at
            return
        if self.conditional & {flat, *_prefixes(flat)}:
            self.report.error(
                at,
                f"conditional parameter {flat!r} shadows {format_path(other)} (the same flat name): "
                "two branches cannot share a name, so give each its own (sgd_lr, adam_lr)",
            )
            return
        self.report.error(
            at,
            f"flat name {flat!r} is also the flat name of {format_path(other)}; "
            "the runs could not tell the two apart, so rename one",
        )

    def _check_parameter(self, spec: Any, at: KeyPath, prefix: tuple[str, ...]) -> dict[str, Any] | None:
        report = self.report
        if not isinstance(spec, dict):
            hint = (
                f"; for a constant write {{value: {found(spec)}}}"
                if not isinstance(spec, (dict, list))
                else ""
            )
            if isinstance(spec, list):
                hint = "; for a list of choices write {values: [...]}"
            report.error(
                at,
                "expected a mapping such as {value: ...}, {values: [...]}, {min: ..., max: ...} "
                f"or {{parameters: {{...}}}}, got {found(spec)}{hint}",
            )
            return None
        if "parameters" in spec:
            return self._check_nested(spec, at, prefix)
        return self._check_leaf(spec, at)

    def _check_nested(
        self, spec: dict[str, Any], at: KeyPath, prefix: tuple[str, ...]
    ) -> dict[str, Any] | None:
        report = self.report
        for key in spec:
            if key in ("parameters", "when"):
                continue
            if key in SPEC_KEYS:
                report.error(
                    at + (key,),
                    f"key {key!r} next to 'parameters': a parameter is either a nested group "
                    "{parameters: {...}} or a distribution, not both",
                )
            else:
                report.error(
                    at + (key,), f"key {key!r} is not allowed in a nested group (it takes only parameters)"
                )
        inner = spec["parameters"]
        if not isinstance(inner, dict):
            report.error(at + ("parameters",), f"expected a mapping of parameters, got {found(inner)}")
            return None
        if not inner:
            report.error(
                at + ("parameters",), "expected at least one parameter in the nested group, got none"
            )
            return None
        group = {"parameters": self._check_group(inner, at + ("parameters",), prefix)}
        if "when" in spec:
            group["when"] = spec["when"]
        return group

    def _check_leaf(self, spec: dict[str, Any], at: KeyPath) -> dict[str, Any] | None:
        report = self.report
        if "distribution" in spec:
            kind = spec["distribution"]
            if not isinstance(kind, str) or kind not in kinds():
                choice = did_you_mean(kind, kinds())
                report.error(
                    at + ("distribution",),
                    f"{found(kind)} is not a known distribution{choice or ' (known: ' + ', '.join(kinds()) + ')'}",
                )
                return None
            how = "given by 'distribution'"
            inferred = False
        else:
            guess = infer_kind(spec)
            if guess is None:
                self._report_unresolvable(spec, at)
                return None
            kind, how = guess
            how = f"inferred from {how}"
            inferred = True

        allowed = keys_of(kind)
        ok = schema_quick.accepts(kind, spec) or check_definition(
            kind,
            spec,
            at,
            report,
            what=kind,
            how=how,
            hints=lambda key: _hint_for_key(kind, key),
        )
        self._check_rules(kind, spec, at)
        self._check_grid(kind, at)
        normalized: dict[str, Any] = {"distribution": kind}
        defaults = defaults_of(kind)
        for key in allowed[1:]:
            if key in spec:
                normalized[key] = spec[key]
            elif key in defaults:
                normalized[key] = defaults[key]
        for key in spec:  # not allowed keys are errors already; kept so nothing is silently lost
            if key not in normalized and key != "distribution":
                normalized[key] = spec[key]
        if ok:
            self._warn(kind, spec, at, inferred)
        return normalized

    def _report_unresolvable(self, spec: dict[str, Any], at: KeyPath) -> None:
        report = self.report
        if not spec:
            report.error(
                at, "empty parameter: give value, values, min and max, a distribution, or parameters"
            )
            return
        keys = list(spec)
        if any(k in spec for k in ("mu", "sigma", "a", "b", "q")):
            report.error(
                at,
                f"cannot tell the distribution from keys {', '.join(map(repr, keys))}: "
                "normal, log_normal, beta and the q_ kinds need an explicit 'distribution'",
            )
            return
        if all(isinstance(v, dict) for v in spec.values()):
            report.error(
                at,
                f"a mapping of {', '.join(map(repr, keys))} with no distribution keys: to nest parameters, "
                "put them under a 'parameters:' key",
            )
            return
        misspelt = [(k, did_you_mean(k, SPEC_KEYS + ("parameters",))) for k in keys]
        if any(hint for _, hint in misspelt):
            for key, hint in misspelt:
                if hint:
                    report.error(at + (key,), f"unknown key {key!r}{hint}")
            return
        report.error(
            at,
            f"cannot tell the distribution from keys {', '.join(map(repr, keys))}: expected value, values, "
            "min and max, a distribution, or a nested group {parameters: {...}}",
        )

    def _check_rules(self, kind: str, spec: dict[str, Any], at: KeyPath) -> None:
        """The rules the schema cannot say (each looks only at values of the right type)."""
        report = self.report
        low, high = spec.get("min"), spec.get("max")
        if _is_number(low) and _is_number(high) and not low < high:
            report.error(
                at + ("min",), f"min must be less than max, got min {found(low)} and max {found(high)}"
            )
        values, weights = spec.get("values"), spec.get("probabilities")
        if isinstance(values, list) and isinstance(weights, list) and weights:
            if len(values) != len(weights):
                report.error(
                    at + ("probabilities",),
                    f"expected one probability per value ({len(values)}), got {len(weights)}",
                )
            if all(_is_number(w) for w in weights):
                total = _sum(weights)
                if not abs(total - 1.0) <= PROBABILITY_TOLERANCE:
                    report.error(
                        at + ("probabilities",), f"probabilities must sum to 1, they sum to {_num(total)}"
                    )

    def _check_grid(self, kind: str, at: KeyPath) -> None:
        if self.method == "grid" and kind not in GRID_KINDS:
            self.report.error(
                at,
                f"distribution {kind} cannot be used with method grid (grid takes {one_of(GRID_KINDS)}); "
                "list the values to try with values: [...]",
            )

    def _warn(self, kind: str, spec: dict[str, Any], at: KeyPath, inferred: bool) -> None:
        report = self.report
        low, high = spec.get("min"), spec.get("max")
        exponents = kind in EXPONENT_KINDS and _is_number(low) and _is_number(high)
        if exponents and ((low > 0 and high <= 1) or high > EXPONENT_LOOKS_RAW_ABOVE):
            report.warn(
                at,
                f"{kind} takes natural-log exponents (values from e^{_num(low)} to e^{_num(high)}); bounds "
                f"{_num(low)}..{_num(high)} look like raw values: did you mean {kind}_values?",
            )
        if inferred and kind == "int_uniform" and low == 0 and high == 1:
            report.warn(
                at,
                "min 0 and max 1 are integers, so this is int_uniform and only 0 or 1 are drawn; "
                "write 0.0 and 1.0 (or distribution: uniform) for a real range",
            )
        if kind in ("categorical", "categorical_w_probabilities"):
            seen: dict[Any, int] = {}
            for index, value in enumerate(spec["values"]):
                key = canonical_key(value)
                if key in seen:
                    effect = (
                        "the grid tries the same point twice"
                        if self.method == "grid"
                        else "the value is drawn more often than the others"
                    )
                    report.warn(
                        at + ("values", index),
                        f"duplicate value {found(value)} (same as values[{seen[key]}]): {effect}",
                    )
                else:
                    seen[key] = index


def _prefixes(flat: str) -> list[str]:
    """``a.b.c`` -> ``[a, a.b]``: the groups a flat name may sit in."""
    parts = flat.split(".")
    return [".".join(parts[:n]) for n in range(1, len(parts))]


def _hint_for_key(kind: str, key: Any) -> str:
    """Advice for a key that ``kind`` does not take."""
    if key == "values" and kind in _NUMERIC_KINDS:
        return f"; to choose from a list, drop 'distribution: {kind}' (or use categorical)"
    if key == "probabilities" and kind == "categorical":
        return "; use distribution: categorical_w_probabilities"
    if key == "q" and f"q_{kind}" in kinds():
        return f"; did you mean distribution: q_{kind}?"
    if key == "value" and kind != "constant":
        return "; for a constant drop 'distribution' (or use constant)"
    if key == "parameters":
        return "; a nested group takes only 'parameters'"
    return ""  # the caller suggests the closest key the parameter does not have yet
