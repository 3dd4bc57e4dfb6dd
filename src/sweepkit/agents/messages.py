"""What an agent says about each run: one line when it starts, one when it ends.

The end line holds the run's state, duration, its value of the sweep's objective (as the service
judged it), exit code and, for a run that did not finish, why: the first line of its error (see ``RunInfo.error``)
or its stop reason. A failure's details (the last lines of its output, a traceback) follow,
indented, when asked for.
"""

from __future__ import annotations

from typing import Any

from sweepkit.printable import printable

#: Parameters shown on a start line, at most (characters).
_PARAMS_WIDTH = 160


def value_text(value: Any) -> str:
    """A value for a one-line message: floats to 6 significant digits, the rest as ``str`` (newlines
    escaped, terminal control sequences dropped)."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return printable(str(value).replace("\n", "\\n"))


def start_line(assignment: Any, *, where: str | None = None) -> str:
    """``run ID (NAME) starts[ on WHERE]: params``; ``where`` is a slot's GPUs or number."""
    params = ", ".join(f"{k}={value_text(v)}" for k, v in assignment.params.items())
    if len(params) > _PARAMS_WIDTH:
        params = params[: _PARAMS_WIDTH - 3] + "..."
    head = f"run {assignment.run_id} ({printable(assignment.run_name)}) starts" + (
        f" on {where}" if where else ""
    )
    return head + (f": {params}" if params else "")


def end_lines(run: Any, *, reason: str | None = None, details: bool = True) -> list[str]:
    """The end line of ``run`` (a ``RunInfo``), with its value of its sweep's objective as the service
    judged it, and its error's details when ``details``; ``reason`` says why it stopped if the run
    does not."""
    head = f"run {run.id} ({printable(run.name)}) {run.state.value}"
    if run.duration_s is not None:
        head += f" in {duration_text(run.duration_s)}"
    lines = (run.error or "").splitlines()
    why = lines[0] if lines else (reason or run.stop_reason)
    bits = []
    name, value = next(iter(run.objective_values.items()), (None, None))
    if value is not None and run.state.value != "failed":
        bits.append(f"{name}={value_text(value)}")
    if why:
        bits.append(why)
    if run.exit_code is not None and not (why or "").startswith("exit code"):
        bits.append(f"exit code {run.exit_code}")
    out = [head + (": " + ", ".join(bits) if bits else "")]
    if details:
        out += [f"    {line}" for line in lines[1:]]
    return out


def duration_text(seconds: float) -> str:
    """``0.4 s``, ``12 s``, ``3 min 05 s``, ``2 h 03 min``."""
    if seconds < 10:
        return f"{seconds:.1f} s"
    if seconds < 60:
        return f"{seconds:.0f} s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
