"""The terminal view of a sweep, drawn with rich: progress, counts, best so far, top runs, problems.

``render(progress, width)`` turns a ``SweepProgress`` into one rich renderable; ``watch_live``
redraws it in place (``rich.live.Live``) as the progress is polled. Only the commands that show a
live view in a terminal import this module, so rich stays out of every other path (``sweepkit
agent`` above all). Example, 100 columns wide::

    sweep tuaq7fh7 (lr-search) · random · running · 2 agents · sqlite:////tmp/ev/cap/.sweepkit/sweepkit…
    ━━━━━━━━━━━━━━━━━━━━━╺━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 17/40 runs · 42% · 0:00:17 elapsed · ~20 s left
    finished 3 · running 2 · failed 1 · killed 12
    best val_loss 0.30338 (drzbc660) ▇▃▁
    #  run       val_loss  duration  batch_size  dropout   lr
    1  drzbc660  0.30338   2.5 s     128         0.181583  0.0129273
    2  dmoo9hv3  0.363108  2.4 s     128         0.198741  0.00199911
    failed  run figp12in (lr-search-13) 6.5 s ago: exit code 1: RuntimeError: loss is nan (lr too high …
    killed  run 94fbxgoo (lr-search-17) 0.3 s ago: hyperband: val_loss 1.008 at iteration 3 is worse th…
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from sweepkit.agents.messages import duration_text, value_text
from sweepkit.cli.sweep_progress import SweepProgress
from sweepkit.printable import printable

STATE_STYLES = {
    "finished": "green",
    "running": "cyan",
    "pending": "dim",
    "failed": "red",
    "crashed": "magenta",
    "killed": "yellow",
    "preempting": "dim",
    "preempted": "dim",
}
_SPARKS = "▁▂▃▄▅▆▇█"
#: The widest a parameter's column may be in the top-runs table.
_PARAM_WIDTH = 24


def sparkline(values: Sequence[float], width: int) -> str:
    """``values`` (sampled down to ``width`` points) as block characters, the lowest as ▁."""
    if not values or width < 1:
        return ""
    if len(values) > width:
        values = [values[(i + 1) * len(values) // width - 1] for i in range(width)]
    low, high = min(values), max(values)
    if high == low:
        return _SPARKS[0] * len(values)
    return "".join(_SPARKS[round((v - low) / (high - low) * (len(_SPARKS) - 1))] for v in values)


def clock(seconds: float) -> str:
    """``0:02:13``."""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def fit(widths: Sequence[int], room: int, gap: int = 2) -> int:
    """How many of the columns with ``widths`` (in order) fit in ``room`` characters."""
    used = 0
    for count, width in enumerate(widths):
        used += width + (gap if count else 0)
        if used > room:
            return count
    return len(widths)


def render(progress: SweepProgress, width: int, location: str = "") -> RenderableType:
    """The whole view, at most ``width`` characters wide."""
    info = progress.info
    parts: list[RenderableType] = [_title(info, location, width), _bar(progress, width), _counts(info)]
    if progress.metric:
        parts.append(_best(progress, width))
        top = progress.top_runs()
        if top:
            parts.append(_top_table(progress, top, width))
    if progress.failures or progress.stops:
        parts.append(_problems([*progress.stops, *progress.failures], width))
    return Group(*parts)


def _title(info: Any, location: str, width: int) -> Text:
    name = f" ({printable(info.name)})" if info.name else ""
    agents = f"{info.live_agents} agent{'s' if info.live_agents != 1 else ''}"
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"sweep {info.id}{name}", style="bold")
    text.append(f" · {info.method} · ")
    text.append(info.state.value, style="bold")
    if info.state_reason:
        text.append(f" ({printable(info.state_reason)})")
    text.append(f" · {agents}" + (f" · {location}" if location else ""), style="dim")
    text.truncate(width, overflow="ellipsis")
    return text


def _bar(progress: SweepProgress, width: int) -> Table:
    done, total = progress.done, progress.total
    words = []
    if total is not None:
        words.append(f"{done}/{total} runs · {100 * done // total if total else 100}%")
    else:
        words.append(f"{done} runs")
        pace = progress.runs_per_minute()
        if pace is not None:
            words.append(f"{pace:.3g} runs/min")
    words.append(f"{clock(progress.elapsed_s())} elapsed")
    left = progress.left_s()
    if left is not None:
        words.append(f"~{duration_text(left)} left")
    elif progress.unattended:
        words.append("no agent is working on it")
    label = Text(" " + " · ".join(words), no_wrap=True, overflow="ellipsis")
    bar_width = max(10, min(50, width - len(label) - 1))
    bar = ProgressBar(total=total or 1, completed=done if total else 0, width=bar_width, pulse=total is None)
    grid = Table.grid()
    grid.add_row(bar, label)
    return grid


def _counts(info: Any) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    order = ["finished", "running", "pending", "failed", "crashed", "killed", "preempting", "preempted"]
    shown = [s for s in order if info.runs_by_state.get(s)]
    if not shown:
        return Text("no runs yet", style="dim")
    for i, state in enumerate(shown):
        if i:
            text.append(" · ")
        text.append(f"{state} {info.runs_by_state[state]}", style=STATE_STYLES.get(state, ""))
    return text


def _best(progress: SweepProgress, width: int) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    top = progress.top_runs()
    if not top:
        text.append(f"best {printable(progress.metric)}: no finished run with a value yet", style="dim")
        return text
    label = f"best {printable(progress.metric)} {value_text(top[0].value(progress.objective))} ({top[0].id}) "
    text.append(label, style="bold")
    text.append(sparkline(progress.best_series, max(0, min(60, width - len(label)))), style="green")
    return text


def _top_table(progress: SweepProgress, top: Sequence[Any], width: int) -> Table:
    metric, objective = progress.metric, progress.objective
    fixed = [
        ("#", [str(i) for i in range(1, len(top) + 1)]),
        ("run", [run.id for run in top]),
        (printable(metric), [value_text(run.value(objective)) for run in top]),
        ("duration", [duration_text(run.duration_s) if run.duration_s is not None else "" for run in top]),
    ]
    constants = constant_names(progress.info.plan.parameters)
    names: list[str] = []
    for run in top:
        names += [name for name in run.params if name not in names and name not in constants]
    params = [
        (printable(name), [_cut(value_text(run.params.get(name, ""))) for run in top]) for name in names
    ]
    columns = fixed + params
    widths = [max(len(title), *(len(v) for v in values)) for title, values in columns]
    shown = max(len(fixed), fit(widths, width - 1))
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    for title, _values in columns[:shown]:
        table.add_column(title, no_wrap=True, justify="right" if title == "#" else "left")
    for i in range(len(top)):
        table.add_row(*(values[i] for _title, values in columns[:shown]))
    if shown < len(columns):
        table.caption = f"{len(columns) - shown} more parameters than fit: sweepkit runs {progress.sweep_id}"
        table.caption_justify = "left"
    return table


def _problems(runs: Sequence[Any], width: int) -> Group:
    """One line per run, the last given first: its state, when it ended and why."""
    now = datetime.now(timezone.utc)
    lines = []
    for run in reversed(runs):
        ended = run.finished_at or run.heartbeat_at
        ago = f" {duration_text((now - ended).total_seconds())} ago" if ended else ""
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"{run.state.value:<8}", style=STATE_STYLES.get(run.state.value, ""))
        text.append(
            printable(f"run {run.id} ({printable(run.name)}){ago}: {run.reason or 'no reason recorded'}")
        )
        text.truncate(width, overflow="ellipsis")
        lines.append(text)
    return Group(*lines)


def constant_names(parameters: Any) -> set[str]:
    """The flat names of a sweep's constant parameters (its plan's ``parameters``): the same in every run."""
    return {param.name for param in parameters if param.kind == "constant"}


def _cut(text: str) -> str:
    return text if len(text) <= _PARAM_WIDTH else text[: _PARAM_WIDTH - 1] + "…"


def watch_live(
    progress: SweepProgress,
    *,
    location: str,
    interval_s: float,
    keep_going: Callable[[], bool],
    on_ended: Callable[[list[Any]], list[str]],
    console: Console | None = None,
) -> None:
    """Redraw the view in place every ``interval_s``: ask ``keep_going()``, poll, print the
    messages ``on_ended`` makes of the runs that ended above the view, redraw; stop after the
    redraw that follows a no. The last view stays on the screen."""
    import time

    from rich.live import Live

    console = console or Console(stderr=True, highlight=False)
    with Live(console=console, auto_refresh=False, redirect_stdout=False, redirect_stderr=False) as live:
        while True:
            going = keep_going()
            messages = on_ended(progress.poll())
            if messages:
                live.console.print(Text(printable("\n".join(messages), newlines=True)), soft_wrap=True)
            live.update(render(progress, console.width, location), refresh=True)
            if not going:
                return
            time.sleep(interval_s)
