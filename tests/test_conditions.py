"""Conditional parameters (``when:``): the config's checks, the space's active sets, grid, random and
bayes over trees of conditions (hypothesis draws the trees), and the plan's conditions."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.search import bayes
from sweepkit.search.base import Finished
from sweepkit.search.bayes.encoding import INACTIVE_CATEGORY, INACTIVE_UNIT, Domain
from sweepkit.search.grid import grid_size, suggest_grid
from sweepkit.service.sweep_policy import SweepPolicy
from sweepkit.space import SearchSpace, canonical_key
from sweepkit.sweep_config import ConfigError, load_config, load_config_text

TREE = """\
method: grid
metric: {name: loss}
parameters:
  optimizer: {values: [sgd, adam, rmsprop]}
  momentum: {values: [0.0, 0.9], when: {optimizer: sgd}}
  beta1: {values: [0.9, 0.99], when: {optimizer: [adam, rmsprop]}}
  model:
    parameters:
      kind: {values: [cnn, transformer]}
      size: {values: [base, large]}
  heads: {values: [4, 8], when: {model.kind: transformer, model.size: [base, large]}}
  extra:
    when: {optimizer: adam}
    parameters:
      eps: {values: [1, 2]}
      deeper: {value: x, when: {extra.eps: 2}}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config_text(text, filename="s.yaml")
    return [str(p) for p in info.value.problems]


def config(parameters: dict, method: str = "random"):
    return load_config({"method": method, "metric": {"name": "loss"}, "parameters": parameters})


# --- the config's checks -------------------------------------------------------------------------


def test_a_valid_tree_keeps_its_conditions_in_the_normalized_config():
    cfg = load_config_text(TREE)
    assert cfg.parameters["momentum"]["when"] == {"optimizer": "sgd"}
    assert cfg.parameters["extra"]["when"] == {"optimizer": "adam"}
    assert load_config(cfg.data) == cfg  # the normalized form loads back to the same config


@pytest.mark.parametrize(
    "line, expected",
    [
        (
            "  m: {min: 0.0, max: 1.0, when: {optimizr: sgd}}",
            "s.yaml:5: parameters.m.when.optimizr: no parameter named 'optimizr' in this sweep; did you mean 'optimizer'?",
        ),
        (
            "  m: {values: [1], when: {optimizer: lion}}",
            "s.yaml:5: parameters.m.when.optimizer: 'lion' is not a value optimizer can take (its values: 'sgd', 'adam')",
        ),
        (
            "  m: {values: [1], when: {optimizer: [adam, lion]}}",
            "s.yaml:5: parameters.m.when.optimizer[1]: 'lion' is not a value optimizer can take (its values: 'sgd', 'adam')",
        ),
        (
            "  m: {values: [1], when: {m: 1}}",
            "s.yaml:5: parameters.m.when: m cannot exist only when it has a value itself",
        ),
        (
            "  m: {values: [1], when: {lr: 0.5}}",
            "s.yaml:5: parameters.m.when.lr: lr is uniform, so it equals 0.5 with probability 0: "
            "write a range such as {min: ..., max: ...}",
        ),
        (
            "  m: {values: [1], when: {lr: {min: 2, max: 3}}}",
            "s.yaml:5: parameters.m.when.lr: the range 2..3 is outside lr's 0.0..1.0: the condition never holds",
        ),
        (
            "  m: {values: [1], when: {}}",
            "s.yaml:5: parameters.m.when: expected a mapping of parameter names to values, such as "
            "{optimizer: sgd}, got an empty mapping",
        ),
        (
            "  m: {values: [1], when: {g: 1}}\n  g: {parameters: {x: {value: 1}}}",
            "s.yaml:5: parameters.m.when.g: 'g' is a nested group, not a parameter: name one of its parameters such as 'g.x'",
        ),
        (
            "  m: {values: [1], when: {optimizer: sgd}}\n  g: {parameters: {x: {value: 1}}, when: {nope: 1}}",
            "s.yaml:6: parameters.g.when.nope: no parameter named 'nope' in this sweep (name it by its flat dotted name)",
        ),
    ],
)
def test_each_problem_is_one_line_at_its_key_and_line(line, expected):
    text = (
        "method: random\nmetric: {name: loss}\nparameters:\n"
        "  optimizer: {values: [sgd, adam]}\n" + line + "\n  lr: {min: 0.0, max: 1.0}\n"
    )
    assert errors_of(text) == [expected]


def test_a_cycle_is_one_line_naming_it():
    text = (
        "method: random\nmetric: {name: loss}\nparameters:\n"
        "  a: {values: [1, 2], when: {b: 1}}\n  b: {values: [1, 2], when: {c: 1}}\n  c: {values: [1], when: {a: 2}}\n"
    )
    assert errors_of(text) == [
        "s.yaml:4: parameters.a.when: the conditions form a cycle (a -> b -> c -> a): no parameter of it could ever exist"
    ]


def test_a_child_that_shadows_another_name_is_an_error():
    text = (
        "method: random\nmetric: {name: loss}\nparameters:\n"
        "  optimizer: {values: [sgd, adam]}\n"
        "  sgd: {when: {optimizer: sgd}, parameters: {lr: {min: 0.0, max: 1.0}}}\n"
        "  sgd.lr: {min: 0.0, max: 0.1}\n"
    )
    assert errors_of(text) == [
        "s.yaml:6: parameters.sgd.lr: conditional parameter 'sgd.lr' shadows parameters.sgd.parameters.lr "
        "(the same flat name): two branches cannot share a name, so give each its own (sgd_lr, adam_lr)"
    ]


def test_a_condition_on_an_integer_takes_whole_numbers_in_range():
    base = "method: random\nmetric: {name: loss}\nparameters:\n  layers: {min: 1, max: 3}\n"
    assert load_config_text(base + "  w: {min: 0.0, max: 1.0, when: {layers: [2, 3]}}\n")
    assert errors_of(base + "  w: {min: 0.0, max: 1.0, when: {layers: 4}}\n") == [
        "s.yaml:5: parameters.w.when.layers: 4 is not a value layers can take (it lies in 1..3)"
    ]


def test_when_is_not_listed_among_a_kinds_keys_and_configs_without_it_are_unchanged():
    cfg = config({"p": {"values": [1, 2]}, "q": {"min": 0.0, "max": 1.0}})
    assert cfg.parameters == {
        "p": {"distribution": "categorical", "values": [1, 2]},
        "q": {"distribution": "uniform", "min": 0.0, "max": 1.0},
    }
    space = SearchSpace.from_config(cfg)
    assert not space.conditional and space.order == space.params


# --- the space -------------------------------------------------------------------------------------


def test_active_sets_follow_the_tree_to_any_depth():
    space = SearchSpace.from_config(load_config_text(TREE))
    assert [p.name for p in space.order][:3] == ["model.kind", "model.size", "optimizer"]
    point = {"optimizer": "adam", "beta1": 0.9, "extra.eps": 2, "extra.deeper": "x", "model.kind": "cnn"}
    assert space.active(point) == {
        "optimizer",
        "beta1",
        "extra.eps",
        "extra.deeper",
        "model.kind",
        "model.size",
    }
    # a parameter whose parent is inactive is inactive too
    assert "extra.deeper" not in space.active({"optimizer": "sgd", "extra.eps": 2, "extra.deeper": "x"})
    assert space.prune({"optimizer": "sgd", "momentum": 0.0, "beta1": 0.9, "other": 1}) == {
        "optimizer": "sgd",
        "momentum": 0.0,
        "other": 1,
    }


def test_a_range_condition():
    space = SearchSpace.from_config(
        config({"lr": {"min": 0.0, "max": 1.0}, "warmup": {"min": 1, "max": 9, "when": {"lr": {"min": 0.5}}}})
    )
    rng = random.Random(3)
    for _ in range(200):
        point = space.draw(rng)
        assert ("warmup" in point) == (point["lr"] >= 0.5)


# --- grid -------------------------------------------------------------------------------------------


def exhaust(space):
    runs, points = [], []
    while not isinstance(result := suggest_grid(space, runs), Finished):
        points.append(result.params)
        assert result.info == {"grid_index": len(points) - 1, "grid_size": grid_size(space)}
        runs.append(RunView(f"r{len(runs)}", RunState.RUNNING, result.params))
    return points


def test_a_grid_over_a_three_branch_tree_holds_each_valid_point_once():
    space = SearchSpace.from_config(load_config_text(TREE))
    # model: cnn (no heads) 2 sizes + transformer 2 sizes x 2 heads = 6; optimizer: sgd 2 + adam 2x2 + rmsprop 2 = 8
    assert grid_size(space) == 6 * 8
    points = exhaust(space)
    assert len(points) == 48
    assert len({canonical_key(p) for p in points}) == 48
    for p in points:
        assert set(p) == space.active(p)
    # runs of any state use their point up; a run holding an inactive value counts as its valid point
    runs = [RunView("x", RunState.FAILED, {**points[0], "beta1": 0.5})]
    assert suggest_grid(space, runs).info["grid_index"] == 1


def test_a_grid_of_only_unconditional_parameters_is_walked_as_before():
    space = SearchSpace.from_config(config({"a": {"values": [1, 2]}, "b": {"values": ["x", "y"]}}, "grid"))
    assert exhaust(space) == [{"a": a, "b": b} for a, b in itertools.product([1, 2], ["x", "y"])]


# --- hypothesis: random trees of conditions ---------------------------------------------------------


@st.composite
def trees(draw):
    """A random conditional space: categoricals and integers, each maybe conditional on an earlier one."""
    parameters: dict = {}
    names: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        name = f"p{i}"
        if draw(st.booleans()):
            spec = {"values": list(range(draw(st.integers(1, 3))))}
        else:
            spec = {"min": 0, "max": draw(st.integers(1, 2))}
        if names and draw(st.booleans()):
            parent = draw(st.sampled_from(names))
            pspec = parameters[parent]
            choices = pspec["values"] if "values" in pspec else list(range(pspec["max"] + 1))
            if "values" not in pspec and draw(st.booleans()):
                spec["when"] = {parent: {"min": 1}} if pspec["max"] >= 1 else {parent: 0}
            else:
                spec["when"] = {
                    parent: draw(st.lists(st.sampled_from(choices), min_size=1, max_size=2, unique=True))
                }
        parameters[name] = spec
        names.append(name)
    return parameters


def valid(parameters: dict, point: dict) -> bool:
    """The reference rule, written apart from the space: parents first (names are in order)."""
    active: dict = {}
    for name, spec in parameters.items():
        ok = True
        for parent, want in spec.get("when", {}).items():
            if parent not in active:
                ok = False
            elif isinstance(want, dict):
                ok = ok and active[parent] >= want["min"]
            else:
                ok = ok and active[parent] in (want if isinstance(want, list) else [want])
        if ok:
            if name not in point:
                return False
            value = point[name]
            if "values" in spec:
                if value not in spec["values"]:
                    return False
            elif not spec["min"] <= value <= spec["max"] or type(value) is not type(spec["min"]):
                return False
            active[name] = point[name]
    return set(point) == set(active)


@settings(max_examples=150, deadline=None)
@given(trees(), st.integers(0, 2**32))
def test_every_random_draw_is_a_valid_active_set(parameters, seed):
    space = SearchSpace.from_config(config(parameters))
    rng = random.Random(seed)
    for _ in range(20):
        assert valid(parameters, space.draw(rng))


@settings(max_examples=100, deadline=None)
@given(trees())
def test_the_grid_is_every_valid_point_exactly_once(parameters):
    space = SearchSpace.from_config(config(parameters, "grid"))
    axes = [
        [None, *(spec["values"] if "values" in spec else range(spec["min"], spec["max"] + 1))]
        for spec in parameters.values()
    ]
    brute = set()
    for combo in itertools.product(*axes):
        point = {n: v for n, v in zip(parameters, combo, strict=True) if v is not None}
        if valid(parameters, point):
            brute.add(canonical_key(point))
    points = exhaust(space)
    assert len(points) == len(brute) == grid_size(space)
    assert {canonical_key(p) for p in points} == brute


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trees(), st.integers(0, 2**32))
def test_bayes_suggests_only_valid_active_sets(parameters, seed):
    parameters = {
        **parameters,
        "x": {"min": 0.0, "max": 1.0, "when": {"p0": parameters["p0"].get("values", [0])[0]}},
    }
    cfg = load_config(
        {"method": "bayes", "metric": {"name": "loss"}, "parameters": parameters},
    )
    space = SearchSpace.from_config(cfg)
    rng = random.Random(seed)
    runs = []
    for i in range(9):
        point = bayes.next_run(cfg, space, runs, rng).params
        assert valid(parameters, point), point
        runs.append(RunView(str(i), RunState.FINISHED, point, MetricStats.from_values([rng.random()])))


# --- bayes's encoding ---------------------------------------------------------------------------------


def test_inactive_inputs_hold_the_imputed_value_and_rows_differing_only_there_are_one_point():
    cfg = load_config(
        {
            "method": "bayes",
            "metric": {"name": "loss"},
            "parameters": {
                "opt": {"values": ["sgd", "adam"]},
                "momentum": {"min": 0.0, "max": 1.0, "when": {"opt": "sgd"}},
                "beta": {"values": ["a", "b"], "when": {"opt": "adam"}},
            },
        }
    )
    domain = Domain(SearchSpace.from_config(cfg))
    names = [c.name for c in domain.columns]
    assert names == ["beta", "momentum", "opt"]
    row = domain.encode({"opt": "adam", "beta": "b"})
    assert list(row) == [1.0, INACTIVE_UNIT, 1.0]
    row = domain.encode({"opt": "sgd", "momentum": 0.25, "beta": "b"})  # a stray inactive value is ignored
    assert list(row) == [INACTIVE_CATEGORY, 0.25, 0.0]
    assert domain.encode({"opt": "sgd"}) is None  # an active parameter missing: not a usable row
    moved = domain.snap(domain.sample(200, __import__("numpy").random.default_rng(0)))
    for r in moved:
        point = domain.decode(r)
        assert set(point) == domain.space.active(point)
        assert (r[0] == INACTIVE_CATEGORY) == (point["opt"] == "sgd")
        assert (r[1] == INACTIVE_UNIT) or point["opt"] == "sgd"


# --- the plan -------------------------------------------------------------------------------------------


def test_the_plan_lists_each_parameters_conditions():
    cfg = load_config_text(TREE)
    plan = SweepPolicy(cfg.data, "s.yaml").plan
    by_name = {p.name: p for p in plan.parameters}
    assert by_name["optimizer"].when == []
    assert [(c.parent, c.values) for c in by_name["beta1"].when] == [("optimizer", ["adam", "rmsprop"])]
    assert [(c.parent, c.values) for c in by_name["extra.deeper"].when] == [
        ("optimizer", ["adam"]),
        ("extra.eps", [2]),
    ]


# --- the dashboard's reading of missing values ---------------------------------------------------------


def test_the_dashboard_marks_conditional_axes_and_importance_takes_absence_as_its_own_value():
    from sweepkit.dashboard.importance import compute, features
    from sweepkit.dashboard.params import axes

    cfg = config(
        {
            "opt": {"values": ["sgd", "adam"]},
            "momentum": {"min": 0.0, "max": 1.0, "when": {"opt": "sgd"}},
            "beta": {"values": ["a", "b"], "when": {"opt": "adam"}},
        }
    )
    params = axes(SweepPolicy(cfg.data, "s.yaml").plan.parameters)
    assert [(p.name, p.conditional) for p in params] == [("beta", True), ("momentum", True), ("opt", False)]
    assert params[1].to_json()["conditional"] is True
    rng = random.Random(0)
    samples = []
    for _ in range(40):
        if rng.random() < 0.5:
            m = rng.random()
            samples.append(([None, m, "sgd"], m))  # with sgd the metric is momentum itself
        else:
            samples.append(([rng.choice("ab"), None, "adam"], 0.5))
    names, columns = features(params, [v for v, _ in samples])
    assert ("beta", "null") not in names and ("beta", None) not in names  # no category for "absent"
    result = compute(params, samples)
    by_feature = {(f["param"], f["value"]): f for f in result["features"]}
    # correlation only over the runs that have momentum: the metric is momentum there
    assert by_feature[("momentum", None)]["correlation"] == pytest.approx(1.0)
    assert by_feature[("momentum", None)]["importance"] > 0.5
