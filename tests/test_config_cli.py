"""``sweepkit validate``: human and JSON reports, exit codes, and no traceback for any file."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from sweepkit.cli.validate_cmd import validate

GOOD = "method: grid\nparameters:\n  x:\n    values: [1, 1]\nprogram: train.py\n"
BAD = (
    "method: random\nmetric:\n  name: acc\n  goal: maximise\nparameters:\n  lr:\n    min: abc\n    max: 1\n"
    "program: train.py\n"
)


@pytest.fixture
def files(tmp_path, monkeypatch):
    (tmp_path / "train.py").write_text("")  # the program, where agents would run (no warning about it)
    monkeypatch.chdir(tmp_path)
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(BAD)
    return good, bad


def run(*args, input=None):
    return CliRunner().invoke(validate, list(args), input=input)


def test_valid_file_exits_zero_and_shows_warnings(files):
    good, _ = files
    result = run(str(good))
    assert result.exit_code == 0
    assert result.output.splitlines() == [
        f"{good}:4: warning: parameters.x.values[1]: duplicate value 1 (same as values[0]): "
        "the grid tries the same point twice",
        f"{good}: valid, 1 warning",
    ]


def test_invalid_file_exits_one_with_every_error(files):
    _, bad = files
    result = run(str(bad))
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:4: error: metric.goal: 'maximise' is not one of minimize, maximize; did you mean 'maximize'?",
        f"{bad}:7: error: parameters.lr.min: expected a number, got 'abc'",
        f"{bad}: invalid (2 errors)",
    ]


def test_json_format(files, tmp_path):
    good, bad = files
    missing = tmp_path / "missing.yaml"
    result = run("--format", "json", str(good), str(bad), str(missing))
    assert result.exit_code == 1
    report = json.loads(result.output)
    assert [r["file"] for r in report] == [str(good), str(bad), str(missing)]
    assert [r["valid"] for r in report] == [True, False, False]
    assert report[0]["errors"] == []
    assert report[0]["warnings"] == [
        {
            "path": "parameters.x.values[1]",
            "line": 4,
            "message": "duplicate value 1 (same as values[0]): the grid tries the same point twice",
        }
    ]
    assert report[1]["errors"][0] == {
        "path": "metric.goal",
        "line": 4,
        "message": "'maximise' is not one of minimize, maximize; did you mean 'maximize'?",
    }
    assert report[2]["errors"] == [{"path": "", "line": None, "message": "cannot read: no such file"}]


def test_all_valid_files_exit_zero(files, tmp_path):
    good, _ = files
    other = tmp_path / "other.json"
    other.write_text('{"method": "random", "parameters": {"lr": {"min": 0.1, "max": 1.0}}}')
    assert run(str(good), str(other)).exit_code == 0


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"- a\n- b\n",
        b"\x00\xff\xfe\x00garbage\x89",
        b"a: [",
        b"\xef\xbb\xbf",
        b"method: grid\nparameters: 3\n",
    ],
)
def test_never_a_traceback(tmp_path, content):
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    result = run(str(path), str(tmp_path))
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert result.output.count("invalid (1 error)") == 2


def test_stdin(files):
    result = run("-", input=BAD)
    assert result.exit_code == 1
    assert "<stdin>:4: error: metric.goal" in result.output


def test_no_file_is_a_usage_error():
    result = run()
    assert result.exit_code == 2
    assert "Missing argument" in result.output


def test_python_dash_m(files):
    good, bad = files
    done = subprocess.run(
        [sys.executable, "-m", "sweepkit", "validate", str(good), str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert f"{bad}:7: error: parameters.lr.min: expected a number, got 'abc'" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr
