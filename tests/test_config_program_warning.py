"""A config with neither program nor command is warned about: only function agents can run it."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sweepkit.cli.validate_cmd import validate
from sweepkit.sweep_config import load_config, load_config_text

BODY = "method: grid\nparameters:\n  x: {value: 1}\n"
NOTHING_TO_RUN = (
    "program: not given, and no command either: program agents (sweepkit agent, sweepkit run) cannot "
    "run this sweep, only function agents (sweepkit.agent(sweep_id, function=train)) can"
)


def test_no_program_and_no_command_is_one_warning_naming_the_key():
    cfg = load_config_text(BODY, filename="sweep.yaml")
    assert [str(w) for w in cfg.warnings] == [f"sweep.yaml: {NOTHING_TO_RUN}"]
    assert cfg.warnings[0].path == "program" and cfg.warnings[0].line is None


@pytest.mark.parametrize(
    "extra",
    [
        "program: train.py\n",
        "command: [python, train.py, '${args}']\n",
        "program: a.py\ncommand: [x, '${args}']\n",
    ],
)
def test_program_or_command_silences_it(extra):
    assert load_config_text(BODY + extra).warnings == []


def test_dict_configs_for_function_agents_get_it_too():
    cfg = load_config({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    assert [str(w) for w in cfg.warnings] == [NOTHING_TO_RUN]


def test_validate_prints_it_and_still_exits_zero(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(BODY)
    result = CliRunner().invoke(validate, [str(path)])
    assert result.exit_code == 0
    assert result.output.splitlines() == [f"{path}: warning: {NOTHING_TO_RUN}", f"{path}: valid, 1 warning"]
