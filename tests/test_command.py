"""Tests for command rendering: every macro, value rendering, inline macros, errors, real commands."""

from __future__ import annotations

import json
import string

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from corpus_dir import CORPUS_DIR as CORPUS
from sweepkit.command_template import (
    DEFAULT_COMMAND,
    MACROS,
    CommandError,
    param_file_text,
    render_command,
    typed_args_json,
    uses_args_json_file,
    uses_args_macro,
    write_args_json_file,
)
from sweepkit.errors import SweepkitError

#: One value of every kind the SPEC names, under names whose sorted order differs from this order.
PARAMS = {
    "lr": 0.001,
    "small": 1e-07,
    "flag": True,
    "off": False,
    "x": None,
    "layers": [64, 32],
    "opt": {"lr": 0.01},
    "name": "adam",
    "epochs": 10,
}


def render(command, params=PARAMS, **kwargs):
    kwargs.setdefault("program", "train.py")
    kwargs.setdefault("environ", {})
    return render_command(command, params, **kwargs)


# --------------------------------------------------------------------------- every macro


def test_default_command_is_env_interpreter_program_args():
    assert render(None, {"lr": 0.001}) == ["/usr/bin/env", "python", "train.py", "--lr=0.001"]


def test_empty_command_means_the_default_as_in_wandb():
    assert render([], {"lr": 0.001}) == render(list(DEFAULT_COMMAND), {"lr": 0.001})


def test_env_macro():
    assert render(["${env}"]) == ["/usr/bin/env"]
    assert render(["${env}", "x"], env_path="/bin/env") == ["/bin/env", "x"]


def test_env_macro_with_no_env_path_is_left_out():
    assert render(["${env}", "python"], env_path=None) == ["python"]


def test_interpreter_macro():
    assert render(["${interpreter}"]) == ["python"]
    assert render(["${interpreter}"], interpreter="/opt/py/bin/python3") == ["/opt/py/bin/python3"]


def test_program_macro():
    assert render(["${program}"], program="scripts/train.py") == ["scripts/train.py"]


def test_args_macro():
    assert render(["${args}"]) == [
        "--epochs=10",
        "--flag=True",
        "--layers=[64, 32]",
        "--lr=0.001",
        "--name=adam",
        "--off=False",
        "--opt={'lr': 0.01}",
        "--small=1e-07",
        "--x=None",
    ]


def test_args_no_equals_macro():
    assert render(["${args_no_equals}"]) == [
        "--epochs", "10",
        "--flag", "True",
        "--layers", "[64, 32]",
        "--lr", "0.001",
        "--name", "adam",
        "--off", "False",
        "--opt", "{'lr': 0.01}",
        "--small", "1e-07",
        "--x", "None",
    ]  # fmt: skip


def test_args_no_hyphens_macro():
    assert render(["${args_no_hyphens}"]) == [
        "epochs=10",
        "flag=True",
        "layers=[64, 32]",
        "lr=0.001",
        "name=adam",
        "off=False",
        "opt.lr=0.01",  # Hydra refuses W&B's opt={'lr': 0.01}; a dotted override it accepts
        "small=1e-07",
        "x=None",
    ]


def test_args_no_boolean_flags_macro():
    assert render(["${args_no_boolean_flags}"]) == [
        "--epochs=10",
        "--flag",
        "--layers=[64, 32]",
        "--lr=0.001",
        "--name=adam",
        "--opt={'lr': 0.01}",
        "--small=1e-07",
        "--x=None",
    ]


def test_args_no_boolean_flags_keeps_one_and_zero():
    # only real booleans become flags: 1 and 0 are numbers
    assert render(["${args_no_boolean_flags}"], {"a": 1, "b": 0}) == ["--a=1", "--b=0"]


def test_args_append_hydra_macro():
    assert render(["${args_append_hydra}"]) == [
        "+epochs=10",
        "+flag=True",
        "+layers=[64, 32]",
        "+lr=0.001",
        "+name=adam",
        "+off=False",
        "+opt.lr=0.01",
        "+small=1e-07",
        "+x=None",
    ]


def test_args_override_hydra_macro():
    assert render(["${args_override_hydra}"]) == [
        "++epochs=10",
        "++flag=True",
        "++layers=[64, 32]",
        "++lr=0.001",
        "++name=adam",
        "++off=False",
        "++opt.lr=0.01",
        "++small=1e-07",
        "++x=None",
    ]


def test_args_json_macro_is_one_element_with_types_kept():
    out = render(["${args_json}"])
    assert len(out) == 1
    assert json.loads(out[0]) == PARAMS
    assert out[0] == (
        '{"epochs": 10, "flag": true, "layers": [64, 32], "lr": 0.001, "name": "adam", '
        '"off": false, "opt": {"lr": 0.01}, "small": 1e-07, "x": null}'
    )
    assert out[0] == typed_args_json(PARAMS)


def test_args_json_file_macro_is_the_path():
    assert render(["cli", "--json-file", "${args_json_file}"], args_json_file="/tmp/r1.json") == [
        "cli",
        "--json-file",
        "/tmp/r1.json",
    ]


def test_envvar_macro_is_replaced_inline_and_whole():
    environ = {"DATA": "/data", "RUN": "r7"}
    command = ["${envvar:DATA}", "--out=${envvar:DATA}/out/${envvar:RUN}", "${envvar:RUN}${envvar:RUN}"]
    assert render(command, environ=environ) == ["/data", "--out=/data/out/r7", "r7r7"]


def test_envvar_set_to_empty_text_gives_an_empty_argument():
    assert render(["a", "${envvar:EMPTY}", "b"], environ={"EMPTY": ""}) == ["a", "", "b"]


def test_envvar_defaults_to_os_environ(monkeypatch):
    monkeypatch.setenv("SWEEPKIT_TEST_DIR", "/x")
    assert render_command(["--d=${envvar:SWEEPKIT_TEST_DIR}"], {}, program=None) == ["--d=/x"]


def test_envvar_value_is_not_expanded_again():
    assert render(["${envvar:V}"], environ={"V": "${args}"}) == ["${args}"]


# --------------------------------------------------------------------------- value rendering


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.001, "0.001"),
        (1e-07, "1e-07"),
        (True, "True"),
        (False, "False"),
        (None, "None"),
        ([64, 32], "[64, 32]"),
        ({"lr": 0.01, "type": "adam"}, "{'lr': 0.01, 'type': 'adam'}"),
        ("adam", "adam"),
        (3, "3"),
        (3.0, "3.0"),
        ("two words", "two words"),
    ],
)
def test_values_render_like_python_str(value, text):
    assert render(["${args}"], {"k": value}) == [f"--k={text}"]
    assert render(["--k=${k}"], {"k": value}) == [f"--k={text}"]


def test_arguments_come_in_sorted_name_order():
    params = {"zeta": 1, "alpha": 2, "Beta": 3, "a.b": 4, "a": 5}
    assert render(["${args}"], params) == ["--Beta=3", "--a=5", "--a.b=4", "--alpha=2", "--zeta=1"]


def test_flat_dotted_name_is_one_argument():
    assert render(["${args}"], {"optimizer.config.lr": 0.1}) == ["--optimizer.config.lr=0.1"]


def test_nested_group_is_one_argument():
    params = {"optimizer": {"lr": 0.01, "type": "adam"}, "epochs": 2}
    assert render(["${args}"], params) == ["--epochs=2", "--optimizer={'lr': 0.01, 'type': 'adam'}"]


def test_non_string_command_items_are_turned_into_text_as_wandb_does():
    assert render(["prog", "--n", 128, "--on", True, "--f", 1.5]) == [
        "prog",
        "--n",
        "128",
        "--on",
        "True",
        "--f",
        "1.5",
    ]


def test_other_elements_are_passed_unchanged_even_with_spaces():
    command = ["python ", " -m", "a b", "'quoted'", "$HOME", "*.py", "${program} "]
    assert render(command) == ["python ", " -m", "a b", "'quoted'", "$HOME", "*.py", "train.py "]


# --------------------------------------------------------------------------- inline parameter macros


def test_inline_parameter_macro():
    assert render(["--lr=${lr}", "--epochs", "${epochs}"]) == ["--lr=0.001", "--epochs", "10"]


def test_inline_macros_several_in_one_element():
    assert render(["run-${name}-${epochs}.log"]) == ["run-adam-10.log"]


def test_inline_macro_reaches_into_nested_groups():
    params = {"optimizer": {"lr": 0.01, "sched": {"gamma": 0.9}}, "model": {"depth": 4}}
    assert render(["--lr=${optimizer.lr}", "--g=${optimizer.sched.gamma}", "${model.depth}"], params) == [
        "--lr=0.01",
        "--g=0.9",
        "4",
    ]


def test_inline_macro_of_a_whole_group_renders_the_dict():
    assert render(["--opt=${opt}"]) == ["--opt={'lr': 0.01}"]


def test_inline_macro_matches_a_flat_dotted_top_level_name_first():
    params = {"optimizer.lr": 0.5, "optimizer": {"lr": 0.01}}
    assert render(["${optimizer.lr}"], params) == ["0.5"]
    assert render(["${optimizer.lr}"], {"optimizer.lr": 0.5}) == ["0.5"]


def test_inline_macro_into_a_nested_key_with_dots():
    assert render(["${model.conv.k}"], {"model": {"conv.k": 3}}) == ["3"]


def test_macro_names_win_over_parameters_of_the_same_name():
    params = {"program": "not-this", "args": 1}
    assert render(["${program}", "${args}"], params) == ["train.py", "--args=1", "--program=not-this"]


def test_single_valued_macros_work_inline():
    out = render(
        ["--script=${program}", "--py=${interpreter}", "--p=${args_json_file}"], args_json_file="/t/a.json"
    )
    assert out == ["--script=train.py", "--py=python", "--p=/t/a.json"]
    assert json.loads(render(["--cfg=${args_json}"])[0].removeprefix("--cfg=")) == PARAMS


def test_dollar_dollar_escapes_a_literal_reference():
    assert render(["$${lr}", "--x=$${not_a_param}", "$${args}"]) == ["${lr}", "--x=${not_a_param}", "${args}"]


def test_text_in_braces_that_is_not_a_name_is_kept():
    assert render(["${}", "${a b}", "${1x}", "${foo:bar}", "${", "}"]) == [
        "${}",
        "${a b}",
        "${1x}",
        "${foo:bar}",
        "${",
        "}",
    ]


# --------------------------------------------------------------------------- errors


def test_errors_are_sweepkit_errors():
    assert issubclass(CommandError, SweepkitError)


def test_program_macro_without_program_is_an_error():
    with pytest.raises(CommandError, match=r"command uses \$\{program\} but the sweep config has no program"):
        render(None, program=None)


def test_no_program_is_fine_when_the_command_does_not_use_it():
    assert render(["python", "t.py", "${args}"], {"a": 1}, program=None) == ["python", "t.py", "--a=1"]


def test_args_json_file_without_a_path_is_an_error():
    with pytest.raises(CommandError, match=r"\$\{args_json_file\}"):
        render(["${args_json_file}"])


def test_unset_envvar_is_an_error_naming_it():
    with pytest.raises(CommandError, match="environment variable DATA_DIR is not set"):
        render(["--d=${envvar:DATA_DIR}"], environ={"DATA": "x"})


def test_envvar_without_a_name_is_an_error():
    with pytest.raises(CommandError, match="names no environment variable"):
        render(["${envvar:}"])


def test_unknown_parameter_reference_is_an_error_with_a_suggestion():
    with pytest.raises(CommandError) as err:
        render(["--lr=${lrr}"], {"lr": 0.1, "batch_size": 8})
    message = str(err.value)
    assert "'--lr=${lrr}'" in message
    assert "${lrr} is neither a macro nor a sweep parameter" in message
    assert "did you mean ${lr}?" in message
    assert "batch_size, lr" in message
    assert "\n" not in message


def test_unknown_nested_reference_suggests_the_nested_path():
    with pytest.raises(CommandError, match=r"did you mean \$\{optimizer\.lr\}\?"):
        render(["${optimizer.lrr}"], {"optimizer": {"lr": 0.1}})


def test_misspelt_macro_suggests_the_macro():
    with pytest.raises(CommandError, match=r"did you mean \$\{args_no_hyphens\}\?"):
        render(["${args_no_hyphen}"], {"lr": 0.1})


def test_list_macro_inside_a_longer_element_is_an_error():
    with pytest.raises(CommandError, match="must be an element of the command list on its own"):
        render(["--all=${args}"])


def test_empty_command_item_is_an_error():
    with pytest.raises(CommandError, match=r"command\[1\]: expected a string, got an empty item"):
        render(["python", None])


def test_command_as_one_string_is_an_error():
    with pytest.raises(CommandError, match="expected a list of strings"):
        render("python train.py ${args}")


def test_command_that_renders_to_nothing_is_an_error():
    with pytest.raises(CommandError, match="no arguments at all"):
        render(["${args}"], {})


def test_values_that_are_not_json_are_an_error_for_args_json():
    with pytest.raises(CommandError, match="cannot be written as JSON"):
        render(["${args_json}"], {"s": {1, 2}})


# --------------------------------------------------------------------------- inspection helpers


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        (None, True),
        ([], True),
        (["${env}", "${interpreter}", "${program}"], False),
        (["python", "t.py", "--d=${envvar:DATA}"], False),
        (["python", "t.py", "$${args}"], False),
        (["python", "t.py", "${args_no_hyphens}"], True),
        (["python", "t.py", "${args_json}"], True),
        (["cli", "--json-file", "${args_json_file}"], True),
        (["python", "t.py", "--lr=${lr}"], True),
        (["python", "t.py", "${optimizer.lr}"], True),
        (["python", 3, True], False),
    ],
)
def test_uses_args_macro(command, expected):
    assert uses_args_macro(command) is expected


def test_uses_args_json_file():
    assert uses_args_json_file(["cli", "${args_json_file}"])
    assert uses_args_json_file(["--f=${args_json_file}"])
    assert not uses_args_json_file(None)
    assert not uses_args_json_file(["$${args_json_file}"])


def test_write_args_json_file(tmp_path):
    path = write_args_json_file(tmp_path / "sweep-s1" / "config-r1.json", PARAMS)
    assert json.loads(path.read_text()) == PARAMS


# --------------------------------------------------------------------------- the parameter file


def test_param_file_text_is_the_wandb_format():
    text = param_file_text({"lr": 0.001, "optimizer": {"lr": 0.01, "type": "adam"}, "flag": True})
    assert text == (
        "wandb_version: 1\n"
        "\n"
        "flag:\n"
        "  value: true\n"
        "lr:\n"
        "  value: 0.001\n"
        "optimizer:\n"
        "  value:\n"
        "    lr: 0.01\n"
        "    type: adam\n"
    )


def test_param_file_reads_back_as_wandb_reads_it():
    loaded = yaml.safe_load(param_file_text(PARAMS))
    assert loaded.pop("wandb_version") == 1
    assert {name: entry["value"] for name, entry in loaded.items()} == PARAMS


def test_param_file_without_parameters():
    assert param_file_text({}) == "wandb_version: 1"


# --------------------------------------------------------------------------- commands from real configs

# Copied from the corpus of real configs (tests/corpus_dir.py; sources: umanlp/babeledits:configs/wandb_sweep.yaml,
# AMorporkian/kohya_ss:sweep.yaml, microsoft/Lightweight-Low-Resource-NMT:scripts/sweep.yaml),
# read with yaml.safe_load as `wandb sweep` does.
BABELEDITS_010 = """
command:
  - ${env}
  - python
  - ${program}
  - ${args_no_hyphens}
  - model=llama-3-1
  - method=ft
  - --config-name
  - hp_tuning.yaml
program: hp_tuning.py
"""

KOHYA_046 = """
command:
  - ${env}
  - ${interpreter}
  - /workspace/src/kohya_ss/train_network.py
  - --sample_every_n_epochs
  - 1
  - --xformers
  - --clip_skip
  - 2
  - --network_dim
  - 128
  - --seed
  - 784793
  - ${args}
  - --train_batch_size
  - 5
"""

MSNMT_058 = """
program: train.py·
command:·
- python·
- ${program}
- --do_train·
- True·
- --tgt_lang·
- bzd··
- --per_device_eval_batch_size·
- 128
- --eval_accumulation_steps
- 4
- ${args}
""".replace("·", " ")  # each · is a trailing space of the original file


def test_corpus_010_hydra_overrides_with_list_values():
    config = yaml.safe_load(BABELEDITS_010)
    out = render(config["command"], {"method.layers": [3]}, program=config["program"])
    assert out == [
        "/usr/bin/env",
        "python",
        "hp_tuning.py",
        "method.layers=[3]",
        "model=llama-3-1",
        "method=ft",
        "--config-name",
        "hp_tuning.yaml",
    ]


def test_corpus_046_args_mid_list_and_numbers_in_the_command():
    config = yaml.safe_load(KOHYA_046)
    params = {"unet_lr": 0.0005, "network_alpha": 16, "lr_scheduler_num_cycles": 3}
    out = render(config["command"], params, program=None)
    assert out == [
        "/usr/bin/env",
        "python",
        "/workspace/src/kohya_ss/train_network.py",
        "--sample_every_n_epochs",
        "1",
        "--xformers",
        "--clip_skip",
        "2",
        "--network_dim",
        "128",
        "--seed",
        "784793",
        "--lr_scheduler_num_cycles=3",
        "--network_alpha=16",
        "--unet_lr=0.0005",
        "--train_batch_size",
        "5",
    ]


def test_corpus_058_trailing_spaces_and_yaml_booleans():
    config = yaml.safe_load(MSNMT_058)
    # YAML drops the trailing spaces of plain scalars, and reads True and 128 as a bool and an int
    assert config["program"] == "train.py"
    params = {
        "gradient_accumulation": 2,
        "learning_rate": "5e-4",
        "label_smoothing": 0.1,
        "warmup_steps": 500,
    }
    out = render(config["command"], params, program=config["program"])
    assert out == [
        "python",
        "train.py",
        "--do_train",
        "True",
        "--tgt_lang",
        "bzd",
        "--per_device_eval_batch_size",
        "128",
        "--eval_accumulation_steps",
        "4",
        "--gradient_accumulation=2",
        "--label_smoothing=0.1",
        "--learning_rate=5e-4",
        "--warmup_steps=500",
    ]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="the config corpus is not on this machine")
def test_every_corpus_command_renders_or_fails_cleanly():
    rendered = 0
    for path in sorted(CORPUS.glob("*.yaml")) + sorted(CORPUS.glob("*.json")):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(config, dict) or "command" not in config:
            continue
        parameters = config.get("parameters") or {}
        params = {name: 1 for name in parameters} if isinstance(parameters, dict) else {}
        try:
            out = render(config["command"], params, program=config.get("program"))
        except CommandError as err:
            assert "\n" not in str(err)
            continue
        assert all(isinstance(arg, str) for arg in out)
        if uses_args_macro(config["command"]):
            for name in params:
                assert any(name in arg for arg in out), (path.name, name)
        rendered += 1
    assert rendered > 10


# --------------------------------------------------------------------------- properties

NAME_START = string.ascii_letters + "_"
NAMES = st.tuples(
    st.sampled_from(NAME_START), st.text(alphabet=NAME_START + string.digits + ".-", max_size=8)
).map("".join)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(NAMES, inner, max_size=3),
    max_leaves=6,
)
PARAM_DICTS = st.dictionaries(NAMES, VALUES, max_size=6)
MACRO_TEXT = st.sampled_from(
    [
        "${env}",
        "${interpreter}",
        "${program}",
        "${args}",
        "${args_no_equals}",
        "${args_no_hyphens}",
        "${args_no_boolean_flags}",
        "${args_append_hydra}",
        "${args_override_hydra}",
        "${args_json}",
        "${args_json_file}",
        "${envvar:HOME}",
        "${envvar:UNSET}",
        "${envvar:}",
        "$${",
        "${",
        "}",
        "${}",
        "${lr}",
        "${a.b}",
    ]
)
ELEMENT = st.lists(MACRO_TEXT | st.text(alphabet=string.printable, max_size=8), max_size=4).map("".join)
ITEMS = ELEMENT | st.integers() | st.booleans() | st.floats() | st.none()


@settings(max_examples=100, deadline=None)
@given(
    command=st.none() | st.lists(ITEMS, max_size=6),
    params=PARAM_DICTS,
    program=st.none() | st.text(max_size=8),
    json_file=st.none() | st.just("/tmp/args.json"),
)
def test_rendering_raises_nothing_but_command_error(command, params, program, json_file):
    try:
        out = render_command(
            command, params, program=program, args_json_file=json_file, environ={"HOME": "/home/u"}
        )
    except CommandError as err:
        assert str(err) and "\n" not in str(err)
        return
    assert isinstance(out, list) and out
    assert all(isinstance(arg, str) for arg in out)


@settings(max_examples=60, deadline=None)
@given(params=PARAM_DICTS.filter(bool))
def test_args_round_trip_the_names_in_sorted_order(params):
    out = render_command(["${args}"], params, program=None, environ={})
    assert [arg.split("=", 1)[0].removeprefix("--") for arg in out] == sorted(params)
    assert all(arg.startswith("--") for arg in out)
    no_hyphens = render_command(["${args_no_hyphens}"], params, program=None, environ={})
    # Hydra's form: a nested group is one dotted override per leaf, in sorted order at each level.

    def leaves(group, path=""):
        for name in sorted(group, key=str):
            value = group[name]
            yield from (
                leaves(value, f"{path}{name}.") if isinstance(value, dict) and value else [f"{path}{name}"]
            )

    assert [arg.split("=", 1)[0] for arg in no_hyphens] == list(leaves(params))


@settings(max_examples=60, deadline=None)
@given(params=PARAM_DICTS.filter(bool))
def test_args_json_round_trips_the_values(params):
    (out,) = render_command(["${args_json}"], params, program=None, environ={})
    assert json.loads(out) == params
    loaded = yaml.safe_load(param_file_text(params))
    assert loaded.pop("wandb_version") == 1
    assert {name: entry["value"] for name, entry in loaded.items()} == params


@settings(max_examples=60, deadline=None)
@given(params=PARAM_DICTS.filter(bool), data=st.data())
def test_inline_macro_of_any_parameter_renders_its_str(params, data):
    name = data.draw(st.sampled_from(sorted(params)))
    assume(name not in MACROS)  # macro names win over parameters
    assert render_command([f"--v=${{{name}}}"], params, program=None, environ={}) == [f"--v={params[name]}"]


@pytest.mark.parametrize("text", ["a\x85b", "a\u2028b", "a\u2029b", "ünïcode", "line\nbreak"])
def test_param_file_keeps_strings_with_line_break_characters(text):
    loaded = yaml.safe_load(param_file_text({"s": text}))
    assert loaded["s"]["value"] == text
