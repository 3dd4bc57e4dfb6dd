"""The search space as a tree: building it, flat dotted names, and flat <-> nested dicts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweepkit.space import GridNotSupported, Param, SearchSpace, SpaceError


def const(value):
    return {"distribution": "constant", "value": value}


def cat(*values):
    return {"distribution": "categorical", "values": list(values)}


NESTED = {
    "optimizer": {
        "parameters": {
            "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
            "type": cat("adam", "sgd"),
            "schedule": {"parameters": {"warmup": {"distribution": "int_uniform", "min": 0, "max": 10}}},
        }
    },
    "optimizer.config.momentum": {"distribution": "uniform", "min": 0.0, "max": 0.99},
    "batch_size": cat(16, 32, 64),
    "epochs": const(10),
    "layers": cat([64, 32], [128]),
    "extra": const({"a": 1, "b": {"c": 2}}),
}


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace.from_parameters(NESTED)


def test_params_are_sorted_by_flat_name(space):
    assert space.names == (
        "batch_size",
        "epochs",
        "extra",
        "layers",
        "optimizer.config.momentum",
        "optimizer.lr",
        "optimizer.schedule.warmup",
        "optimizer.type",
    )
    assert [p.name for p in space.params] == list(space.names)
    assert len(space) == 8 and "optimizer.lr" in space and "optimizer" not in space


def test_paths_keep_dotted_top_level_names_whole(space):
    assert space.param("optimizer.config.momentum").path == ("optimizer.config.momentum",)
    assert space.param("optimizer.schedule.warmup").path == ("optimizer", "schedule", "warmup")
    assert space.param("optimizer.schedule.warmup").config_path == (
        "parameters.optimizer.parameters.schedule.parameters.warmup"
    )


def test_param_attributes(space):
    lr, kind, epochs = space.param("optimizer.lr"), space.param("optimizer.type"), space.param("epochs")
    assert lr.kind == "log_uniform_values" and not lr.is_categorical and not lr.is_constant
    assert lr.values is None and lr.probabilities is None and lr.bounds == (1e-5, 1e-1)
    assert kind.is_categorical and kind.values == ["adam", "sgd"] and kind.probabilities == [0.5, 0.5]
    assert epochs.is_constant and epochs.values == [10] and epochs.probabilities == [1.0]
    assert space.param("optimizer.schedule.warmup").is_integer
    assert lr.spec == NESTED["optimizer"]["parameters"]["lr"]
    with pytest.raises(KeyError, match="no parameter named 'nope'"):
        space.param("nope")


def test_unflatten_nests_groups_and_keeps_dotted_names(space):
    flat = space.draw(random.Random(1))
    nested = space.unflatten(flat)
    assert set(nested) == {
        "batch_size",
        "epochs",
        "extra",
        "layers",
        "optimizer.config.momentum",
        "optimizer",
    }
    assert set(nested["optimizer"]) == {"lr", "type", "schedule"}
    assert nested["optimizer"]["schedule"] == {"warmup": flat["optimizer.schedule.warmup"]}
    assert nested["optimizer.config.momentum"] == flat["optimizer.config.momentum"]
    assert nested["extra"] == {"a": 1, "b": {"c": 2}}  # a dict value is not a group
    assert space.flatten(nested) == flat


def test_flatten_does_not_descend_into_dict_values(space):
    nested = {"extra": {"a": 1, "b": {"c": 2}}, "optimizer": {"lr": 0.01}}
    assert space.flatten(nested) == {"extra": {"a": 1, "b": {"c": 2}}, "optimizer.lr": 0.01}


def test_unknown_names_are_kept(space):
    assert space.unflatten({"other.name": 1, "optimizer.lr": 0.1}) == {
        "other.name": 1,
        "optimizer": {"lr": 0.1},
    }
    assert space.flatten({"other": {"x": 1}, "optimizer": {"lr": 0.1, "new": 2}}) == {
        "other": {"x": 1},
        "optimizer.lr": 0.1,
        "optimizer.new": 2,
    }


def test_group_given_a_non_dict_is_an_error(space):
    with pytest.raises(SpaceError, match="optimizer: expected a dict"):
        space.flatten({"optimizer": 3})


def test_a_value_where_a_group_goes_is_an_error(space):
    with pytest.raises(SpaceError, match="optimizer"):
        space.unflatten({"optimizer": 3, "optimizer.lr": 0.1})


def test_a_nested_name_and_a_dotted_name_that_collide_are_an_error():
    parameters = {"a": {"parameters": {"b": const(1)}}, "a.b": const(2)}
    with pytest.raises(SpaceError, match=r"'a\.b' names two parameters"):
        SearchSpace.from_parameters(parameters)


def test_an_unnormalized_leaf_is_a_clear_error():
    with pytest.raises(SpaceError, match=r"parameters\.lr: expected a normalized parameter"):
        SearchSpace.from_parameters({"lr": {"min": 0.0, "max": 1.0}})


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"lr": {"distribution": "uniform", "min": "abc", "max": 1}},
            r"parameters\.lr\.min: expected a number, got 'abc'",
        ),
        ({"lr": {"distribution": "uniform", "min": 1, "max": 1}}, r"parameters\.lr: expected min < max"),
        (
            {"lr": {"distribution": "log_uniform_values", "min": 0, "max": 1}},
            r"parameters\.lr\.min: expected a number > 0",
        ),
        (
            {"lr": {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0}},
            r"parameters\.lr\.q: expected a number > 0",
        ),
        (
            {"lr": {"distribution": "normal", "mu": 0, "sigma": -1}},
            r"parameters\.lr\.sigma: expected a number >= 0",
        ),
        (
            {"lr": {"distribution": "int_uniform", "min": 0.5, "max": 3}},
            r"parameters\.lr\.min: expected an integer",
        ),
        (
            {"lr": {"distribution": "gaussian"}},
            r"parameters\.lr\.distribution: expected one of constant, categorical",
        ),
        (
            {"lr": {"distribution": "categorical", "values": []}},
            r"parameters\.lr\.values: expected a non-empty list",
        ),
        (
            {
                "g": {
                    "parameters": {
                        "x": {
                            "distribution": "categorical_w_probabilities",
                            "values": [1, 2],
                            "probabilities": [1],
                        }
                    }
                }
            },
            r"parameters\.g\.parameters\.x\.probabilities: expected a list of 2 numbers",
        ),
        ({"g": {"parameters": {"x": 3}}}, r"parameters\.g\.parameters\.x: expected a mapping"),
        ("nope", r"parameters: expected a mapping"),
    ],
)
def test_bad_specs_name_their_key_path(parameters, message):
    with pytest.raises(SpaceError, match=message):
        SearchSpace.from_parameters(parameters)


def test_from_config_uses_the_normalized_parameters():
    class Loaded:  # the one attribute from_config reads of a SweepConfig
        parameters = NESTED

    assert SearchSpace.from_config(Loaded()).names == SearchSpace.from_parameters(NESTED).names


def test_from_config_with_the_real_loader():
    config = pytest.importorskip("sweepkit.sweep_config")
    if not hasattr(config, "load_config"):
        pytest.skip("sweepkit.sweep_config.load_config is not there yet")
    cfg = config.load_config(
        {
            "method": "random",
            "parameters": {
                "optimizer": {
                    "parameters": {"lr": {"min": 0.001, "max": 0.1}, "type": {"values": ["a", "b"]}}
                },
                "q": {"distribution": "q_uniform", "min": 0, "max": 10},
                "n": {"distribution": "normal"},
            },
        }
    )
    space = SearchSpace.from_config(cfg)
    assert space.names == ("n", "optimizer.lr", "optimizer.type", "q")
    assert space.param("optimizer.lr").kind == "uniform"
    assert space.param("q").spec["q"] == 1.0
    assert space.param("n").spec["mu"] == 0 and space.param("n").spec["sigma"] == 1


def test_index_of_compares_by_content():
    p = Param(("p",), cat(1, True, {"a": 1, "b": 2}, None, [1, 2], 2.5))
    assert p.index_of(1.0) == 0
    assert p.index_of(True) == 1
    assert p.index_of({"b": 2.0, "a": 1}) == 2
    assert p.index_of(None) == 3
    assert p.index_of([1.0, 2]) == 4
    with pytest.raises(SpaceError, match="parameter p: 3 is not one of the values"):
        p.index_of(3)
    with pytest.raises(ValueError):
        p.index_of([2, 1])
    assert Param(("c",), const(3)).index_of(3.0) == 0
    with pytest.raises(SpaceError):
        Param(("u",), {"distribution": "uniform", "min": 0, "max": 1}).index_of(0.5)


def test_grid_values_by_kind():
    assert Param(("c",), const([1, 2])).grid_values() == [[1, 2]]
    assert Param(("c",), cat("b", "a", "b")).grid_values() == ["b", "a", "b"]  # as listed
    assert Param(("i",), {"distribution": "int_uniform", "min": -2, "max": 2}).grid_values() == [
        -2,
        -1,
        0,
        1,
        2,
    ]
    q = Param(("q",), {"distribution": "q_uniform", "min": 0, "max": 1, "q": 0.25})
    assert q.grid_values() == [0.0, 0.25, 0.5, 0.75]  # max excluded
    q = Param(("q",), {"distribution": "q_uniform", "min": 1, "max": 10, "q": 3})
    assert q.grid_values() == [1, 4, 7] and all(type(v) is int for v in q.grid_values())
    q = Param(("q",), {"distribution": "q_uniform", "min": 0, "max": 4, "q": 1.0})
    assert q.grid_values() == [0.0, 1.0, 2.0, 3.0] and all(type(v) is float for v in q.grid_values())
    # numpy.arange(1, 1.3, 0.1) has 4 values, the last 1.3000000000000003; max is excluded here
    q = Param(("q",), {"distribution": "q_uniform", "min": 1, "max": 1.3, "q": 0.1})
    assert q.grid_values() == [1.0, 1.1, 1.2]


@pytest.mark.parametrize(
    "spec",
    [
        {"distribution": "uniform", "min": 0, "max": 1},
        {"distribution": "categorical_w_probabilities", "values": [1, 2], "probabilities": [0.5, 0.5]},
        {"distribution": "log_uniform_values", "min": 1e-3, "max": 1},
        {"distribution": "q_normal", "mu": 0, "sigma": 1, "q": 1},
        {"distribution": "beta", "a": 1, "b": 1},
    ],
)
def test_grid_refuses_other_kinds_naming_the_parameter(spec):
    p = Param(("model", "dropout"), spec)
    with pytest.raises(
        GridNotSupported,
        match=rf"parameters\.model\.parameters\.dropout: distribution {spec['distribution']} cannot",
    ):
        p.grid_values()


# --- round trips for any shape of tree ------------------------------------------------------------

keys = st.text(alphabet="abcxyz_.", min_size=1, max_size=6).filter(lambda k: not k.startswith("."))


def trees(depth: int = 3):
    leaf = st.builds(lambda v: const(v), st.integers(-5, 5) | st.text(max_size=3) | st.none())
    if depth == 0:
        return st.dictionaries(keys, leaf, min_size=1, max_size=3)
    return st.dictionaries(
        keys, leaf | trees(depth - 1).map(lambda children: {"parameters": children}), min_size=1, max_size=4
    )


@settings(deadline=None)
@given(trees())
def test_flatten_and_unflatten_round_trip_for_any_tree(parameters):
    try:
        space = SearchSpace.from_parameters(parameters)
    except SpaceError as err:  # two paths giving one dotted name: refused, and said so
        assert "names two parameters" in str(err)
        return
    flat = space.draw(random.Random(0))
    assert list(flat) == list(space.names)
    nested = space.unflatten(flat)
    assert space.flatten(nested) == flat
    assert space.unflatten(space.flatten(nested)) == nested
    for p in space.params:  # every value sits at its path
        node = nested
        for key in p.path:
            node = node[key]
        assert node == flat[p.name]
