"""``sweepkit.values``: the one JSON-safe conversion, the one spelling of NaN and the infinities,
W&B's step rule and what counts as a metric value (pure; property tests for the round trips)."""

from __future__ import annotations

import enum
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timezone
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sweepkit.values import (
    BAD_KEY,
    BAD_NUMBER,
    BAD_VALUE,
    dumps,
    is_metric_value,
    is_new_step,
    is_step,
    json_safe,
    logged_data,
    may_hold_nonfinite,
    step_of,
)

_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5).filter(lambda t: t not in ("NaN", "Infinity", "-Infinity")),
)
_json_values = st.recursive(
    _json_leaves,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@given(_json_values)
def test_logged_values_survive_strict_json(value):
    """What the store, the wire and the events file write, read back as logged data, is what was logged."""
    text = json.dumps(json_safe(value), allow_nan=False)  # what PostgreSQL's json type accepts
    assert _same(logged_data(json.loads(text)), value)
    assert _same(logged_data(json.loads(dumps(value))), value)


@given(_json_values)
def test_dumps_is_strict_json_and_flags_what_may_hold_nonfinite_texts(value):
    text = dumps(value)
    json.loads(text, parse_constant=lambda token: pytest.fail(f"bare {token} in {text}"))
    if not may_hold_nonfinite(text):
        assert _same(json.loads(text), value)


def test_one_spelling_of_nonfinite_numbers():
    assert json_safe([math.nan, math.inf, -math.inf]) == ["NaN", "Infinity", "-Infinity"]
    assert dumps({"x": math.inf}) == '{"x":"Infinity"}'
    assert dumps([math.nan], indent=2) == '[\n  "NaN"\n]'
    assert logged_data({"a": ["NaN", "Infinity", "-Infinity", "nan", "text"]})["a"][3:] == ["nan", "text"]
    kept = json_safe([math.nan], nonfinite="keep")
    assert math.isnan(kept[0])


class Color(enum.Enum):
    RED = 1


class Level(str, enum.Enum):
    HIGH = "high"


@dataclass
class Point:
    x: int
    y: tuple


class FakeArray:
    """What numpy and torch scalars and arrays offer: ``tolist``."""

    def __init__(self, values):
        self.values = values

    def tolist(self):
        return self.values


def test_conversions_of_what_python_code_hands_over():
    found = json_safe(
        {
            "array": FakeArray([1.5, math.nan]),
            "tuple": (1, 2),
            "set": {3, 1, 2},
            "date": date(2024, 1, 2),
            "moment": datetime(2024, 1, 2, 3, 4, tzinfo=timezone.utc),
            "fraction": Fraction(1, 4),
            "text enum": Level.HIGH,
            "enum": Color.RED,
            "dataclass": Point(1, (2, 3)),
            5: "key made text",
        }
    )
    assert found == {
        "array": [1.5, "NaN"],
        "tuple": [1, 2],
        "set": [1, 2, 3],
        "date": "2024-01-02",
        "moment": "2024-01-02T03:04:00+00:00",
        "fraction": 0.25,
        "text enum": "high",
        "enum": "Color.RED",
        "dataclass": {"x": 1, "y": [2, 3]},
        "5": "key made text",
    }
    assert type(found["text enum"]) is str


def test_bad_values_are_reported_with_their_path():
    seen = []

    def on_bad(path, problem, value):
        seen.append((path, problem, value))
        return None

    data = {"a": [1, {"b": math.inf}], 7: "x", "c": {1, 2}, "d": b"raw"}
    out = json_safe(data, nonfinite="bad", convert=False, on_bad=on_bad)
    assert seen == [
        (("a", 1, "b"), BAD_NUMBER, math.inf),
        ((7,), BAD_KEY, 7),
        (("c",), BAD_VALUE, {1, 2}),
        (("d",), BAD_VALUE, b"raw"),
    ]
    assert out == {"a": [1, {"b": None}], None: "x", "c": None, "d": None}


def test_the_step_rule():
    assert is_step(0) and is_step(2**63 - 1)
    assert not any(is_step(v) for v in (-1, 2**63, True, 1.0, "1", None))
    assert step_of(10.0) == 10 and step_of(3) == 3
    assert (
        step_of(1.5) is None
        and step_of(math.inf) is None
        and step_of(math.nan) is None
        and step_of(-1) is None
    )
    assert is_new_step(0, None) and is_new_step(5, 4)
    assert not is_new_step(4, 4) and not is_new_step(3, 4)


def test_a_metric_value_is_a_finite_real_number():
    assert all(is_metric_value(v) for v in (0, -3, 1.5, Fraction(1, 3), 1e308))
    assert not any(is_metric_value(v) for v in (math.nan, math.inf, -math.inf, True, "1.0", None, [1.0]))


def test_the_events_file_writes_strict_json_and_reads_logged_floats_back(tmp_path):
    from sweepkit.run_events import EventTail, encode

    path = tmp_path / "events.jsonl"
    row = {"_step": 0, "loss": math.nan, "best": -math.inf}
    lines = [encode({"k": "row", "row": row}), encode({"k": "config", "config": {"note": "NaN"}})]
    assert lines[0] == '{"k":"row","row":{"_step":0,"loss":"NaN","best":"-Infinity"}}\n'
    path.write_text("".join(lines) + '{"k":"row","row":{"_step":1,"loss":NaN}}\n')
    first, config, bare = EventTail(path).read()
    assert math.isnan(first["row"]["loss"]) and first["row"]["best"] == -math.inf
    assert config["config"] == {"note": "NaN"}  # a config keeps its texts
    assert math.isnan(bare["row"]["loss"])  # bare tokens (older writers, other programs) are read too


def test_the_metrics_file_applies_the_step_rule():
    from sweepkit.metric_lines import MetricLines

    rows, notes = [], []
    lines = MetricLines(rows.extend, notes.append)
    for number, values in enumerate(
        [
            {"a": 1},
            {"_step": 5.0, "a": 2},
            {"_step": 5, "a": 3},
            {"_step": math.inf},
            {"_step": 2**63},
            {"a": 4},
        ],
        start=1,
    ):
        lines.file_line(number, values)
    assert [(row["_step"], row["a"]) for row in rows] == [(0, 1), (5, 2), (6, 4)]
    assert [note.split(": ", 1)[1] for note in notes] == [
        "_step 5 is not after the previous line's step",
        "_step inf is not a whole number of 0 or more",
        "_step 9223372036854775808 is not a whole number of 0 or more",
    ]
