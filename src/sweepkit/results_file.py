"""Files of points to queue and of results to import, and an earlier sweep's runs as rows to import.

- ``read_points(path)``: the points of ``sweepkit sweep --add``: a YAML or JSON file holding one
  mapping of parameter to value, a list of them, or ``{"points": [...]}``; or JSON lines.
- ``read_results(path, parameters)``: the rows of ``sweepkit import``, from CSV or JSON lines (or a
  JSON list): flat columns (those named after a sweep parameter, or ``config.NAME``, are parameters,
  the others metric values; ``summary.NAME`` is a metric), or W&B's runs export shape,
  ``{"name": ..., "config": {...}, "summary": {...}}`` (config values as ``{"value": ...}`` too).
  CSV cells are read as JSON where they are (numbers, true/false, null) and as text otherwise; an
  empty cell is no value. Each row carries its ``label`` (``line 12``) for the service's messages.
- ``runs_as_rows(runs)``: an earlier sweep's finished runs as such rows (a warm start).

Syntax errors are one sentence with the file and line; rows that do not fit the sweep are judged by
the service (``SweepService.import_runs``), not here.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError


def read_points(path: str | Path) -> list[dict[str, Any]]:
    """The points in a YAML, JSON or JSON-lines file (see the module docstring)."""
    path = Path(path)
    text = _text(path)
    if path.suffix in (".jsonl", ".ndjson"):
        data: Any = [row for _, row in _json_lines(path, text)]
    else:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            mark = getattr(err, "problem_mark", None)
            where = f", line {mark.line + 1}" if mark is not None else ""
            raise SweepkitError(f"{path}{where}: not YAML or JSON ({getattr(err, 'problem', err)})") from None
    if isinstance(data, Mapping) and isinstance(data.get("points"), list):
        data = data["points"]
    if isinstance(data, Mapping):
        data = [data]
    if not isinstance(data, list) or not data or not all(isinstance(p, Mapping) for p in data):
        raise SweepkitError(
            f"{path}: expected a mapping of parameter to value, or a list of them (under 'points' or alone)"
        )
    return [dict(p) for p in data]


def parse_params(text: str) -> list[dict[str, Any]]:
    """``--params JSON``: one point (a JSON object) or a list of them."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SweepkitError(f"--params: not JSON ({err.msg} at character {err.pos})") from None
    data = [data] if isinstance(data, Mapping) else data
    if not isinstance(data, list) or not data or not all(isinstance(p, Mapping) for p in data):
        raise SweepkitError("--params: expected a JSON object of parameter to value, or a list of them")
    return [dict(p) for p in data]


def read_results(path: str | Path, parameters: Sequence[str]) -> list[dict[str, Any]]:
    """The rows of a CSV, JSON-lines or JSON results file, each ``{"params", "metrics", "label"}``."""
    path = Path(path)
    text = _text(path)
    names = set(parameters)
    if path.suffix == ".csv" or (
        path.suffix not in (".json", ".jsonl", ".ndjson") and "," in text.split("\n")[0]
    ):
        return [_row(cells, names, label) for label, cells in _csv_rows(path, text)]
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise SweepkitError(f"{path}, line {err.lineno}: not JSON ({err.msg})") from None
        return [_row(item, names, f"item {i}") for i, item in enumerate(data, 1)]
    return [_row(item, names, f"line {line}") for line, item in _json_lines(path, text)]


def runs_as_rows(runs: Iterable[Any]) -> list[dict[str, Any]]:
    """Finished runs of an earlier sweep (``RunInfo``) as rows to import: parameters, summary and the
    value the sweep ranked each by."""
    return [
        {
            "params": dict(run.params),
            "metrics": {**run.summary, **{k: v for k, v in run.objective_values.items() if v is not None}},
            "name": run.name,
            "label": f"run {run.id}",
        }
        for run in runs
    ]


def _text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise SweepkitError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise SweepkitError(f"{path}: cannot be read ({err})") from None


def _json_lines(path: Path, text: str) -> list[tuple[int, Any]]:
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((number, json.loads(line)))
        except json.JSONDecodeError as err:
            raise SweepkitError(f"{path}, line {number}: not JSON ({err.msg})") from None
    return out


def _csv_rows(path: Path, text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(text.splitlines(keepends=True))
    out = []
    try:
        for record in reader:
            cells = {k: _cell(v) for k, v in record.items() if k is not None and v not in (None, "")}
            out.append((f"line {reader.line_num}", cells))
    except csv.Error as err:
        raise SweepkitError(f"{path}, line {reader.line_num}: not CSV ({err})") from None
    return out


def _cell(text: str) -> Any:
    """A CSV cell: JSON where it is (3, 0.1, true, null, [1, 2]), else the text."""
    try:
        return json.loads(text)
    except (json.JSONDecodeError, ValueError):
        return text


def _row(item: Any, names: set[str], label: str) -> dict[str, Any]:
    if not isinstance(item, Mapping):
        return {"params": None, "label": label}  # the service says what was expected
    name = item.get("name") if isinstance(item.get("name"), str) else None
    if isinstance(item.get("config"), Mapping):  # W&B's runs export
        params = {k: _unwrapped(v) for k, v in item["config"].items() if not str(k).startswith("_")}
        summary = item.get("summary")
        metrics = dict(summary) if isinstance(summary, Mapping) else {}
        return {"params": params, "metrics": metrics, "name": name, "label": label}
    params, metrics = {}, {}
    for key, value in item.items():
        key = str(key)
        if key.startswith("config.") or key.startswith("config/"):
            params[key[7:]] = value
        elif key.startswith("summary.") or key.startswith("summary/"):
            metrics[key[8:]] = value
        elif key in names:
            params[key] = value
        elif key != "name":
            metrics[key] = value
    return {"params": params, "metrics": metrics, "name": name, "label": label}


def _unwrapped(value: Any) -> Any:
    """A W&B config value as exported: ``{"value": x, "desc": ...}`` -> ``x``."""
    if isinstance(value, Mapping) and "value" in value and set(value) <= {"value", "desc"}:
        return value["value"]
    return value
