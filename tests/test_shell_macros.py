"""``${quoted:NAME}``: macros and parameters quoted for a shell string, so that a value is data and
never code. A property through a real ``bash -c`` for arbitrary values, and a real agent running a
sweep whose command is a shell string and whose values try to break out of it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweepkit.command_template import (
    CommandError,
    display_line,
    reference_problems,
    render_command,
    render_parts,
    unquoted_in_shell,
    uses_args_json_file,
    uses_args_macro,
)
from sweepkit.connect import open_local

# What an argv can carry: any text without NUL (and without lone surrogates, which no OS encodes).
_TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
_NAMES = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True)
_VALUES = st.one_of(
    _TEXT, st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.booleans(), st.none()
)
_PARAMS = st.dictionaries(
    _NAMES, st.one_of(_VALUES, st.dictionaries(_NAMES, _VALUES, max_size=2)), max_size=4
)

#: Prints each argument the shell hands on, NUL-terminated.
_ECHO = "printf '%s\\0'"


def _bash(script: str) -> list[str]:
    out = subprocess.run(["bash", "-c", script], capture_output=True, timeout=30, check=True).stdout
    return out.decode("utf-8", "surrogateescape").split("\0")[:-1]


@settings(max_examples=150, deadline=None)
@given(_PARAMS, st.sampled_from(["args", "args_no_equals", "args_no_hyphens", "args_override_hydra"]))
def test_a_quoted_list_macro_round_trips_through_bash(params, macro):
    (script,) = render_command(["${quoted:" + macro + "}"], params, program=None)[-1:]
    plain = render_command(["${" + macro + "}"], params, program=None) if params else []
    assert _bash(f"{_ECHO} {script}" if script else "true") == plain


@settings(max_examples=150, deadline=None)
@given(_PARAMS)
def test_quoted_args_json_and_parameters_round_trip_through_bash(params):
    names = sorted(params)
    template = " ".join(["${quoted:args_json}", *(f"${{quoted:{n}}}" for n in names)])
    argv = render_command(["bash", "-c", f"{_ECHO} {template}"], params, program=None)
    got = _bash(argv[2])
    assert json.loads(got[0]) == json.loads(render_command(["${args_json}"], params, program=None)[0])
    assert got[1:] == [str(params[n]) for n in names]


def test_agent_macros_are_quoted_by_the_agent_and_shown_as_written():
    parts = render_parts(["sh", "-c", "x ${quoted:args_json_file} ${quoted:envvar:V}"], {}, program=None)
    argv = render_command(
        ["sh", "-c", "x ${quoted:args_json_file} ${quoted:envvar:V}"],
        {},
        program=None,
        args_json_file="/tmp/a b/p.json",
        environ={"V": "$(id)"},
    )
    assert argv[2] == "x '/tmp/a b/p.json' '$(id)'"
    assert display_line(parts) == "sh -c 'x ${quoted:args_json_file} ${quoted:envvar:V}'"
    assert uses_args_json_file(["sh", "-c", "x ${quoted:args_json_file}"])
    assert uses_args_macro(["sh", "-c", "python t.py ${quoted:args}"])


def test_quoted_references_are_checked_like_plain_ones():
    command = ["sh", "-c", "${quoted:args} ${quoted:lr} ${quoted:lrr} ${quoted:a b}"]
    assert reference_problems(command, {"lr"}) == [
        (
            2,
            "${lrr} is neither a macro nor a sweep parameter (did you mean ${lr}?); parameters: lr; "
            "write $${lrr} to pass the text literally",
        ),
        (2, "${quoted:a b} names no macro and no parameter"),
    ]
    with pytest.raises(CommandError, match=r"\$\{lrr\} is neither a macro nor a sweep parameter"):
        render_command(command[:2] + ["${quoted:lrr}"], {"lr": 1}, program=None)


TRAIN = """
import json, sys, sweepkit
run = sweepkit.init()
given = json.loads(sys.argv[1])
assert given == dict(run.config), (given, dict(run.config))
sweepkit.log({"loss": len(sys.argv)})
"""


def test_an_agent_runs_a_shell_string_whose_values_cannot_break_out(tmp_path):
    (tmp_path / "train.py").write_text(TRAIN)
    hostile = ["$(touch pwned1)", "'; touch pwned2; '", '"; touch pwned3; "', "`touch pwned4`", "a\nb"]
    config = {
        "program": "train.py",
        "method": "grid",
        "metric": {"name": "loss"},
        "command": [
            "bash",
            "-c",
            "${quoted:interpreter} ${quoted:program} ${quoted:args_json} && echo ok-${quoted:tag}",
        ],
        "parameters": {"tag": {"values": hostile}},
    }
    store = f"sqlite:///{tmp_path / 'store.db'}"
    sweep = open_local(store, create=True).create_sweep(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(SWEEPKIT_DB=store, SWEEPKIT_INTERPRETER=sys.executable)
    out = subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep.id],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=180,
    )
    assert out.returncode == 0, out.stderr
    assert open_local(store).get_sweep(sweep.id).runs_by_state == {"finished": len(hostile)}
    assert not list(tmp_path.glob("pwned*"))
    assert "ok-$(touch pwned1)" in out.stdout


def test_validate_warns_about_values_written_unquoted_into_a_shell_script(tmp_path):
    (tmp_path / "t.py").write_text("")
    (tmp_path / "sweep.yaml").write_text(
        "method: grid\nprogram: t.py\nparameters: {lr: {values: [1, 2]}}\n"
        "command: [bash, -lc, 'python ${program} ${args_json} --lr=${lr} ${quoted:args} ${envvar:HOME}']\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    out = subprocess.run(
        [sys.executable, "-m", "sweepkit", "validate", "sweep.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0
    assert out.stdout.splitlines() == [
        f"sweep.yaml:4: warning: command[2]: ${{{name}}} inside a shell script reaches the shell unquoted: a "
        f"value with a space, a quote or $(...) breaks the script or runs as code; write ${{quoted:{name}}}"
        for name in ("program", "args_json", "lr")
    ] + ["sweep.yaml: valid, 3 warnings"]
    assert unquoted_in_shell(["/usr/bin/env", "sh", "-c", "x ${args_json}"]) == [(3, "args_json")]
    assert unquoted_in_shell(["python", "-c", "x ${args_json}"]) == []  # not a shell
    quiet = "command: [/usr/bin/env, bash, -c, 'python ${quoted:program} ${quoted:args_json}']"
    (tmp_path / "sweep.yaml").write_text(
        f"method: grid\nprogram: t.py\nparameters: {{lr: {{values: [1]}}}}\n{quiet}\n"
    )
    assert subprocess.run(
        [sys.executable, "-m", "sweepkit", "validate", "sweep.yaml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
    ).stdout.splitlines() == ["sweep.yaml: valid"]
