"""The example configs of the seed document (W&B's sweep configuration guide) load as it describes."""

from __future__ import annotations

import pytest

from sweepkit.stopping.hyperband import bands as hyperband_bands
from sweepkit.sweep_config import ConfigError, load_config, load_config_text

SWEEPDEMO_YAML = """\
program: train.py
name: sweepdemo
method: bayes
metric:
  goal: minimize
  name: validation_loss
parameters:
  learning_rate:
    min: 0.0001
    max: 0.1
  batch_size:
    values: [16, 32, 64]
  epochs:
    values: [5, 10, 15]
  optimizer:
    values: ["adam", "sgd"]
"""

SWEEPDEMO_DICT = {
    "name": "sweepdemo",
    "method": "bayes",
    "metric": {"goal": "minimize", "name": "validation_loss"},
    "parameters": {
        "learning_rate": {"min": 0.0001, "max": 0.1},
        "batch_size": {"values": [16, 32, 64]},
        "epochs": {"values": [5, 10, 15]},
        "optimizer": {"values": ["adam", "sgd"]},
    },
}

RANDOM_YAML = """\
program: train.py
method: random
metric:
  goal: minimize
  name: loss
parameters:
  batch_size:
    distribution: q_log_uniform_values
    max: 256
    min: 32
    q: 8
  dropout:
    values: [0.3, 0.4, 0.5]
  epochs:
    value: 1
  fc_layer_size:
    values: [128, 256, 512]
  learning_rate:
    distribution: uniform
    max: 0.1
    min: 0
  optimizer:
    values: ["adam", "sgd"]
"""

RANDOM_DICT = {
    "method": "random",
    "metric": {"goal": "minimize", "name": "loss"},
    "parameters": {
        "batch_size": {
            "distribution": "q_log_uniform_values",
            "max": 256,
            "min": 32,
            "q": 8,
        },
        "dropout": {"values": [0.3, 0.4, 0.5]},
        "epochs": {"value": 1},
        "fc_layer_size": {"values": [128, 256, 512]},
        "learning_rate": {"distribution": "uniform", "max": 0.1, "min": 0},
        "optimizer": {"values": ["adam", "sgd"]},
    },
}

BAYES_HYPERBAND_YAML = """\
program: train.py
method: bayes
metric:
  goal: minimize
  name: val_loss
parameters:
  dropout:
    values: [0.15, 0.2, 0.25, 0.3, 0.4]
  hidden_layer_size:
    values: [96, 128, 148]
  layer_1_size:
    values: [10, 12, 14, 16, 18, 20]
  layer_2_size:
    values: [24, 28, 32, 36, 40, 44]
  learn_rate:
    values: [0.001, 0.01, 0.003]
  decay:
    values: [1e-5, 1e-6, 1e-7]
  momentum:
    values: [0.8, 0.9, 0.95]
  epochs:
    value: 27
early_terminate:
  type: hyperband
  s: 2
  eta: 3
  max_iter: 27
"""

COMMAND_YAML = """\
program: main.py
metric:
  name: val_loss
  goal: minimize
method: bayes
parameters:
  optimizer.config.learning_rate:
    min: !!float 1e-5
    max: 0.1
  experiment:
    values: [expt001, expt002]
  optimizer:
    values: [sgd, adagrad, adam]
command:
  - ${env}
  - ${interpreter}
  - ${program}
  - ${args_no_hyphens}
"""

# the document's sweep config as it is printed: a dict of run-config values, not a sweep config
NESTED_AS_PRINTED = {
    "top_level_param": 0,
    "nested_param": {
        "learning_rate": 0.01,
        "double_nested_param": {"x": 0.9, "y": 0.8},
    },
}

# the same sweep written as a sweep config: nested groups under `parameters:` keys
NESTED_AS_SWEEP = {
    "method": "grid",
    "parameters": {
        "top_level_param": {"value": 0},
        "nested_param": {
            "parameters": {
                "learning_rate": {"value": 0.01},
                "double_nested_param": {
                    "parameters": {"x": {"value": 0.9}, "y": {"value": 0.8}},
                },
            },
        },
    },
}


def _kinds(parameters: dict) -> dict:
    return {name: spec["distribution"] for name, spec in parameters.items()}


def test_sweepdemo_yaml_and_dict_agree():
    from_yaml = load_config_text(SWEEPDEMO_YAML, filename="sweepdemo.yaml")
    from_dict = load_config(SWEEPDEMO_DICT)
    assert _kinds(from_yaml.parameters) == {
        "learning_rate": "uniform",
        "batch_size": "categorical",
        "epochs": "categorical",
        "optimizer": "categorical",
    }
    assert from_yaml.name == "sweepdemo" and from_yaml.program == "train.py"
    assert from_yaml.method == "bayes"
    assert from_yaml.metric.name == "validation_loss" and from_yaml.metric.goal == "minimize"
    assert from_yaml.metric.sign == 1
    # the document's YAML and dict are the same sweep (the dict leaves out `program`)
    data = dict(from_yaml.data)
    del data["program"]
    assert data == from_dict.data
    assert from_yaml.warnings == []
    # the dict, for a function agent, has nothing for program agents to run
    assert [p.path for p in from_dict.warnings] == ["program"]


def test_random_example_yaml_and_dict_agree():
    from_yaml = load_config_text(RANDOM_YAML)
    from_dict = load_config(RANDOM_DICT)
    assert _kinds(from_yaml.parameters) == {
        "batch_size": "q_log_uniform_values",
        "dropout": "categorical",
        "epochs": "constant",
        "fc_layer_size": "categorical",
        "learning_rate": "uniform",
        "optimizer": "categorical",
    }
    batch = from_yaml.parameters["batch_size"]
    assert (batch["min"], batch["max"], batch["q"]) == (32, 256, 8)
    assert from_yaml.parameters["learning_rate"] == {"distribution": "uniform", "min": 0, "max": 0.1}
    assert from_yaml.parameters["epochs"] == {"distribution": "constant", "value": 1}
    data = dict(from_yaml.data)
    del data["program"]
    assert data == from_dict.data


def test_bayes_hyperband_example():
    cfg = load_config_text(BAYES_HYPERBAND_YAML)
    kinds = _kinds(cfg.parameters)
    assert kinds.pop("epochs") == "constant"
    assert set(kinds.values()) == {"categorical"}
    # YAML 1.2 numbers: W&B would read these three as strings
    assert cfg.parameters["decay"]["values"] == [1e-5, 1e-6, 1e-7]
    assert cfg.early_terminate == {"type": "hyperband", "max_iter": 27, "s": 2, "eta": 3, "strict": True}
    assert hyperband_bands(cfg.early_terminate) == [3, 9]


def test_command_example_with_float_tag_and_dotted_name():
    cfg = load_config_text(COMMAND_YAML)
    lr = cfg.parameters["optimizer.config.learning_rate"]  # one flat name, not a nested group
    assert lr == {"distribution": "uniform", "min": 1e-5, "max": 0.1}
    assert isinstance(lr["min"], float)
    assert cfg.parameters["experiment"]["values"] == ["expt001", "expt002"]
    assert cfg.command == ["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"]
    assert cfg.warnings == []


@pytest.mark.parametrize(
    "command, warned",
    [
        (["${env}", "python3", "${program}", "${args}"], False),
        (
            ["${env}", "${interpreter}", "${program}", "--config", "your-training-config.json", "${args}"],
            False,
        ),
        (["${env}", "${interpreter}", "${program}"], True),
        (["${env}", "${interpreter}", "${program}", "${args_no_hyphens}"], False),
    ],
)
def test_command_variants_of_the_document(command, warned):
    cfg = load_config({**SWEEPDEMO_DICT, "program": "train.py", "command": command})
    assert cfg.command == command
    assert any("no ${args...} macro" in str(w) for w in cfg.warnings) == warned


def test_nested_example_as_printed_is_rejected_clearly():
    with pytest.raises(ConfigError) as caught:
        load_config(NESTED_AS_PRINTED)
    message = str(caught.value)
    for key in ("method", "parameters", "top_level_param", "nested_param"):
        assert key in message


def test_nested_example_as_sweep_keeps_its_nesting():
    cfg = load_config(NESTED_AS_SWEEP)
    nested = cfg.parameters["nested_param"]
    assert set(nested) == {"parameters"}
    assert nested["parameters"]["learning_rate"] == {"distribution": "constant", "value": 0.01}
    double = nested["parameters"]["double_nested_param"]
    assert set(double) == {"parameters"}
    assert double["parameters"]["x"] == {"distribution": "constant", "value": 0.9}
    assert double["parameters"]["y"] == {"distribution": "constant", "value": 0.8}
    assert cfg.parameters["top_level_param"] == {"distribution": "constant", "value": 0}


def test_min_iter_snippet_bands():
    cfg = load_config({**SWEEPDEMO_DICT, "early_terminate": {"type": "hyperband", "min_iter": 3}})
    assert cfg.early_terminate == {"type": "hyperband", "min_iter": 3, "eta": 3, "strict": True}
    assert hyperband_bands(cfg.early_terminate)[:4] == [3, 9, 27, 81]


def test_max_iter_snippet_bands():
    cfg = load_config({**SWEEPDEMO_DICT, "early_terminate": {"type": "hyperband", "max_iter": 27, "s": 2}})
    assert hyperband_bands(cfg.early_terminate) == [3, 9]


def test_template_with_misspelt_parameter_key_suggests_parameters():
    template = "program: train.py\nmethod: random\nparameter:\n  lr:\n    value: 0\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(template, filename="template.yaml")
    message = str(caught.value)
    assert "template.yaml:3: parameter: not a known top-level key; did you mean 'parameters'?" in message
    assert "parameters: required key is missing" in message
