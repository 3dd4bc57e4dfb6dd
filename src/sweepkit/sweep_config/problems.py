"""What is wrong with a config, said so a person can fix it: problems, the error that carries them, wording helpers."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from sweepkit.errors import SweepkitError
from sweepkit.sweep_config.lines import KeyPath, LineMap

Severity = Literal["error", "warning"]
MAX_SHOWN = 200  # problems of one severity listed; more are counted in a last line


@dataclass(frozen=True)
class Problem:
    """One error or warning about a config, located by file, line and key path."""

    severity: Severity
    path: str
    message: str
    file: str | None = None
    line: int | None = None

    @property
    def location(self) -> str:
        """``file:line`` (or the part of it that is known), empty when neither is."""
        if self.file is None:
            return "" if self.line is None else f"line {self.line}"
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def format(self, *, severity: bool = False) -> str:
        """The one-line form; with ``severity=True`` the word error/warning follows the location."""
        parts = [self.location] if self.location else []
        if severity:
            parts.append(self.severity)
        if self.path:
            parts.append(self.path)
        parts.append(self.message)
        return ": ".join(parts)

    def __str__(self) -> str:
        return self.format()


class ConfigError(SweepkitError):
    """A sweep config that cannot be used. ``.problems`` holds every error, ``.warnings`` the warnings."""

    def __init__(self, problems: Sequence[Problem], warnings: Sequence[Problem] = ()) -> None:
        self.problems: list[Problem] = list(problems)
        self.warnings: list[Problem] = list(warnings)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __str__(self) -> str:
        return "\n".join(str(p) for p in self.problems)


def format_path(path: Iterable[Any]) -> str:
    """``("parameters", "lr", "values", 0)`` -> ``parameters.lr.values[0]``."""
    out = ""
    for key in path:
        if isinstance(key, int) and not isinstance(key, bool):
            out += f"[{key}]"
        else:
            out += ("." if out else "") + str(key)
    return out


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def found(value: Any) -> str:
    """How a found value is quoted in a message: ``'abc'``, ``3``, ``null``, ``a list [1, 2]``."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _short(repr(value))
    if isinstance(value, (int, float)):
        return _short(repr(value))
    if isinstance(value, (list, tuple)):
        return "an empty list" if not value else f"a list {_short(_render(value))}"
    if isinstance(value, dict):
        return "an empty mapping" if not value else f"a mapping {_short(_render(value))}"
    return f"a {type(value).__name__}"


def _render(value: Any) -> str:
    try:
        return repr(value)
    except Exception:  # pragma: no cover - repr of odd objects from a dict source
        return f"<{type(value).__name__}>"


def closest(word: Any, choices: Iterable[str]) -> str | None:
    """The choice a misspelt ``word`` most likely meant, or None (case-insensitive, difflib)."""
    if not isinstance(word, str) or not word or len(word) > 100:
        return None
    by_lower = {c.lower(): c for c in choices}
    match = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[match[0]] if match else None


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` or the empty string."""
    guess = closest(word, choices)
    return f"; did you mean {guess!r}?" if guess is not None and guess != word else ""


def one_of(choices: Sequence[str], word: str = "or") -> str:
    """``a, b or c`` (or ``a, b and c``)."""
    items = [str(c) for c in choices]
    if not items:
        return "nothing"
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} " + items[-1]


class Collector:
    """Gathers problems for one source, finding each key path's line in the file's line map."""

    def __init__(self, file: str | None, lines: LineMap | None = None) -> None:
        self.file = file
        self.lines = lines if lines is not None else LineMap()
        self.errors: list[Problem] = []
        self.warnings: list[Problem] = []
        self._seen: set[Problem] = set()
        self.unshown: dict[str, int] = {"error": 0, "warning": 0}
        self._muted: set[KeyPath] = set()

    def line_of(self, path: KeyPath) -> int | None:
        """The line of ``path``, or of its nearest ancestor that has one."""
        return self.lines.nearest(tuple(path))

    def mute(self, path: KeyPath) -> None:
        """Drop later errors at or under ``path`` (it is already reported as unreadable)."""
        self._muted.add(tuple(path))

    def _is_muted(self, path: KeyPath) -> bool:
        return bool(self._muted) and any(path[:n] in self._muted for n in range(len(path) + 1))

    def _problem(
        self, severity: Severity, path: KeyPath, message: str, line_path: KeyPath | None, line: int | None
    ) -> Problem:
        path = tuple(path)
        if line is None:
            line = self.line_of(tuple(line_path) if line_path is not None else path)
        return Problem(severity, format_path(path), message, self.file, line)

    def error(
        self, path: KeyPath, message: str, *, line_path: KeyPath | None = None, line: int | None = None
    ) -> None:
        if self._is_muted(tuple(path)):
            return
        if len(self.errors) >= MAX_SHOWN:  # only counted: skip building it
            self.unshown["error"] += 1
            return
        self.add(self._problem("error", path, message, line_path, line))

    def warn(
        self, path: KeyPath, message: str, *, line_path: KeyPath | None = None, line: int | None = None
    ) -> None:
        if len(self.warnings) >= MAX_SHOWN:
            self.unshown["warning"] += 1
            return
        self.add(self._problem("warning", path, message, line_path, line))

    def add(self, problem: Problem) -> None:
        """Record ``problem`` once (the same problem found twice is said once); past
        :data:`MAX_SHOWN` of a severity, problems are only counted."""
        if problem in self._seen:
            return
        self._seen.add(problem)
        kept = self.errors if problem.severity == "error" else self.warnings
        if len(kept) < MAX_SHOWN:
            kept.append(problem)
        else:
            self.unshown[problem.severity] += 1

    def finished(self, problems: list[Problem], severity: Severity) -> list[Problem]:
        """``problems`` in file order, with a last line counting those not shown."""
        out = self.in_file_order(problems)
        if self.unshown[severity]:
            out.append(Problem(severity, "", f"... and {self.unshown[severity]} more {severity}s", self.file))
        return out

    @staticmethod
    def in_file_order(problems: list[Problem]) -> list[Problem]:
        """Problems without a line first (they concern the whole file), then by line; stable."""
        return sorted(problems, key=lambda p: (p.line is not None, p.line or 0))
