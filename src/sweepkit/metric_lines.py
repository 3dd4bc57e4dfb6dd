"""Metrics from a program in any language: JSON lines in ``SWEEPKIT_METRICS_FILE``, or lines of its output.

The metrics file (one per run, named by ``SWEEPKIT_METRICS_FILE``) holds one JSON object per line::

    {"loss": 0.52, "acc": 0.81}
    {"_step": 10, "loss": 0.31}

Output lines are read when the agent is asked to (``--metrics-from-output`` or
``SWEEPKIT_METRICS_FROM_OUTPUT=1``): every ``name=value`` pair with a number as its value, anywhere
in a line (``epoch=3 loss=0.25, acc=0.91``), or the matches of the user's regular expression
(``--metrics-regex``; groups ``name`` and ``value``, else the first two groups). A line without any
pair is ordinary output.

Steps follow W&B's rule: each line is the next step unless it names one with ``_step`` (which must
be after the previous line's step). A line that cannot be read (not a JSON object, a value that is
not a number, text or a list, a step that goes back) is reported once with its line number and
skipped; the run goes on. Pure standard library, no I/O of its own: the agent feeds it.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from sweepkit.errors import SweepkitError
from sweepkit.values import is_new_step, step_of

#: ``name=value`` with a number as the value, delimited by the line's start or end, spaces, commas
#: or semicolons. Names start with a letter or ``_`` and may hold ``. / -``.
DEFAULT_PATTERN = re.compile(
    r"(?:^|(?<=[\s,;]))(?P<name>[A-Za-z_][\w./-]*)\s*=\s*"
    r"(?P<value>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?inf(?:inity)?|nan)(?=$|[\s,;])",
    re.IGNORECASE,
)
#: Bad lines reported per source before the rest are skipped silently.
MAX_REPORTED = 10


def output_pattern(regex: str | None) -> re.Pattern[str]:
    """The pattern for output lines: the default ``name=value`` one, or the user's."""
    if not regex:
        return DEFAULT_PATTERN
    try:
        pattern = re.compile(regex)
    except re.error as err:
        raise SweepkitError(f"metrics regex {regex!r} is not a regular expression: {err}") from None
    if not {"name", "value"} <= set(pattern.groupindex) and pattern.groups < 2:
        raise SweepkitError(
            f"metrics regex {regex!r} needs groups named 'name' and 'value', or two groups (name, then value)"
        )
    return pattern


def _number(text: str) -> float | int:
    try:
        return int(text)
    except ValueError:
        return float(text)


class MetricLines:
    """Turns a run's metric lines into history rows with steps, and hands them to ``emit``.

    ``note(message)`` hears of bad lines (at most ``MAX_REPORTED`` per source). Thread-safe: the
    metrics file and the output are read by different threads, and share the run's steps.
    """

    def __init__(
        self,
        emit: Callable[[list[dict[str, Any]]], None],
        note: Callable[[str], None],
        pattern: re.Pattern[str] | None = None,
    ) -> None:
        self._emit = emit
        self._note = note
        self._pattern = pattern
        self._lock = threading.RLock()  # a bad step is reported while the lock is held
        self._next_step = 0
        self._start = time.time()
        self._reported: dict[str, int] = {}
        self._output_line = 0
        self._output_partial = b""

    # --- the metrics file ---------------------------------------------------------------------------

    def file_line(self, number: int, values: Mapping[str, Any]) -> None:
        """One JSON object read from the metrics file (line ``number``)."""
        self._add(values, "metrics file", number)

    def bad_file_line(self, number: int, text: str) -> None:
        self._bad("metrics file", number, f"not a JSON object: {text[:80]!r}")

    # --- the output ------------------------------------------------------------------------------------

    def output(self, chunk: bytes) -> None:
        """A piece of the program's output, as it arrives (split into lines here)."""
        if self._pattern is None:
            return
        lines = (self._output_partial + chunk).split(b"\n")
        self._output_partial = lines.pop()
        for raw in lines:
            self._output_text(raw)

    def output_ended(self) -> None:
        """The output is closed: a last line without a newline counts too."""
        if self._pattern is not None and self._output_partial:
            raw, self._output_partial = self._output_partial, b""
            self._output_text(raw)

    def _output_text(self, raw: bytes) -> None:
        self._output_line += 1
        text = raw.decode("utf-8", "replace").rstrip("\r")
        pairs = {}
        for match in self._pattern.finditer(text):
            if "name" in self._pattern.groupindex and "value" in self._pattern.groupindex:
                name, value = match.group("name"), match.group("value")
            else:
                name, value = match.group(1), match.group(2)
            try:
                pairs[name.strip()] = _number(value.strip())
            except (ValueError, AttributeError):
                self._bad("output", self._output_line, f"{name}={value!r} is not a number")
                return
        if pairs:
            self._add(pairs, "output", self._output_line)

    # --- rows -------------------------------------------------------------------------------------------

    def _add(self, values: Mapping[str, Any], source: str, number: int) -> None:
        from sweepkit.tracking.values import checked_row

        try:
            row = checked_row(values)
        except SweepkitError as err:
            self._bad(source, number, str(err).removeprefix("log(): "))
            return
        named = row.pop("_step", None)
        with self._lock:
            if named is not None:
                step = step_of(named)
                if step is None:
                    self._bad(source, number, f"_step {named!r} is not a whole number of 0 or more")
                    return
                if not is_new_step(step, self._next_step - 1):
                    self._bad(source, number, f"_step {step} is not after the previous line's step")
                    return
                self._next_step = step
            now = time.time()
            row.setdefault("_timestamp", now)
            row.setdefault("_runtime", now - self._start)
            row["_step"] = self._next_step
            self._next_step += 1
            self._emit([row])

    def _bad(self, source: str, number: int, why: str) -> None:
        with self._lock:
            seen = self._reported.get(source, 0)
            self._reported[source] = seen + 1
        if seen < MAX_REPORTED:
            more = "" if seen + 1 < MAX_REPORTED else f" (further bad lines of the {source} are not reported)"
            self._note(f"{source} line {number} skipped: {why}{more}")
