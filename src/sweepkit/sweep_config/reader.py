"""Reading config text: YAML (YAML 1.2 numbers, no duplicate keys) or JSON, remembering every key's line.

The YAML reading is PyYAML's ``safe_load`` (what ``wandb sweep`` uses) with three changes:

- a plain scalar that is a YAML 1.2 float is a float even without a dot: ``1e-5``, ``-2E3``,
  ``.5e-3``, ``+1.0e5`` (PyYAML reads the first three as strings);
- a mapping that repeats a key is an error naming the key and both lines (PyYAML keeps the last);
- dates stay strings (``2024-01-01`` is not turned into a ``datetime.date``, which JSON cannot hold).

Everything else is PyYAML's YAML 1.1 reading, booleans included: ``yes``/``no``/``on``/``off``
are true/false as in W&B. The text is parsed by libyaml when PyYAML has it (its wheels do) and
built into data in one pass by :mod:`sweepkit.sweep_config.yaml_builder`.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from typing import Any

from sweepkit.sweep_config.lines import KeyPath, LineMap
from sweepkit.sweep_config.problems import Collector
from sweepkit.sweep_config.yaml_builder import build

FLOAT_TAG = "tag:yaml.org,2002:float"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"

# YAML 1.1 floats as PyYAML reads them, plus YAML 1.2's: an exponent needs no dot, its sign is
# optional, and a leading-dot number may carry a sign. A bare integer is never matched here.
FLOAT_PATTERN = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)


@dataclass
class Document:
    """A config as read from text: the data, and where each key path sits in the file."""

    data: Any
    lines: LineMap = field(default_factory=LineMap)
    # source text of plain non-string scalars that print differently, e.g. a command element `1e-5`
    texts: dict[KeyPath, str] = field(default_factory=dict)


@functools.cache
def yaml_loader_class() -> Any:
    """The PyYAML loader sweepkit reads configs with: PyYAML's safe loader (on libyaml's C parser
    when PyYAML has it) with YAML 1.2 floats and no timestamps."""
    import yaml

    base = yaml.CSafeLoader if yaml.__with_libyaml__ else yaml.SafeLoader

    class SweepYamlLoader(base):  # type: ignore[misc, valid-type]
        yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag not in (FLOAT_TAG, TIMESTAMP_TAG)]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }

    SweepYamlLoader.add_implicit_resolver(FLOAT_TAG, FLOAT_PATTERN, list("-+0123456789."))
    return SweepYamlLoader


def _yaml_message(exc: Any) -> tuple[str, int | None]:
    """A PyYAML error as one sentence, and its line."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None)
    context = getattr(exc, "context", None)
    if problem is None and not context:
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    else:
        text = " ".join(part for part in (context, problem) if part)
    if mark is not None and getattr(exc, "problem_mark", None) is not None:
        text += f" (column {mark.column + 1})"
    return f"not valid YAML: {text}", line


def read_yaml(text: str, report: Collector) -> Document | None:
    """Read YAML text; on failure report why and return None. An empty document gives data None."""
    import yaml

    loader = None
    try:
        loader = yaml_loader_class()(text)
        built = build(loader)
    except yaml.YAMLError as exc:
        message, line = _yaml_message(exc)
        report.error((), message, line=line)
        return None
    finally:
        if loader is not None:
            loader.dispose()
    report.lines = built.lines
    for path, key, first, again in built.duplicates:
        report.error(
            path,
            f"key {key!r} appears twice in one mapping (lines {first} and {again}); "
            "YAML keeps only the last, so remove one",
            line=again,
        )
    if built.refused is not None:
        path, line, message = built.refused
        report.error(path, message, line=line)
        return None
    return Document(built.data, built.lines, built.texts)


def read_json(text: str, report: Collector) -> Document | None:
    """Read JSON text. The ``json`` module judges the syntax; the data is then read as YAML (JSON is
    YAML) for its line numbers, or by ``json`` alone where the YAML reading balks (tabs, say)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as exc:
        report.error((), f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
        return None
    except RecursionError:
        report.error((), "not valid JSON: nested too deeply")
        return None

    probe = Collector(report.file)
    doc = read_yaml(text, probe)
    if doc is not None:
        for problem in probe.errors:
            report.add(problem)
        report.lines = probe.lines
        return doc

    duplicates: list[str] = []

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in pairs:
            if key in out:
                duplicates.append(key)
            out[key] = value
        return out

    data = json.loads(text, object_pairs_hook=pairs_hook)
    for key in duplicates:
        report.error(
            (), f"key {key!r} appears twice in one object; JSON readers keep only the last, so remove one"
        )
    return Document(data)
