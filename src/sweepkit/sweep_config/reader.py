"""Reading config text: YAML (YAML 1.2 numbers, no duplicate keys) or JSON, remembering every key's line.

The YAML reading is PyYAML's ``safe_load`` (what ``wandb sweep`` uses) with three changes:

- a plain scalar that is a YAML 1.2 float is a float even without a dot: ``1e-5``, ``-2E3``,
  ``.5e-3``, ``+1.0e5`` (PyYAML reads the first three as strings);
- a mapping that repeats a key is an error naming the key and both lines (PyYAML keeps the last);
- dates stay strings (``2024-01-01`` is not turned into a ``datetime.date``, which JSON cannot hold).

Everything else is PyYAML's YAML 1.1 reading, booleans included: ``yes``/``no``/``on``/``off``
are true/false as in W&B.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from sweepkit.sweep_config.problems import Collector, KeyPath

FLOAT_TAG = "tag:yaml.org,2002:float"
STR_TAG = "tag:yaml.org,2002:str"
TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
MERGE_TAG = "tag:yaml.org,2002:merge"

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
    lines: dict[KeyPath, int] = field(default_factory=dict)
    # source text of plain (unquoted) non-string scalars, e.g. a command element written `1e-5`
    texts: dict[KeyPath, str] = field(default_factory=dict)


_loader_class: Any = None


def _make_loader_class() -> Any:
    import yaml
    from yaml.constructor import ConstructorError
    from yaml.nodes import MappingNode, ScalarNode

    class SweepYamlLoader(yaml.SafeLoader):
        """PyYAML's SafeLoader with YAML 1.2 floats, duplicate-key detection and string dates."""

        yaml_implicit_resolvers = {
            first: [(tag, rx) for tag, rx in resolvers if tag not in (FLOAT_TAG, TIMESTAMP_TAG)]
            for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
        }

        def __init__(self, stream: str) -> None:
            super().__init__(stream)
            # (mapping node, key, first line, repeated line) for every repeated key
            self.duplicates: list[tuple[Any, Any, int, int]] = []

        def construct_object(self, node: Any, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep=deep)
            except (yaml.YAMLError, RecursionError):
                raise
            except Exception as exc:  # e.g. `!!float abc`, `!!bool maybe`, `!!timestamp x`
                shown = node.value if isinstance(node, ScalarNode) else node.tag
                tag = node.tag.rsplit(":", 1)[-1]
                raise ConstructorError(
                    None, None, f"cannot read {shown!r} as {tag} ({type(exc).__name__})", node.start_mark
                ) from None

        def construct_mapping(self, node: Any, deep: bool = False) -> Any:
            if isinstance(node, MappingNode):
                first_line: dict[Any, int] = {}
                for key_node, _ in node.value:
                    if key_node.tag == MERGE_TAG:
                        continue
                    key = self.construct_object(key_node, deep=True)
                    try:
                        hash(key)
                    except TypeError:
                        continue  # PyYAML reports unhashable keys itself
                    line = key_node.start_mark.line + 1
                    if key in first_line:
                        self.duplicates.append((node, key, first_line[key], line))
                    else:
                        first_line[key] = line
            return super().construct_mapping(node, deep=deep)

    SweepYamlLoader.add_implicit_resolver(FLOAT_TAG, FLOAT_PATTERN, list("-+0123456789."))
    return SweepYamlLoader


def yaml_loader_class() -> Any:
    """The PyYAML loader class sweepkit reads configs with (built on first use)."""
    global _loader_class
    if _loader_class is None:
        _loader_class = _make_loader_class()
    return _loader_class


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
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode

    loader = None
    try:
        loader = yaml_loader_class()(text)
        node = loader.get_single_node()
        data = None if node is None else loader.construct_document(node)
    except yaml.YAMLError as exc:
        message, line = _yaml_message(exc)
        report.error((), message, line=line)
        return None
    except RecursionError:
        report.error((), "not valid YAML: nested too deeply")
        return None
    finally:
        if loader is not None:
            loader.dispose()

    doc = Document(data)
    report.lines = doc.lines
    if node is None:
        return doc
    doc.lines[()] = node.start_mark.line + 1
    path_of_node: dict[int, KeyPath] = {}
    stack: list[tuple[Any, KeyPath]] = [(node, ())]
    while stack:
        current, path = stack.pop()
        if isinstance(current, ScalarNode):
            if current.style is None and current.tag != STR_TAG:
                doc.texts[path] = current.value
            continue
        if id(current) in path_of_node:  # an alias met again: its lines are known from the first visit
            continue
        path_of_node[id(current)] = path
        if isinstance(current, SequenceNode):
            for index, item in enumerate(current.value):
                doc.lines.setdefault(path + (index,), item.start_mark.line + 1)
                stack.append((item, path + (index,)))
        elif isinstance(current, MappingNode):
            for key_node, value_node in current.value:
                if isinstance(key_node, ScalarNode):
                    key = loader.construct_object(key_node)
                    doc.lines[path + (key,)] = key_node.start_mark.line + 1
                    stack.append((value_node, path + (key,)))
    for mapping_node, key, first, again in loader.duplicates:
        report.error(
            path_of_node.get(id(mapping_node), ()) + (key,),
            f"key {key!r} appears twice in one mapping (lines {first} and {again}); "
            "YAML keeps only the last, so remove one",
            line=again,
        )
    return doc


def read_json(text: str, report: Collector) -> Document | None:
    """Read JSON text. JSON is read as YAML first (for line numbers); plain ``json`` if YAML balks."""
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

    try:
        data = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:
        report.error((), f"not valid JSON: {exc.msg} (column {exc.colno})", line=exc.lineno)
        return None
    except RecursionError:
        report.error((), "not valid JSON: nested too deeply")
        return None
    for key in duplicates:
        report.error(
            (), f"key {key!r} appears twice in one object; JSON readers keep only the last, so remove one"
        )
    return Document(data)
