"""The quick schema check says yes exactly when jsonschema finds no error in a parameter mapping."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepkit.sweep_config import kinds, schema_quick
from sweepkit.sweep_config.distributions import SPEC_KEYS
from sweepkit.sweep_config.problems import Collector
from sweepkit.sweep_config.schema import check_definition, definition

PROPERTY = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

numbers = st.one_of(
    st.integers(-5, 5), st.floats(-5, 5, allow_nan=False), st.sampled_from([0, 0.0, -0.0, 1, 1.0, 2.0, 1e-9])
)
values = st.one_of(
    numbers,
    st.booleans(),
    st.none(),
    st.sampled_from(["", "a", "uniform", "constant", "categorical"] + list(kinds())),
    st.lists(st.one_of(numbers, st.booleans(), st.none(), st.text(max_size=2)), max_size=4),
    st.dictionaries(st.text(max_size=2), numbers, max_size=2),
)
specs = st.dictionaries(st.sampled_from(SPEC_KEYS + ("parameters", "x")), values, max_size=5)


@pytest.mark.parametrize("kind", kinds())
@PROPERTY
@given(spec=specs)
def test_quick_yes_only_when_jsonschema_agrees(kind, spec):
    clean = check_definition(kind, spec, ("parameters", "p"), Collector(None))
    assert schema_quick.accepts(kind, spec) == clean


MINIMAL = {"value": 1, "values": [1, 2], "probabilities": [0.5, 0.5], "min": 1, "max": 2}


@pytest.mark.parametrize("kind", kinds())
def test_every_distribution_kind_is_judged_quickly(kind):
    spec = {"distribution": kind} | {k: MINIMAL[k] for k in definition(kind)["required"] if k in MINIMAL}
    assert schema_quick.accepts(kind, spec)
