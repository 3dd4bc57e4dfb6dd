"""Runs side by side: each one's config and summary as rows of values, the rows that differ marked.

What the sweep page's comparison shows: for a few runs (at most ``MAX_RUNS``), every config key
(nested groups as dotted names) and every summary key the program logged (not ``_runtime`` and
the like), each with the runs' values in the order asked for. Long text is cut, logged media are
named by kind (the run's page shows them), and a row *differs* when the runs' values are not all
equal (a run without the key counts as a different value).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sweepkit.runs import Objective
from sweepkit.service import RunInfo

#: The most runs compared at once.
MAX_RUNS = 20
#: Text longer than this is cut (the run's page shows it whole).
MAX_TEXT = 200


def flat(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested groups as dotted names (``{"opt": {"lr": 1}}`` -> ``{"opt.lr": 1}``); media stay whole."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and item and "_type" not in item:
            out.update(flat(item, f"{name}."))
        else:
            out[name] = item
    return out


def shown(value: Any) -> Any:
    """A value as a comparison cell: numbers, booleans and short text as they are; long text cut;
    logged media named by kind; lists and groups as JSON text."""
    if value is None or isinstance(value, (bool, int, float)):
        return (
            value
            if not isinstance(value, float) or value == value and abs(value) != float("inf")
            else str(value)
        )
    if isinstance(value, Mapping) and isinstance(value.get("_type"), str):
        return media_label(value)
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    return text if len(text) <= MAX_TEXT else f"{text[:MAX_TEXT]}… ({len(text):,} characters)"


def media_label(ref: Mapping[str, Any]) -> str:
    """A logged media value in a few words: ``image 28×28``, ``table 10×3``, ``histogram``."""
    kind = str(ref.get("_type")).removesuffix("-file")
    if kind == "image" and "width" in ref and "height" in ref:
        return f"image {ref['width']}×{ref['height']}"
    if kind == "table" and "nrows" in ref and "ncols" in ref:
        return f"table {ref['nrows']} rows × {ref['ncols']} columns"
    return kind


def rows(values: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One row per key any of ``values`` has, in the order first seen: the values and whether they differ."""
    keys: dict[str, None] = {}
    for each in values:
        keys.update(dict.fromkeys(each))
    missing = object()
    out = []
    for key in keys:
        cells = [each.get(key, missing) for each in values]
        texts = {
            json.dumps(c, sort_keys=True, default=str) if c is not missing else "\0missing" for c in cells
        }
        out.append(
            {
                "key": key,
                "values": [None if c is missing else shown(c) for c in cells],
                "differs": len(texts) > 1,
            }
        )
    return out


def compare(runs: Sequence[RunInfo], objective: Objective | None) -> dict[str, Any]:
    """The comparison of ``runs`` (see the module docstring)."""
    return {
        "runs": [
            {
                "number": run.number,
                "id": run.id,
                "name": run.name,
                "state": run.state.value,
                "value": run.value(objective),
                "duration": run.duration_s,
            }
            for run in runs
        ],
        "config": rows([flat(run.config) for run in runs]),
        "summary": rows(
            [{k: v for k, v in flat(run.summary).items() if not k.startswith("_")} for run in runs]
        ),
    }
