"""Tables for a terminal, drawn with rich: the columns that fit its width, states in colour.

The table is laid out here (one styled text, not a ``rich.table.Table``, which takes seconds for
10,000 rows).

``sweepkit runs`` and ``sweepkit sweeps`` use this when their standard output is a terminal; in a
pipe they print plain text (``tables.text_table``), CSV or JSON, never a terminal escape. Columns
that do not fit are left out by priority (the caller's ranking), and a line on standard error says
which, and how to see them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.console import Console
from rich.text import Text

from sweepkit.cli.live_view import STATE_STYLES
from sweepkit.cli.tables import cell


def print_table(
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    priority: Callable[[str], int] = lambda name: 0,
    hint: str = "",
) -> None:
    """Print the table on standard output, keeping the columns that fit, the lowest priority first."""
    console = Console(highlight=False)
    header = [cell(h) for h in header]
    cells = [[cell(v) for v in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(header)]
    room, kept = console.width - 1, set()
    empty = {i for i in range(len(header)) if not any(row[i] for row in cells)}
    full = False
    for i in sorted(range(len(header)), key=lambda i: (i in empty, priority(header[i]), i)):
        need = widths[i] + (2 if kept else 0)
        if (need <= room and not (full and i in empty)) or not kept:
            kept.add(i)
            room -= need
        else:
            full = True  # a column with values is left out: no room for empty ones
    shown = sorted(kept)
    state = header.index("state") if "state" in header else None
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("  ".join(header[i].ljust(widths[i]) for i in shown).rstrip(), style="bold")
    for row in cells:
        text.append("\n")
        for n, i in enumerate(shown):
            value = row[i] if n == len(shown) - 1 else row[i].ljust(widths[i]) + "  "
            text.append(value, style=STATE_STYLES.get(row[i], "") if i == state else "")
    console.print(text, crop=True)
    hidden = [header[i] for i in range(len(header)) if i not in kept and i not in empty]
    if hidden:
        names = ", ".join(hidden[:8]) + (f" and {len(hidden) - 8} more" if len(hidden) > 8 else "")
        Console(stderr=True, highlight=False).print(
            Text(
                f"{len(hidden)} column{'s' if len(hidden) != 1 else ''} left out to fit: {names}"
                + (f" ({hint})" if hint else "")
            ),
            style="dim",
        )
