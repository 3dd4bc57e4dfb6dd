"""How the dashboard shows a sweep's parameters: numbers on a linear or log axis, or categories.

The sweep's plan (``SweepInfo.plan.parameters``, the service's reading of its space) decides: a
categorical parameter is a category (its values in the order the config lists them), a
log-distributed one gets a log axis, a constant is listed but left out of charts. Values that a run's config holds but the space would not produce
(a sweep whose config changed) are still shown; charts treat text as a category. A conditional
parameter (``when``) is missing from the runs whose values make it inactive: charts leave it out
of those runs (no point on its axis, no "null" category), never draw it as zero.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from sweepkit.service.types import Parameter


@dataclass(frozen=True)
class ParamAxis:
    """One parameter as charts draw it."""

    name: str
    #: "number" or "category".
    kind: str
    log: bool
    integer: bool
    constant: bool
    #: A category's values as labels, in the config's order (None for numbers).
    labels: list[str] | None
    #: It exists only under a condition: runs without it hold no value for it.
    conditional: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def label(value: Any) -> str:
    """A value as one line of text: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def axes(parameters: Sequence[Parameter]) -> list[ParamAxis]:
    """The sweep's parameters (its plan's), sorted by flat dotted name."""
    out = []
    for param in sorted(parameters, key=lambda p: p.name):
        values = param.values
        categorical = param.kind in ("category", "constant")
        if param.kind == "constant" and values and _is_number(values[0]):
            categorical = False
        out.append(
            ParamAxis(
                name=param.name,
                kind="category" if categorical else "number",
                log=param.log,
                integer=param.integer,
                constant=param.kind == "constant",
                labels=[label(v) for v in values] if categorical and values is not None else None,
                conditional=bool(param.when),
            )
        )
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
