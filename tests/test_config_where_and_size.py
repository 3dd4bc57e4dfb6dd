"""Refused or warned at ``sweepkit validate`` and ``sweepkit sweep``, not by a failing agent: a
``program`` that agents started here could not find, and grids too large to enumerate (2^50000
points, an int_uniform over 10^12 values), each in one sentence naming its key path. Real CLI
processes; the grid limit also through a real server."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sweepkit.sweep_config import ConfigError, load_config
from sweepkit.sweep_config.rules import MAX_GRID_VALUES


def _cli(cwd, *args: str, stdin: str | None = None, **extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(extra)
    return subprocess.run(
        [sys.executable, "-m", "sweepkit", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        input=stdin,
        timeout=120,
    )


CONFIG = "program: train.py\nmethod: grid\nparameters:\n  x: {values: [1, 2]}\n"


def test_a_program_agents_could_not_find_here_is_a_warning(tmp_path):
    (tmp_path / "sweep.yaml").write_text(CONFIG)
    checked = _cli(tmp_path, "validate", "sweep.yaml")
    assert checked.returncode == 0, checked.stderr
    warning = (
        f"sweep.yaml:1: warning: program: 'train.py' is not a file in {tmp_path}: agents started in this "
        "directory could not run it (start them where it is, or correct the path)"
    )
    assert checked.stdout.splitlines() == [warning, "sweep.yaml: valid, 1 warning"]
    store = f"sqlite:///{tmp_path / 'store.db'}"
    made = _cli(tmp_path, "sweep", "sweep.yaml", "--db", store)
    assert made.returncode == 0, made.stderr
    assert f"warning: sweep.yaml:1: program: 'train.py' is not a file in {tmp_path}" in made.stderr
    # Where the program is, nothing to say; from elsewhere, the same file is warned about again.
    (tmp_path / "train.py").write_text("print('hi')\n")
    assert _cli(tmp_path, "validate", "sweep.yaml").stdout.splitlines() == ["sweep.yaml: valid"]
    made = _cli(tmp_path, "sweep", "sweep.yaml", "--db", store)
    assert made.returncode == 0 and "warning" not in made.stderr
    (tmp_path / "elsewhere").mkdir()
    other = _cli(tmp_path / "elsewhere", "validate", "../sweep.yaml")
    assert f"'train.py' is not a file in {tmp_path / 'elsewhere'}" in other.stdout
    piped = _cli(tmp_path / "elsewhere", "validate", "-", stdin=CONFIG)
    assert piped.stdout.startswith("<stdin>: warning: program: 'train.py' is not a file in")
    not_run = CONFIG + "command: [python, -m, mypackage.train, '${args}']\n"
    assert _cli(tmp_path / "elsewhere", "validate", "-", stdin=not_run).stdout == "-: valid\n"


def _huge_grid(path) -> None:
    lines = ["program: train.py", "method: grid", "metric: {name: loss}", "parameters:"]
    lines += [f"  p{i}: {{values: [0, 1]}}" for i in range(50_000)]
    path.write_text("\n".join(lines) + "\n")


def test_a_grid_too_large_to_enumerate_is_refused_in_one_sentence(tmp_path, server_factory):
    _huge_grid(tmp_path / "huge.yaml")
    (tmp_path / "train.py").write_text("")
    sentence = (
        "parameters: method grid: these 50,000 parameters make a grid of about 10^15051 points, more than "
        "the 2^53 a grid can enumerate (the most values: parameters.p0, 2); use method random or bayes "
        "(with run_cap), or fewer values"
    )
    checked = _cli(tmp_path, "validate", "huge.yaml")
    assert checked.returncode == 1
    assert checked.stdout.splitlines() == [f"huge.yaml:4: error: {sentence}", "huge.yaml: invalid (1 error)"]
    store = f"sqlite:///{tmp_path / 'store.db'}"
    made = _cli(tmp_path, "sweep", "huge.yaml", "--db", store)
    assert made.returncode == 1 and made.stderr.splitlines() == [f"error: huge.yaml:4: {sentence}"]
    server = server_factory(store)  # the server's service refuses it too, placed in the client's file
    remote = _cli(tmp_path, "sweep", "huge.yaml", "--server", server.url)
    assert remote.returncode == 1 and remote.stderr.splitlines() == [f"error: huge.yaml:4: {sentence}"]


@pytest.mark.parametrize(
    ("spec", "count"),
    [
        ("{min: 0, max: 1000000000000}", 1_000_000_000_001),
        ("{distribution: q_uniform, min: 0, max: 1000000, q: 0.01}", 100_000_000),
    ],
)
def test_a_range_too_long_to_list_is_refused_at_its_parameter(spec, count):
    with pytest.raises(ConfigError) as refused:
        load_config_from_text(f"method: grid\nparameters:\n  a: {{values: [1]}}\n  lr: {spec}\n")
    assert [str(p) for p in refused.value.problems] == [
        f"sweep.yaml:4: parameters.lr: {count:,} grid values, more than the {MAX_GRID_VALUES:,} one grid "
        "parameter may list; use method random or bayes, or a coarser range (q_uniform with a larger q)"
    ]
    # The same ranges are fine for random search, and a grid just under the limits is accepted.
    load_config_from_text(f"method: random\nparameters:\n  lr: {spec}\n")
    load_config_from_text(f"method: grid\nparameters:\n  lr: {{min: 1, max: {MAX_GRID_VALUES}}}\n")


def load_config_from_text(text: str):
    from sweepkit.sweep_config import load_config_text

    return load_config_text(text, filename="sweep.yaml")


def test_nested_grid_groups_count_too():
    params = {
        f"g{i}": {"parameters": {f"x{j}": {"values": list(range(10))} for j in range(4)}} for i in range(4)
    }
    with pytest.raises(ConfigError, match=r"these 16 parameters make a grid of about 10\^16 points"):
        load_config({"method": "grid", "parameters": params})
    del params["g3"]
    assert load_config({"method": "grid", "parameters": params}).method == "grid"


def test_values_written_out_count_only_towards_the_points():
    many = list(range(MAX_GRID_VALUES + 1))
    assert load_config({"method": "grid", "parameters": {"x": {"values": many}}}).method == "grid"
