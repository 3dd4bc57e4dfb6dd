"""How the dashboard shows a sweep's parameters: numbers on a linear or log axis, or categories.

The sweep's search space (``sweepkit.space``) decides: a categorical parameter is a category (its
values in the order the config lists them), a log-distributed one gets a log axis, a constant is
listed but left out of charts. Values that a run's config holds but the space would not produce
(a sweep whose config changed) are still shown; charts treat text as a category.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


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

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "log": self.log,
            "integer": self.integer,
            "constant": self.constant,
            "labels": self.labels,
        }


def label(value: Any) -> str:
    """A value as one line of text: text as it is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


def axes(config: dict[str, Any]) -> list[ParamAxis]:
    """The parameters of a stored sweep config, sorted by flat dotted name."""
    from sweepkit.space import SearchSpace

    out = []
    for param in SearchSpace.from_parameters(config.get("parameters") or {}):
        values = param.values
        categorical = param.is_categorical or param.is_constant
        if param.is_constant and values and _is_number(values[0]):
            categorical = False
        out.append(
            ParamAxis(
                name=param.name,
                kind="category" if categorical else "number",
                log=param.is_log_scaled,
                integer=param.is_integer,
                constant=param.is_constant,
                labels=[label(v) for v in values] if categorical and values is not None else None,
            )
        )
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
