"""The JSON Schema of a sweep config (``schema.json``), its validators, and its errors said in plain words.

``schema.json`` is the one place that lists each distribution's keys and defaults; the code reads
them from it. Validation uses the ``jsonschema`` library (Draft 2020-12) with stricter types than
its default: an integer is an ``int`` (``2.0`` is not one) and ``true`` is never a number.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from sweepkit.sweep_config.problems import Collector, KeyPath, did_you_mean, format_path, found, one_of

_TYPE_WORDS = {
    "number": "a number",
    "integer": "an integer",
    "string": "a string",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}


@functools.lru_cache(maxsize=1)
def sweep_schema() -> dict[str, Any]:
    """The sweep config JSON Schema, as shipped in the package."""
    text = resources.files("sweepkit.sweep_config").joinpath("schema.json").read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _validator_class() -> Any:
    from jsonschema import Draft202012Validator, validators

    def is_integer(checker: Any, instance: Any) -> bool:
        return isinstance(instance, int) and not isinstance(instance, bool)

    def is_number(checker: Any, instance: Any) -> bool:
        return isinstance(instance, (int, float)) and not isinstance(instance, bool)

    checker = Draft202012Validator.TYPE_CHECKER.redefine_many({"integer": is_integer, "number": is_number})
    return validators.extend(Draft202012Validator, type_checker=checker)


@functools.lru_cache(maxsize=1)
def _top_level_validator() -> Any:
    """The whole-config validator; ``parameters`` is only checked for being a non-empty mapping
    (the parameter tree is checked by :mod:`sweepkit.sweep_config.parameters`, one kind at a time)."""
    schema = dict(sweep_schema())
    properties = dict(schema["properties"])
    properties["parameters"] = {"type": "object", "minProperties": 1}
    schema["properties"] = properties
    return _validator_class()(schema)


@functools.cache
def _definition_validator(name: str) -> Any:
    schema = dict(sweep_schema()["$defs"][name])
    schema["$defs"] = sweep_schema()["$defs"]
    return _validator_class()(schema)


def full_validator() -> Any:
    """A validator for the whole schema, parameters included (for tools and tests)."""
    return _validator_class()(sweep_schema())


def definition(name: str) -> dict[str, Any]:
    """One ``$defs`` entry of the schema (a distribution kind, ``metric``, ``early_terminate``...)."""
    return sweep_schema()["$defs"][name]


def top_level_keys() -> list[str]:
    return list(sweep_schema()["properties"])


def _expected(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):
        return one_of([_TYPE_WORDS.get(k, k) for k in kind])
    return _TYPE_WORDS.get(kind, str(kind))


def _bound_words(error: Any) -> str:
    schema = error.schema
    parts = []
    if "exclusiveMinimum" in schema:
        parts.append(f"> {schema['exclusiveMinimum']}")
    if "minimum" in schema:
        parts.append(f">= {schema['minimum']}")
    what = "an integer" if schema.get("type") == "integer" else "a number"
    return f"{what} {' and '.join(parts)}"


def _type_hint(path: KeyPath, schema: dict[str, Any], value: Any) -> str:
    """Advice for the usual ways a value ends up with the wrong type."""
    expected = schema.get("type")
    if value is None:
        return " (the key is there but has no value)"
    if expected in ("number", "integer") and isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return ""
        return "; it is a quoted string: remove the quotes to make it a number"
    if expected == "integer" and isinstance(value, float) and value.is_integer():
        return f"; write {int(value)} without the decimal point"
    if expected == "array" and path and path[-1] == "values" and not isinstance(value, dict):
        return f"; a single value is written [{found(value)}] (or use value: for a constant)"
    if expected == "array" and path == ("command",) and isinstance(value, str):
        return "; write one argument per list item"
    if expected == "object" and path == ("controller",):
        return "; write {type: local} or {type: cloud}"
    return ""


def report_errors(
    validator: Any,
    instance: Any,
    base: KeyPath,
    report: Collector,
    *,
    what: str = "",
    how: str = "",
    hints: Any = None,
) -> bool:
    """Validate ``instance`` and report each error in words; True when there was none.

    ``base`` is the key path of ``instance`` in the config; ``what`` names a distribution kind in
    messages and ``how`` says how it was chosen (``"inferred from key 'value'"``); ``hints(key)``
    may add advice for a key that is not allowed.
    """
    clean = True
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        clean = False
        _report_one(error, base, report, what, how, hints)
    return clean


def _report_one(error: Any, base: KeyPath, report: Collector, what: str, how: str, hints: Any) -> None:
    path = base + tuple(error.absolute_path)
    keyword = error.validator
    value = error.instance
    schema = error.schema
    if keyword == "additionalProperties":
        # ``when`` (sweepkit's conditions) goes with every kind: not listed as one of a kind's keys
        allowed = [k for k in schema.get("properties", {}) if k not in ("distribution", "when")]
        for key in value:
            if key in schema.get("properties", {}):
                continue
            if path == ():
                report.error((key,), _unknown_top_level_key(key, value[key]))
                continue
            extra = hints(key) if hints is not None else ""
            if what:
                subject = f"{what} ({how}), which takes {one_of(allowed, 'and')}"
            else:
                subject = f"{format_subject(path)} (allowed: {one_of(allowed, 'and')})"
            unused = [k for k in allowed if k not in value]
            report.error(
                path + (key,), f"key {key!r} is not allowed for {subject}{extra or did_you_mean(key, unused)}"
            )
    elif keyword == "required":
        needs = [k for k in schema.get("required", []) if k not in value]
        for key in needs:
            if path == () and key == "method":
                message = "required key is missing: say how to search (grid, random or bayes)"
            elif path == () and key == "parameters":
                message = "required key is missing: list the parameters to sweep (or name a search_space function in scheduler)"
            elif path == ("controller",):
                message = "required key is missing: expected type: local or type: cloud"
            elif what:
                required = [k for k in schema["required"] if k != "distribution"]
                message = f"required key is missing ({what} needs {one_of(required, 'and')})"
            else:
                message = "required key is missing"
            # a key missing at the top level has no line of its own; inside a section, the section's
            report.error(path + (key,), message, line_path=path or (None,))
    elif keyword == "type":
        report.error(
            path, f"expected {_expected(schema)}, got {found(value)}{_type_hint(path, schema, value)}"
        )
    elif keyword in ("enum", "const"):
        choices = schema["enum"] if keyword == "enum" else [schema["const"]]
        shown = [c for c in choices if isinstance(c, str)]
        report.error(path, f"{found(value)} is not one of {', '.join(shown)}{did_you_mean(value, shown)}")
    elif keyword in ("minimum", "exclusiveMinimum"):
        report.error(path, f"expected {_bound_words(error)}, got {found(value)}")
    elif keyword == "minItems" and path == ("metrics",):
        report.error(
            path,
            f"expected two or more metrics, got {len(value)}; for one, write metric: {{name: ..., goal: ...}}",
        )
    elif keyword == "minItems":
        report.error(path, "expected a non-empty list, got an empty list")
    elif keyword == "minProperties":
        report.error(path, "expected a non-empty mapping, got an empty one")
    elif keyword == "minLength":
        report.error(path, "expected a non-empty string")
    elif keyword == "dependentRequired":
        for key, needs in schema["dependentRequired"].items():
            missing = [k for k in needs if key in value and k not in value]
            for need in missing:
                report.error(
                    path + (need,), f"required key is missing: {key} names a function in it", line_path=path
                )
    elif keyword == "anyOf" and path == ("early_terminate",):
        given = [k for k in ("min_iter", "max_iter", "s") if k in value]
        report.error(
            path,
            "needs min_iter, or max_iter together with s, to place its bands; "
            f"found {one_of(given) if given else 'none of them'}",
        )
    else:  # not reachable with the shipped schema; said as plainly as jsonschema can
        report.error(path, error.message)


def format_subject(path: KeyPath) -> str:
    return format_path(path) or "the config"


def _unknown_top_level_key(key: Any, value: Any) -> str:
    allowed = top_level_keys()
    if key == "parameter":
        return "not a known top-level key; did you mean 'parameters'?"
    hint = did_you_mean(key, allowed)
    if hint:
        return f"not a known top-level key{hint}"
    if isinstance(value, dict) and ("parameters" in value or "method" in value):
        return "not a known top-level key; it holds a whole sweep config: move its keys to the top level"
    return f"not a known top-level key (known: {', '.join(allowed)})"


def check_top_level(data: dict[str, Any], report: Collector) -> bool:
    """Check everything but the parameter tree against the schema; True when clean."""
    return report_errors(_top_level_validator(), data, (), report)


def check_definition(name: str, instance: Any, base: KeyPath, report: Collector, **kwargs: Any) -> bool:
    """Check ``instance`` against one ``$defs`` entry of the schema; True when clean."""
    return report_errors(_definition_validator(name), instance, base, report, **kwargs)
