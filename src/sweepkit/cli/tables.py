"""Runs as a terminal table: choosing, filtering and sorting the columns of ``sweepkit runs`` (the
rows themselves come from ``sweepkit.run_export``), and plain-text tables for people.

A table cell is short and on one line (floats to 6 significant digits, newlines and tabs escaped,
terminal control sequences dropped, long values cut); CSV (``sweepkit.run_export``) keeps the value
whole.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.printable import printable
from sweepkit.run_export import csv_cell

#: A table cell longer than this is cut (CSV and JSON keep everything).
CELL_WIDTH = 60
_ESCAPES = str.maketrans({"\n": "\\n", "\r": "\\r", "\t": "\\t"})


def cell(value: Any) -> str:
    """A value for a table: one short line."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    text = json.dumps(value) if isinstance(value, (list, dict)) else str(value)
    text = printable(text.translate(_ESCAPES))
    return text if len(text) <= CELL_WIDTH else text[: CELL_WIDTH - 3] + "..."


def resolve(name: str, header: Sequence[str], option: str) -> int:
    """The index of column ``name``: its full name, or a config or summary key without its prefix."""
    for candidate in (name, f"config.{name}", f"summary.{name}"):
        if candidate in header:
            return header.index(candidate)
    raise SweepkitError(f"{option}: no column {name!r}; the columns are: {', '.join(header)}")


def select(
    header: list[str], rows: list[list[Any]], names: Sequence[str]
) -> tuple[list[str], list[list[Any]]]:
    """Only the columns ``names``, in that order."""
    picked = [resolve(name, header, "--columns") for name in names]
    return [header[i] for i in picked], [[row[i] for i in picked] for row in rows]


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def sort_rows(header: Sequence[str], rows: Sequence[list[Any]], key: str, picked: Sequence[int]) -> list[int]:
    """The positions ``picked`` of ``rows`` ordered by column ``key`` (``-key``: descending): numbers
    by value, then other values as text; rows without a value (or with NaN) last either way."""
    descending = key.startswith("-")
    index = resolve(key.lstrip("-"), header, "--sort")
    values = {i: rows[i][index] for i in picked}
    missing = [i for i in picked if values[i] is None or (_is_number(values[i]) and math.isnan(values[i]))]
    gone = set(missing)
    numeric = [i for i in picked if i not in gone and _is_number(values[i])]
    other = [i for i in picked if i not in gone and not _is_number(values[i])]
    numeric.sort(key=values.__getitem__, reverse=descending)
    other.sort(key=lambda i: str(values[i]), reverse=descending)
    return numeric + other + missing


_CONDITION = re.compile(r"^\s*([^<>=!]+?)\s*(<=|>=|!=|==|=|<|>)\s*(.*?)\s*$")
_COMPARE = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


@dataclass(frozen=True)
class Condition:
    """One ``--filter``: a column compared with a value (numbers as numbers, anything else as text)."""

    column: str
    op: str
    value: str

    @classmethod
    def parse(cls, text: str) -> Condition:
        match = _CONDITION.match(text)
        if match is None:
            raise SweepkitError(
                f"--filter {text!r}: expected COLUMN OP VALUE with OP one of = != < <= > >= "
                "(e.g. state=failed,crashed or lr>=0.01)"
            )
        return cls(*match.groups())

    def states(self) -> list[str] | None:
        """The states of a ``state=a,b`` condition (the service filters those), else None."""
        if self.column == "state" and self.op in ("=", "=="):
            return [s.strip() for s in self.value.split(",") if s.strip()]
        return None

    def test(self, value: Any) -> bool:
        if value is None:
            return self.op in ("=", "==", "!=") and _COMPARE[self.op]("", self.value)
        try:
            wanted: Any = float(self.value)
        except ValueError:
            wanted = None
        if wanted is not None and _is_number(value):
            return _COMPARE[self.op](value, wanted)
        shown = csv_cell(value) if not isinstance(value, bool) else str(value).lower()
        return _COMPARE[self.op](shown, self.value)


def keep(header: Sequence[str], rows: Sequence[list[Any]], conditions: Sequence[Condition]) -> list[int]:
    """The positions of the rows that pass every condition."""
    picked = list(range(len(rows)))
    for condition in conditions:
        index = resolve(condition.column, header, "--filter")
        picked = [i for i in picked if condition.test(rows[i][index])]
    return picked


def text_table(header: list[str], rows: list[list[Any]]) -> str:
    header = [cell(h) for h in header]
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    for row in cells:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)
