"""Runs as rows: flattened dotted columns, and plain-text tables and CSV for people and tools."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"opt": {"lr": 1}}`` -> ``{"opt.lr": 1}``."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, Mapping) and item:
            out.update(flatten(item, name + "."))
        else:
            out[name] = item
    return out


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def run_rows(runs: Sequence[dict[str, Any]], metric: str | None) -> tuple[list[str], list[list[str]]]:
    """Column names and rows for ``sweepkit runs`` (config and summary flattened)."""
    config_cols: list[str] = []
    summary_cols: list[str] = []
    suggestion_cols: list[str] = []
    flat = []
    for run in runs:
        config = flatten(run["config"])
        summary = flatten(run["summary"])
        suggestion = flatten(run.get("suggestion") or {})
        flat.append((config, summary, suggestion))
        config_cols += [c for c in config if c not in config_cols]
        summary_cols += [c for c in summary if c not in summary_cols]
        suggestion_cols += [c for c in suggestion if c not in suggestion_cols]
    if metric in summary_cols:
        summary_cols.remove(metric)
        summary_cols.insert(0, metric)
    ranked = any("metric" in run for run in runs)
    header = ["id", "name", "state", "duration_s", "exit_code"]
    header += [f"metric.{metric}"] if ranked else []  # the value the run is ranked by
    header += [f"config.{c}" for c in config_cols] + [f"summary.{c}" for c in summary_cols]
    header += [f"suggestion.{c}" for c in suggestion_cols] + ["stop_reason"]
    rows = []
    for run, (config, summary, suggestion) in zip(runs, flat, strict=True):
        row = [run["id"], run["name"], run["state"], run["duration_s"], run["exit_code"]]
        row += [(run.get("metric") or {}).get("value")] if ranked else []
        row += [config.get(c) for c in config_cols] + [summary.get(c) for c in summary_cols]
        row += [suggestion.get(c) for c in suggestion_cols] + [run.get("stop_reason")]
        rows.append([cell(v) for v in row])
    return header, rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def csv_table(header: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buf.getvalue()
