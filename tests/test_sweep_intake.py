"""One way in for a sweep's config (``sweepkit.sweep_intake``): the client reads the file, the service
validates it once, and its problems and warnings come back placed at the file's lines, over every
transport (the same sentences ``sweepkit validate`` prints)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from sweepkit import sweep_intake
from sweepkit.cli.main import cli
from sweepkit.sweep_config import ConfigError, load_config

BAD = (
    "method: random\nmetric:\n  name: acc\n  goal: maximise\nparameters:\n  lr:\n    min: abc\n    max: 1\n"
    "  optimizer.momentum:\n    values: 0.9\nprogram: train.py\n"
)
BAD_PROBLEMS = [
    "{f}:4: metric.goal: 'maximise' is not one of minimize, maximize; did you mean 'maximize'?",
    "{f}:7: parameters.lr.min: expected a number, got 'abc'",
    "{f}:10: parameters.optimizer.momentum.values: expected a list, got 0.9; a single value is written "
    "[0.9] (or use value: for a constant)",
]
GOOD = "method: grid\nparameters:\n  x:\n    values: [1, 1]\nprogram: train.py\n"
DUPLICATE_WARNING = "{f}:4: parameters.x.values[1]: duplicate value 1 (same as values[0]): the grid tries the same point twice"


@pytest.fixture
def files(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text("")  # the program, where agents would run (no warning about it)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bad.yaml").write_text(BAD)
    (tmp_path / "good.yaml").write_text(GOOD)
    return tmp_path / "bad.yaml", tmp_path / "good.yaml"


def test_the_services_problems_come_back_at_their_lines(service, files):
    bad, _ = files
    with pytest.raises(ConfigError) as caught:
        sweep_intake.create_sweep(service, str(bad))
    assert [str(p) for p in caught.value.problems] == [p.format(f=bad) for p in BAD_PROBLEMS]
    with pytest.raises(ConfigError) as validated:  # what `sweepkit validate` says, word for word
        load_config(bad)
    assert caught.value.problems == validated.value.problems
    assert service.list_sweeps() == []  # nothing stored


def test_warnings_come_back_with_the_sweep(service, files):
    _, good = files
    answer = sweep_intake.create_sweep(service, str(good), project="p")
    assert [str(w) for w in answer.warnings] == [DUPLICATE_WARNING.format(f=good)]
    assert [(w.path, w.line) for w in answer.warnings] == [("parameters.x.values[1]", 4)]
    assert answer.sweep.project == "p" and answer.sweep.source == GOOD
    assert service.get_sweep(answer.sweep.id).warnings == []  # said once, when the config is given


def test_update_places_problems_and_keeps_the_config(service, files, tmp_path):
    bad, good = files
    sweep = sweep_intake.create_sweep(service, str(good)).sweep
    with pytest.raises(ConfigError) as caught:
        sweep_intake.update_sweep(service, sweep.id, str(bad))
    assert str(caught.value.problems[0]) == BAD_PROBLEMS[0].format(f=bad)
    assert service.get_sweep(sweep.id).config == sweep.config
    newer = tmp_path / "newer.yaml"
    newer.write_text(GOOD.replace("[1, 1]", "[1, 2, 2]"))
    answer = sweep_intake.update_sweep(service, sweep.id, str(newer))
    assert [str(w) for w in answer.warnings] == [
        DUPLICATE_WARNING.format(f=newer).replace(
            "values[1]: duplicate value 1 (same as values[0])",
            "values[2]: duplicate value 2 (same as values[1])",
        )
    ]
    assert answer.sweep.config["parameters"]["x"]["values"] == [1, 2, 2]


def test_a_dict_is_read_and_validated_the_same_way(service):
    with pytest.raises(ConfigError, match=r"^parameters\.lr\.min: expected a number, got 'abc'$"):
        sweep_intake.create_sweep(
            service, {"method": "random", "parameters": {"lr": {"min": "abc", "max": 1}}}
        )
    answer = sweep_intake.create_sweep(service, {"method": "grid", "parameters": {"x": {"values": [1, 1]}}})
    assert [str(w) for w in answer.warnings] == [
        "parameters.x.values[1]: duplicate value 1 (same as values[0]): the grid tries the same point twice",
        "program: not given, and no command either: program agents (sweepkit agent, sweepkit run) cannot "
        "run this sweep, only function agents (sweepkit.agent(sweep_id, function=train)) can",
    ]
    assert answer.sweep.source == "method: grid\nparameters:\n  x:\n    values:\n    - 1\n    - 1\n"


def test_what_is_no_config_at_all_never_reaches_the_service(tmp_path):
    class Unreachable:
        def create_sweep(self, *args, **kwargs):
            raise AssertionError("the service was asked")

    cases = {
        "syntax.yaml": ("method: grid\nparameters:\n  x: {values: [1, 2}\n", ":3: not valid YAML"),
        "twice.yaml": ("method: grid\nmethod: random\n", ":2: method: key 'method' appears twice"),
        "nan.yaml": (
            "method: grid\nparameters:\n  x: {values: [.nan]}\n",
            ":3: parameters.x.values[0]: nan is",
        ),
    }
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text)
        with pytest.raises(ConfigError, match="^" + re.escape(f"{tmp_path / name}{message}")):
            sweep_intake.create_sweep(Unreachable(), str(tmp_path / name))


def test_the_config_is_validated_once(tmp_path, monkeypatch):
    from sweepkit.connect import open_local
    from sweepkit.sweep_config import loader

    checked = []
    check_top_level = loader.check_top_level
    monkeypatch.setattr(
        loader, "check_top_level", lambda data, report: checked.append(1) or check_top_level(data, report)
    )
    service = open_local(str(tmp_path / "s.db"), create=True)
    (tmp_path / "sweep.yaml").write_text(GOOD)
    sweep_intake.create_sweep(service, str(tmp_path / "sweep.yaml"))
    assert len(checked) == 1


def test_a_command_element_is_passed_as_written(service, tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text(
        "method: grid\nparameters:\n  x: {value: 1}\ncommand: [python, train.py, --lr, 1e-5, yes]\n"
    )
    sweep = sweep_intake.create_sweep(service, str(path)).sweep
    assert sweep.config["command"] == ["python", "train.py", "--lr", "1e-5", "yes"]


def test_sweepkit_sweep_and_run_print_the_services_problems_and_warnings(files, tmp_path, monkeypatch):
    bad, good = files
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPKIT_DB", raising=False)
    monkeypatch.delenv("SWEEPKIT_URL", raising=False)
    expected = "error: " + "\n".join(p.format(f=bad) for p in BAD_PROBLEMS) + "\n"
    for args in (["sweep", str(bad)], ["run", str(bad)]):
        out = CliRunner().invoke(cli, args)
        assert (out.exit_code, out.stderr) == (1, expected)
    out = CliRunner().invoke(cli, ["sweep", str(good)])
    assert out.exit_code == 0
    assert out.stderr.splitlines()[0] == "warning: " + DUPLICATE_WARNING.format(f=good)
    sweep_id = out.stdout.strip()
    out = CliRunner().invoke(cli, ["sweep", "--update", sweep_id, str(bad)])
    assert (out.exit_code, out.stderr) == (1, expected)
    out = CliRunner().invoke(cli, ["sweep", "--update", sweep_id, str(good)])
    assert out.stderr.splitlines() == [
        "warning: " + DUPLICATE_WARNING.format(f=good),
        f"Changing the config of sweep {sweep_id}:",
        "  - no change to what the sweep does",
        f"Updated the config of sweep {sweep_id} (now version 2)",
    ]


PLACED_AS_VALIDATE_SAYS = {
    "many.yaml": (
        "method: bayes\nmetric:\n  name: acc\n  goal: maximise\nrun_cap: 0\nparameters:\n  lr:\n    min: 0.1\n"
        "    max: 0.01\n  n:\n    distribution: int_uniform\n    min: 1.5\n    max: 3\n  bad name:\n"
        "    value: 1\n  e:\n    values: []\nprogramm: train.py\n"
    ),
    "nested.yaml": (
        "method: random\nparameters:\n  opt:\n    parameters:\n      lr: {min: 1, max: x}\n"
        "      optimizer.lr:\n        values: 3\ncommand: [python, '${nope}']\n"
    ),
    "missing.yaml": "parameters:\n  x:\n    distribution: uniform\n    min: 0\n",
    "hyperband.yaml": (
        "method: grid\nmetric: {name: loss}\nearly_terminate:\n  type: hyperband\n  min_iter: 1\n"
        "  max_iter: 9\nparameters:\n  x:\n    values: [1, 1.0]\n"
    ),
    "sweep.json": '{\n  "method": "grid",\n  "parameters": {\n    "x": {"values": 5}\n  }\n}\n',
}


@pytest.mark.parametrize("name", sorted(PLACED_AS_VALIDATE_SAYS))
def test_problems_found_by_key_path_are_placed_where_validate_places_them(tmp_path, name):
    """What the service finds in the data (by key path), placed by the client, is word for word and
    line for line what ``sweepkit validate`` finds in the file."""
    from sweepkit.sweep_config import read_config

    path = tmp_path / name
    path.write_text(PLACED_AS_VALIDATE_SAYS[name])

    def verdict(load):
        try:
            return [], load().warnings
        except ConfigError as err:
            return err.problems, err.warnings

    source = read_config(str(path))
    problems, warnings = verdict(lambda: load_config(dict(source.data)))  # as the service finds them
    assert {p.file for p in problems + warnings} == {None}
    placed = (source.placed(problems), source.placed(warnings))
    assert placed == verdict(lambda: load_config(str(path)))
    assert placed[0] or placed[1]
