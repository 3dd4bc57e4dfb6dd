"""A quick yes for a parameter mapping that a distribution's schema definition accepts.

``jsonschema`` builds a validator object per key it descends into: about 16 µs a parameter,
most of the time of checking a config of 50,000 parameters. The definitions of the distribution
kinds in ``schema.json`` use only a few plain keywords (type, required, properties,
additionalProperties, const, enum, minimum, exclusiveMinimum, minItems, items), so
:func:`accepts` reads each definition into a plan of those once and answers in a few dict
look-ups. It only ever says yes when ``jsonschema`` finds no error (pinned by a property test);
on any no, or any keyword it does not know, ``jsonschema`` checks the mapping and words the errors.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sweepkit.sweep_config.schema import definition

Check = Callable[[Any], bool]

_TYPES: dict[str, Check] = {
    "object": lambda v: type(v) is dict,
    "array": lambda v: type(v) is list,
    "string": lambda v: type(v) is str,
    "integer": lambda v: type(v) is int,
    "number": lambda v: type(v) is int or type(v) is float,
    "boolean": lambda v: type(v) is bool,
    "null": lambda v: v is None,
}
_IGNORED = frozenset({"description", "default", "title"})


class _Unknown(Exception):
    """A keyword the plan cannot judge: leave the definition to jsonschema."""


def _value_check(schema: dict[str, Any]) -> Check:
    """A predicate that is true only for values ``schema`` accepts."""
    checks: list[Check] = []
    for keyword, arg in schema.items():
        if keyword in _IGNORED:
            continue
        if keyword == "type":
            kinds = [_TYPES[k] for k in (arg if isinstance(arg, list) else [arg])]
            checks.append(lambda v, kinds=kinds: any(kind(v) for kind in kinds))
        elif keyword in ("const", "enum") and all(
            type(c) is str for c in ([arg] if keyword == "const" else arg)
        ):
            choices = frozenset([arg] if keyword == "const" else arg)
            checks.append(lambda v, choices=choices: type(v) is str and v in choices)
        elif keyword == "minimum":
            checks.append(lambda v, low=arg: not _is_number(v) or v >= low)
        elif keyword == "exclusiveMinimum":
            checks.append(lambda v, low=arg: not _is_number(v) or v > low)
        elif keyword == "minItems":
            checks.append(lambda v, n=arg: type(v) is not list or len(v) >= n)
        elif keyword == "items":
            item = _value_check(arg)
            checks.append(lambda v, item=item: type(v) is not list or all(item(x) for x in v))
        else:
            raise _Unknown(keyword)
    return lambda v: all(check(v) for check in checks)


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


@functools.cache
def _plan(name: str) -> tuple[tuple[str, ...], dict[str, Check]] | None:
    """The required keys and a check per allowed key of definition ``name``; None when the
    definition is not of the plain shape :func:`accepts` can judge."""
    schema = definition(name)
    if set(schema) - _IGNORED != {"type", "required", "properties", "additionalProperties"}:
        return None
    if schema["type"] != "object" or schema["additionalProperties"] is not False:
        return None
    try:
        checks = {key: _value_check(sub) for key, sub in schema["properties"].items()}
    except _Unknown:
        return None
    return tuple(schema["required"]), checks


def accepts(name: str, instance: Any) -> bool:
    """True only when ``instance`` passes the schema definition ``name``; False means: ask
    jsonschema."""
    plan = _plan(name)
    if plan is None or type(instance) is not dict:
        return False
    required, checks = plan
    for key in required:
        if key not in instance:
            return False
    for key, value in instance.items():
        check = checks.get(key)
        if check is None or not check(value):
            return False
    return True
