"""Content equality of parameter values (grid dedup and bayes rely on it)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweepkit.space import canonical_key, values_equal


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (3, 3.0),
        (0, -0.0),
        (10**20, 1e20),
        ({"a": 1, "b": [1, 2]}, {"b": [1.0, 2], "a": 1.0}),
        ([1, {"x": None}], [1.0, {"x": None}]),
        ((1, 2), [1, 2]),
        (None, None),
        (float("nan"), float("nan")),
        ("adam", "adam"),
        (True, True),
        ({"nested": {"z": 1, "a": [True]}}, {"nested": {"a": [True], "z": 1.0}}),
    ],
)
def test_equal_by_content(a, b):
    assert values_equal(a, b)
    assert canonical_key(a) == canonical_key(b)
    assert hash(canonical_key(a)) == hash(canonical_key(b))


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (True, 1),
        (False, 0),
        (False, None),
        (0, None),
        ("", None),
        ("3", 3),
        ([1, 2], [2, 1]),
        ([1, 2], [1, 2, 2]),
        ({"a": 1}, {"a": 1, "b": 2}),
        ({"a": True}, {"a": 1}),
        ([True], [1]),
        (0.1 + 0.2, 0.3),
        ([], {}),
        ([], None),
    ],
)
def test_different_by_content(a, b):
    assert not values_equal(a, b)
    assert canonical_key(a) != canonical_key(b)


def test_numpy_scalars_compare_like_python_values():
    np = pytest.importorskip("numpy")
    assert values_equal(np.int64(3), 3.0)
    assert values_equal(np.float64(0.5), 0.5)
    assert values_equal(np.bool_(True), True)
    assert not values_equal(np.bool_(True), 1)
    assert values_equal(np.array([1, 2]), [1.0, 2.0])


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=4), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(deadline=None)
@given(json_values)
def test_a_json_round_trip_keeps_the_key(value):
    assert values_equal(json.loads(json.dumps(value)), value)


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=4), json_values, max_size=5))
def test_dict_key_order_is_ignored(value):
    reordered = dict(reversed(list(value.items())))
    assert canonical_key(reordered) == canonical_key(value)


@settings(deadline=None)
@given(json_values, json_values)
def test_key_equality_is_values_equal(a, b):
    assert values_equal(a, b) == (canonical_key(a) == canonical_key(b))
    if values_equal(a, b):
        assert hash(canonical_key(a)) == hash(canonical_key(b))
