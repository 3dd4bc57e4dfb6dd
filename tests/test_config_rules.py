"""Validation rules and their messages: inference, each distribution, grid, metric, hyperband, names,
top-level keys, warnings, and the normalized form."""

from __future__ import annotations

import json

import pytest

from sweepkit.sweep_config import (
    ConfigError,
    Metric,
    Problem,
    SweepConfig,
    infer_kind,
    kinds,
    load_config,
    load_config_text,
)

BASE = {"method": "random", "parameters": {"x": {"value": 1}}, "program": "train.py"}


def config(**top) -> dict:
    out = {**BASE, **top}
    return {k: v for k, v in out.items() if v is not None}


def with_param(spec, method="random", **top) -> dict:
    return config(method=method, parameters={"p": spec}, **top)


def errors(source) -> list[str]:
    try:
        if isinstance(source, str):
            load_config_text(source, filename="sweep.yaml")
        else:
            load_config(source)
    except ConfigError as err:
        assert err.problems, "a ConfigError always carries problems"
        return [str(p) for p in err.problems]
    return []


def warnings_of(source) -> list[str]:
    cfg = load_config_text(source, filename="sweep.yaml") if isinstance(source, str) else load_config(source)
    return [str(w) for w in cfg.warnings]


def one_error(source) -> str:
    found = errors(source)
    assert len(found) == 1, found
    return found[0]


# --- inference (SPEC 1.1) --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec, kind",
    [
        ({"value": 3}, "constant"),
        ({"value": None}, "constant"),
        ({"values": [1, 2]}, "categorical"),
        ({"values": [1, 2], "probabilities": [0.5, 0.5]}, "categorical_w_probabilities"),
        ({"min": 1, "max": 5}, "int_uniform"),
        ({"min": 1, "max": 5.0}, "uniform"),
        ({"min": 1.0, "max": 5}, "uniform"),
        ({"min": 0.1, "max": 0.5}, "uniform"),
    ],
)
def test_inference(spec, kind):
    assert infer_kind(spec)[0] == kind
    assert load_config(with_param(spec)).parameters["p"]["distribution"] == kind


def test_inference_first_match_wins_and_extra_keys_are_errors():
    message = one_error(with_param({"value": 1, "values": [1, 2]}))
    assert message == (
        "parameters.p.values: key 'values' is not allowed for constant (inferred from key 'value'), "
        "which takes value"
    )
    found = errors(with_param({"values": [1, 2], "min": 0, "max": 3}))
    assert found == [
        "parameters.p.min: key 'min' is not allowed for categorical (inferred from key 'values'), which takes values",
        "parameters.p.max: key 'max' is not allowed for categorical (inferred from key 'values'), which takes values",
    ]


def test_nothing_to_infer_from():
    assert "empty parameter" in one_error(with_param({}))
    message = one_error(with_param({"mu": 0, "sigma": 1}))
    assert "need an explicit 'distribution'" in message
    message = one_error(with_param({"vaules": [1, 2]}))
    assert message == "parameters.p.vaules: unknown key 'vaules'; did you mean 'values'?"


def test_dict_without_distribution_keys_or_parameters_is_an_error():
    text = "method: grid\nparameters:\n  trainer:\n    lr:\n      min: 0.1\n      max: 0.5\n    bs:\n      values: [4]\n"
    message = one_error(text)
    assert message.startswith("sweep.yaml:3: parameters.trainer: ")
    assert "put them under a 'parameters:' key" in message


# --- every distribution, with its defaults filled -----------------------------------------------

MINIMAL = {
    "constant": ({"value": "a"}, {}),
    "categorical": ({"values": ["a", "b"]}, {}),
    "categorical_w_probabilities": ({"values": ["a", "b"], "probabilities": [0.25, 0.75]}, {}),
    "int_uniform": ({"min": 1, "max": 4}, {}),
    "uniform": ({"min": 0, "max": 1.5}, {}),
    "q_uniform": ({"min": 0, "max": 10}, {"q": 1.0}),
    "log_uniform_values": ({"min": 1e-5, "max": 1e-1}, {}),
    "q_log_uniform_values": ({"min": 1, "max": 256}, {"q": 1.0}),
    "inv_log_uniform_values": ({"min": 0.9, "max": 1}, {}),
    "log_uniform": ({"min": -11, "max": -3}, {}),
    "q_log_uniform": ({"min": 1, "max": 5}, {"q": 1.0}),
    "inv_log_uniform": ({"min": -5, "max": 0}, {}),
    "normal": ({}, {"mu": 0.0, "sigma": 1.0}),
    "q_normal": ({"mu": 5}, {"sigma": 1.0, "q": 1.0}),
    "log_normal": ({"sigma": 2}, {"mu": 0.0}),
    "q_log_normal": ({}, {"mu": 0.0, "sigma": 1.0, "q": 1.0}),
    "beta": ({"a": 2}, {"b": 1.0}),
    "q_beta": ({}, {"a": 1.0, "b": 1.0, "q": 1.0}),
}


def test_every_kind_is_covered():
    assert set(MINIMAL) == set(kinds())


@pytest.mark.parametrize("kind", sorted(MINIMAL))
def test_each_kind_loads_with_defaults(kind):
    given, defaults = MINIMAL[kind]
    cfg = load_config(with_param({"distribution": kind, **given}))
    assert cfg.parameters["p"] == {"distribution": kind, **given, **defaults}
    assert list(cfg.parameters["p"])[0] == "distribution"
    assert load_config(cfg.data).data == cfg.data


def test_unknown_distribution_suggests_the_closest():
    message = one_error(with_param({"distribution": "log_uniform_value", "min": 1, "max": 2}))
    assert (
        message
        == "parameters.p.distribution: 'log_uniform_value' is not a known distribution; did you mean 'log_uniform_values'?"
    )
    assert "is not a known distribution (known: constant" in one_error(with_param({"distribution": "zzz"}))


def test_key_not_allowed_for_kind_gets_advice():
    message = one_error(with_param({"distribution": "uniform", "min": 0, "max": 1, "q": 0.1}))
    assert message == (
        "parameters.p.q: key 'q' is not allowed for uniform (given by 'distribution'), which takes min and max; "
        "did you mean distribution: q_uniform?"
    )
    message = one_error(with_param({"distribution": "categorical", "values": [1], "probabilities": [1]}))
    assert "use distribution: categorical_w_probabilities" in message
    message = one_error(with_param({"distribution": "normal", "mu": 0, "sigam": 1}))
    assert message.endswith("did you mean 'sigma'?")


def test_missing_keys_are_named():
    found = errors(with_param({"distribution": "q_uniform", "min": 0}))
    assert found == ["parameters.p.max: required key is missing (q_uniform needs min and max)"]


def test_min_must_be_less_than_max():
    assert one_error(with_param({"min": 3, "max": 3})) == (
        "parameters.p.min: min must be less than max, got min 3 and max 3"
    )
    assert "less than max" in one_error(with_param({"min": 0.5, "max": 0.1}))


def test_bounds_must_be_numbers():
    message = one_error("method: random\nparameters:\n  lr:\n    min: abc\n    max: 0.1\n")
    assert message == "sweep.yaml:4: parameters.lr.min: expected a number, got 'abc'"
    message = one_error("method: random\nparameters:\n  lr:\n    min: '1e-5'\n    max: 0.1\n")
    assert "remove the quotes" in message
    assert "expected a number, got true" in one_error(with_param({"min": True, "max": 2.5}))


def test_int_uniform_bounds_must_be_integers():
    text = "method: random\nparameters:\n  n:\n    distribution: int_uniform\n    min: 2.\n    max: 8\n"
    assert one_error(text) == (
        "sweep.yaml:5: parameters.n.min: expected an integer, got 2.0; write 2 without the decimal point"
    )


def test_log_kinds_need_positive_min():
    for kind in ("log_uniform_values", "q_log_uniform_values", "inv_log_uniform_values"):
        message = one_error(with_param({"distribution": kind, "min": 0, "max": 1}))
        assert message == "parameters.p.min: expected a number > 0, got 0"


def test_quantisation_and_spread_bounds():
    assert "expected a number > 0, got 0" in one_error(
        with_param({"distribution": "q_uniform", "min": 0, "max": 5, "q": 0})
    )
    assert "expected a number >= 0, got -1" in one_error(with_param({"distribution": "normal", "sigma": -1}))
    assert "expected a number >= 0, got -2" in one_error(with_param({"distribution": "beta", "a": -2}))


def test_probabilities():
    spec = {"values": [1, 2, 3], "probabilities": [0.5, 0.5]}
    assert (
        one_error(with_param(spec))
        == "parameters.p.probabilities: expected one probability per value (3), got 2"
    )
    spec = {"values": [1, 2], "probabilities": [0.5, 0.6]}
    assert (
        one_error(with_param(spec))
        == "parameters.p.probabilities: probabilities must sum to 1, they sum to 1.1"
    )
    spec = {"values": [1, 2], "probabilities": [1.5, -0.5]}
    assert one_error(with_param(spec)) == "parameters.p.probabilities[1]: expected a number >= 0, got -0.5"
    spec = {"values": [1, 2, 3], "probabilities": [0.1, 0.2, 0.7]}  # 0.1 + 0.2 is not exactly 0.3
    assert load_config(with_param(spec)).parameters["p"]["probabilities"] == [0.1, 0.2, 0.7]


def test_values_must_be_a_non_empty_list():
    text = "method: random\nparameters:\n  epochs:\n    values: 3\n"
    assert one_error(text) == (
        "sweep.yaml:4: parameters.epochs.values: expected a list, got 3; a single value is written [3] "
        "(or use value: for a constant)"
    )
    assert (
        one_error(with_param({"values": []}))
        == "parameters.p.values: expected a non-empty list, got an empty list"
    )


# --- grid -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["constant", "categorical", "int_uniform", "q_uniform"])
def test_grid_allows(kind):
    given, _ = MINIMAL[kind]
    assert errors(with_param({"distribution": kind, **given}, method="grid")) == []


@pytest.mark.parametrize(
    "kind", sorted(set(MINIMAL) - {"constant", "categorical", "int_uniform", "q_uniform"})
)
def test_grid_rejects_naming_the_parameter(kind):
    given, _ = MINIMAL[kind]
    message = one_error(with_param({"distribution": kind, **given}, method="grid"))
    assert message.startswith(f"parameters.p: distribution {kind} cannot be used with method grid")


def test_grid_rejects_nested_parameter_with_its_path():
    cfg = config(method="grid", parameters={"opt": {"parameters": {"lr": {"min": 0.1, "max": 0.2}}}})
    assert one_error(cfg).startswith(
        "parameters.opt.parameters.lr: distribution uniform cannot be used with method grid"
    )


# --- metric ---------------------------------------------------------------------------------------


def test_goal_misspelt_names_file_line_and_suggestion():
    text = "method: random\nmetric:\n  name: acc\n  goal: maximise\nparameters:\n  x:\n    value: 1\n"
    assert one_error(text) == (
        "sweep.yaml:4: metric.goal: 'maximise' is not one of minimize, maximize; did you mean 'maximize'?"
    )
    assert one_error(config(metric={"name": "a", "goal": "Maximize"})).endswith("did you mean 'maximize'?")


def test_metric_fields():
    assert one_error(config(metric={"goal": "minimize"})) == "metric.name: required key is missing"
    assert "metric.impute: 'median' is not one of worst, best, latest" in one_error(
        config(metric={"name": "a", "impute": "median"})
    )
    assert "metric.target: expected a number, got 'high'" in one_error(
        config(metric={"name": "a", "target": "high"})
    )
    assert "did you mean 'target'?" in one_error(config(metric={"name": "a", "targt": 1}))


def test_metric_defaults_and_sign():
    cfg = load_config(config(metric={"name": "loss"}))
    assert cfg.data["metric"] == {"name": "loss", "goal": "minimize", "impute": "worst"}
    assert cfg.metric == Metric("loss", "minimize", None, "worst")
    assert cfg.metric.sign == 1
    cfg = load_config(config(metric={"name": "acc", "goal": "maximize", "target": 0.9, "impute": "best"}))
    assert cfg.metric == Metric("acc", "maximize", 0.9, "best")
    assert cfg.metric.sign == -1


def test_metric_required_by_bayes_and_early_terminate():
    assert one_error(config(method="bayes")).startswith("metric: method bayes needs a metric")
    message = one_error(config(early_terminate={"type": "hyperband", "min_iter": 3}))
    assert message.startswith("metric: early_terminate needs a metric")
    assert errors(config(method="grid")) == []
    assert load_config(config(method="random")).metric is None


# --- early_terminate ------------------------------------------------------------------------------

METRIC = {"name": "loss"}


def et(**fields) -> dict:
    return config(metric=METRIC, early_terminate={"type": "hyperband", **fields})


def test_hyperband_defaults():
    cfg = load_config(et(min_iter=3))
    assert cfg.early_terminate == {"type": "hyperband", "min_iter": 3, "eta": 3, "strict": True}


def test_hyperband_needs_a_band_source():
    assert (
        one_error(et())
        == "early_terminate: needs min_iter, or max_iter together with s, to place its bands; found none of them"
    )
    assert one_error(et(max_iter=27)).endswith("found max_iter")


def test_hyperband_without_any_band_is_an_error():
    message = one_error(et(max_iter=2, s=1, eta=3))
    assert message.startswith("early_terminate: no band: max_iter 2 divided by eta 3")


def test_hyperband_field_rules():
    assert "early_terminate.eta: expected a number > 1, got 1" in one_error(et(min_iter=3, eta=1))
    assert "early_terminate.type: 'hyperbnd' is not one of hyperband; did you mean 'hyperband'?" in one_error(
        config(metric=METRIC, early_terminate={"type": "hyperbnd", "min_iter": 3})
    )
    assert "early_terminate.type: required key is missing" in one_error(
        config(metric=METRIC, early_terminate={"min_iter": 3})
    )
    assert "early_terminate.min_iter: expected an integer >= 1, got 0" in one_error(et(min_iter=0))
    assert "early_terminate.strict: expected true or false, got 'yes'" in one_error(
        et(min_iter=1, strict="yes")
    )
    assert "did you mean 'max_iter'?" in one_error(et(min_iter=1, maxiter=3))


def test_hyperband_ignored_keys_are_warned():
    warned = warnings_of(et(min_iter=5, max_iter=50))
    assert warned == [
        "early_terminate.max_iter: ignored without s: the bands come from min_iter (5, 15, 45, 135, 405, 1215, 3645, 10935, ...)"
    ]
    assert warnings_of(et(min_iter=2, s=2))[0].startswith("early_terminate.s: ignored without max_iter")
    assert warnings_of(et(min_iter=2, s=2, max_iter=27))[0].startswith(
        "early_terminate.min_iter: ignored: max_iter and s"
    )


def test_hyperband_bands():
    from sweepkit.stopping.hyperband import bands as hyperband_bands

    assert hyperband_bands({"max_iter": 27, "s": 2, "eta": 3}) == [3, 9]
    assert hyperband_bands({"max_iter": 27, "s": 5, "eta": 3}) == [1, 3, 9]
    assert hyperband_bands({"min_iter": 3})[:4] == [3, 9, 27, 81]
    assert hyperband_bands({"min_iter": 2, "eta": 2.5})[:3] == [2, 5, 12]
    assert hyperband_bands({"max_iter": 2, "s": 1}) == []
    # bands no run can reach (beyond 2**53 iterations) are left out; the config is still valid
    assert hyperband_bands({"min_iter": 10**30, "eta": 1e300}) == []
    assert (
        errors(
            config(
                metric={"name": "m"}, early_terminate={"type": "hyperband", "min_iter": 10**30, "eta": 1e300}
            )
        )
        == []
    )


# --- top level ------------------------------------------------------------------------------------


def test_unknown_top_level_keys_suggest():
    assert (
        one_error(config(paramters={})) == "paramters: not a known top-level key; did you mean 'parameters'?"
    )
    assert (
        one_error(config(early_terminte={}))
        == "early_terminte: not a known top-level key; did you mean 'early_terminate'?"
    )
    assert one_error(config(scheduler={"engine": "optuna"})).startswith(
        "method: scheduler.engine optuna does not run method random: write method: custom"
    )
    assert one_error(config(metrics=[])).startswith("metrics: expected two or more metrics, got 0")
    assert "known: method, parameters" in one_error(config(zzzzzz=1))


def test_method():
    assert (
        one_error(config(method="gird"))
        == "method: 'gird' is not one of grid, random, bayes, custom; did you mean 'grid'?"
    )
    assert one_error(config(method="custom")).startswith(
        "metric: method custom (an Optuna sampler) needs a metric to optimise"
    )
    found = errors({"parameters": {"x": {"value": 1}}})
    assert found == ["method: required key is missing: say how to search (grid, random or bayes)"]


def test_accepted_and_ignored_keys_are_kept():
    extra = {
        "controller": {"type": "local"},
        "apiVersion": "v1",
        "kind": "sweep",
        "job": "wandb/jobs/x:latest",
        "image_uri": "docker.io/x",
        "name": "n",
        "description": "d",
        "project": "p",
        "entity": "e",
    }
    cfg = load_config(config(**extra))
    for key, value in extra.items():
        assert cfg.data[key] == value
    assert (cfg.name, cfg.description, cfg.project, cfg.entity) == ("n", "d", "p", "e")


def test_labels_must_be_strings():
    assert one_error(config(name=2024)) == "name: expected a string, got 2024"


@pytest.mark.parametrize(
    "bad, expected",
    [(0, "> 0, got 0"), (-1, "> 0, got -1"), (2.5, "an integer, got 2.5"), (True, "got true")],
)
def test_run_cap(bad, expected):
    assert expected in one_error(config(run_cap=bad))


def test_run_cap_and_seed_values():
    cfg = load_config(config(run_cap=10, seed=42))
    assert (cfg.run_cap, cfg.seed) == (10, 42)
    assert "seed: expected an integer, got 'abc'" in one_error(config(seed="abc"))
    assert "seed: expected an integer >= 0, got -1" in one_error(config(seed=-1))
    assert load_config(config()).seed is None


def test_parameters_section_shape():
    assert one_error(config(parameters={})) == "parameters: expected a non-empty mapping, got an empty one"
    assert one_error(config(parameters=[1])).startswith("parameters: expected a mapping, got a list")
    assert "has no value" in one_error("method: grid\nparameters:\n")


def test_command_shape():
    assert one_error(config(command="python train.py ${args}")).endswith("write one argument per list item")
    assert one_error(config(command=[])) == "command: expected a non-empty list, got an empty list"
    assert "command[1]: expected a string, a number, true or false or null, got a list" in one_error(
        config(command=["a", ["b"]])
    )


# --- parameter names and nesting ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["my lr", "1lr", "lr!", ""])
def test_bad_parameter_names(name):
    assert "is not allowed: a name starts with a letter or _" in one_error(
        config(parameters={name: {"value": 1}})
    )


@pytest.mark.parametrize("name", ["lr", "_x", "optimizer.config.lr", "a-b", "A9"])
def test_good_parameter_names(name):
    assert load_config(config(parameters={name: {"value": 1}})).parameters[name]["value"] == 1


def test_names_inside_groups_are_checked():
    cfg = config(parameters={"g": {"parameters": {"bad name": {"value": 1}}}})
    assert one_error(cfg).startswith(
        "parameters.g.parameters.bad name: parameter name 'bad name' is not allowed"
    )


def test_nested_groups():
    cfg = load_config(
        config(parameters={"a": {"parameters": {"b": {"parameters": {"c": {"min": 1, "max": 3}}}}}})
    )
    assert cfg.parameters == {
        "a": {"parameters": {"b": {"parameters": {"c": {"distribution": "int_uniform", "min": 1, "max": 3}}}}}
    }


def test_nested_group_rules():
    assert one_error(config(parameters={"g": {"parameters": {}}})) == (
        "parameters.g.parameters: expected at least one parameter in the nested group, got none"
    )
    assert one_error(config(parameters={"g": {"parameters": None}})) == (
        "parameters.g.parameters: expected a mapping of parameters, got null"
    )
    message = one_error(config(parameters={"g": {"parameters": {"x": {"value": 1}}, "values": [1]}}))
    assert "either a nested group" in message
    assert "only parameters" in one_error(
        config(parameters={"g": {"parameters": {"x": {"value": 1}}, "zz": 1}})
    )


def test_parameter_spec_must_be_a_mapping():
    assert one_error(config(parameters={"lr": 0.01})).endswith("for a constant write {value: 0.01}")
    assert one_error(config(parameters={"lr": [1, 2]})).endswith(
        "for a list of choices write {values: [...]}"
    )


def test_flat_name_collisions():
    cfg = config(parameters={"opt.lr": {"value": 1}, "opt": {"parameters": {"lr": {"value": 2}}}})
    message = one_error(cfg)
    assert message.startswith(
        "parameters.opt.parameters.lr: flat name 'opt.lr' is also the flat name of parameters.opt.lr"
    )
    # a dotted name next to a group of another name is fine
    assert (
        errors(config(parameters={"opt.lr": {"value": 1}, "opt": {"parameters": {"mom": {"value": 2}}}}))
        == []
    )


# --- all problems at once, and their form ---------------------------------------------------------


def test_all_problems_are_collected():
    text = """\
method: bayes
metric:
  name: acc
  goal: maximise
run_cap: 0
parameters:
  lr:
    min: 0.1
    max: 0.01
  n:
    distribution: int_uniform
    min: 1.5
    max: 3
  bad name:
    value: 1
  e:
    values: []
programm: train.py
"""
    found = errors(text)
    assert found == [
        "sweep.yaml:4: metric.goal: 'maximise' is not one of minimize, maximize; did you mean 'maximize'?",
        "sweep.yaml:5: run_cap: expected an integer > 0, got 0",
        "sweep.yaml:8: parameters.lr.min: min must be less than max, got min 0.1 and max 0.01",
        "sweep.yaml:12: parameters.n.min: expected an integer, got 1.5",
        "sweep.yaml:14: parameters.bad name: parameter name 'bad name' is not allowed: a name starts with a "
        "letter or _ and holds only letters, digits, _, . and -",
        "sweep.yaml:17: parameters.e.values: expected a non-empty list, got an empty list",
        "sweep.yaml:18: programm: not a known top-level key; did you mean 'program'?",
    ]


def test_problem_and_error_formats():
    p = Problem("error", "parameters.lr.min", "expected a number, got 'abc'", "sweep.yaml", 12)
    assert str(p) == "sweep.yaml:12: parameters.lr.min: expected a number, got 'abc'"
    assert p.format(severity=True) == "sweep.yaml:12: error: parameters.lr.min: expected a number, got 'abc'"
    assert str(Problem("warning", "x", "m", None, None)) == "x: m"
    assert str(Problem("error", "", "m", "f.yaml", None)) == "f.yaml: m"
    err = ConfigError([p, Problem("error", "method", "required key is missing", "sweep.yaml", None)])
    assert str(err) == (
        "sweep.yaml:12: parameters.lr.min: expected a number, got 'abc'\nsweep.yaml: method: required key is missing"
    )
    from sweepkit.errors import SweepkitError

    assert isinstance(err, SweepkitError)


def test_dict_source_problems_have_no_file_unless_named():
    with pytest.raises(ConfigError) as caught:
        load_config({"method": "grid"})
    assert caught.value.problems[0].file is None and caught.value.problems[0].line is None
    with pytest.raises(ConfigError) as caught:
        load_config({"method": "grid"}, filename="mine.py")
    assert str(caught.value).startswith("mine.py: parameters:")


# --- warnings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "low, high, warned",
    [
        (0.0001, 0.1, True),
        (0.001, 0.04, True),
        (1, 100, True),
        (-11, -3, False),
        (-7.0, 0, False),
        (3.47, 5.55, False),
        (0, 1, False),
    ],
)
def test_legacy_exponent_bounds_that_look_like_values(low, high, warned):
    for kind in ("log_uniform", "q_log_uniform", "inv_log_uniform"):
        found = warnings_of(with_param({"distribution": kind, "min": low, "max": high}))
        assert any("look like raw values" in w and f"{kind}_values" in w for w in found) == warned


def test_zero_one_inferred_as_int_uniform_is_warned():
    found = warnings_of(with_param({"min": 0, "max": 1}))
    assert found == [
        "parameters.p: min 0 and max 1 are integers, so this is int_uniform and only 0 or 1 are drawn; "
        "write 0.0 and 1.0 (or distribution: uniform) for a real range"
    ]
    assert warnings_of(with_param({"distribution": "int_uniform", "min": 0, "max": 1})) == []
    assert warnings_of(with_param({"min": 0.0, "max": 1})) == []


def test_duplicate_values_are_warned_by_content():
    found = warnings_of(
        with_param({"values": [3, 3.0, True, 1, {"a": 1, "b": 2}, {"b": 2, "a": 1}]}, method="grid")
    )
    assert found == [
        "parameters.p.values[1]: duplicate value 3.0 (same as values[0]): the grid tries the same point twice",
        "parameters.p.values[5]: duplicate value a mapping {'b': 2, 'a': 1} (same as values[4]): "
        "the grid tries the same point twice",
    ]
    found = warnings_of(with_param({"values": ["a", "a"]}))
    assert found == [
        "parameters.p.values[1]: duplicate value 'a' (same as values[0]): the value is drawn more often than the others"
    ]


def test_command_macros():
    def warned(command):
        return warnings_of(
            config(command=command, parameters={"lr": {"value": 1}, "g": {"parameters": {"x": {"value": 2}}}})
        )

    assert warned(["${env}", "${interpreter}", "${program}"])[0].startswith("command: no ${args...} macro")
    for macro in (
        "${args}",
        "${args_no_equals}",
        "${args_no_hyphens}",
        "${args_no_boolean_flags}",
        "${args_append_hydra}",
        "${args_override_hydra}",
        "${args_json}",
        "${args_json_file}",
    ):
        assert warned(["python", "train.py", macro]) == []
    assert warned(["python", "train.py", "--lr=${lr}"]) == []
    assert warned(["python", "train.py", "--x=${g.x}", "--home=${envvar:HOME}"]) == []
    assert errors(
        config(command=["python", "train.py", "${args}", "--y=${y}"], parameters={"lr": {"value": 1}})
    ) == [
        "command[3]: ${y} is neither a macro nor a sweep parameter; parameters: lr; "
        "write $${y} to pass the text literally"
    ]


def test_warnings_do_not_raise_and_lines_are_cited():
    text = "method: grid\nparameters:\n  x:\n    values: [1, 1]\n"
    cfg = load_config_text(text, filename="sweep.yaml")
    assert [w.format(severity=True) for w in cfg.warnings] == [
        "sweep.yaml: warning: program: not given, and no command either: program agents (sweepkit agent, "
        "sweepkit run) cannot run this sweep, only function agents (sweepkit.agent(sweep_id, function=train)) can",
        "sweep.yaml:4: warning: parameters.x.values[1]: duplicate value 1 (same as values[0]): the grid tries the same point twice",
    ]


# --- the normalized form --------------------------------------------------------------------------


def test_normalized_form_is_json_safe_and_loads_again():
    source = {
        "method": "bayes",
        "metric": {"name": "loss"},
        "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2},
        "parameters": {
            "lr": {"distribution": "q_log_uniform_values", "min": 1, "max": 100},
            "layers": {"values": [(64, 32), (128,)]},
            "opt": {"parameters": {"kind": {"values": ["adam", None]}, "m": {"distribution": "normal"}}},
        },
        "command": ["python", "train.py", 128, True, 0.5, "${args}"],
        "controller": {"type": "local"},
    }
    cfg = load_config(source)
    assert cfg.source == "<dict>"
    assert json.loads(json.dumps(cfg.data)) == cfg.data
    assert cfg.parameters["layers"]["values"] == [[64, 32], [128]]
    assert cfg.parameters["opt"]["parameters"]["m"] == {"distribution": "normal", "mu": 0.0, "sigma": 1.0}
    assert cfg.command == ["python", "train.py", "128", "True", "0.5", "${args}"]
    assert cfg.data["controller"] == {"type": "local"}
    again = load_config(cfg.data)
    assert again.data == cfg.data and again == cfg
    assert isinstance(again, SweepConfig)
    # raw keeps what was given
    assert cfg.raw["parameters"]["lr"] == {"distribution": "q_log_uniform_values", "min": 1, "max": 100}


def test_command_elements_keep_their_yaml_text():
    text = "method: grid\nparameters:\n  x:\n    value: 1\ncommand:\n  - python\n  - --lr\n  - 1e-5\n  - --n\n  - 0x10\n  - ${args}\n"
    assert load_config_text(text).command == ["python", "--lr", "1e-5", "--n", "0x10", "${args}"]


def test_not_json_values_are_errors():
    assert "not a finite number" in one_error(with_param({"values": [float("nan")]}))
    assert "not a finite number" in one_error(with_param({"min": 0, "max": float("inf")}))
    assert (
        one_error(with_param({"values": [{1: "a"}]}))
        == "parameters.p.values[0][1]: key 1 is not a string; quote it"
    )
    assert "is not a JSON value" in one_error(with_param({"value": {1, 2}}))
    assert "is not a JSON value" in one_error(with_param({"value": b"x"}))


def test_cyclic_and_deep_dicts_are_errors():
    loop: dict = {"value": None}
    loop["value"] = loop
    assert "refers to itself" in one_error(with_param(loop))
    deep: list = []
    node = deep
    for _ in range(300):
        node.append([])
        node = node[0]
    assert "nested more than" in one_error(with_param({"value": deep}))


def test_sources_that_are_not_configs():
    with pytest.raises(ConfigError) as caught:
        load_config(123)  # type: ignore[arg-type]
    assert "expected a file path or a mapping, got 123" in str(caught.value)


def test_very_many_problems_are_capped_with_a_count():
    from sweepkit.sweep_config.problems import MAX_SHOWN

    with pytest.raises(ConfigError) as caught:
        load_config(with_param({"values": [float("nan")] * (MAX_SHOWN + 50)}))
    problems = caught.value.problems
    assert len(problems) == MAX_SHOWN + 1
    assert str(problems[-1]) == "... and 50 more errors"
