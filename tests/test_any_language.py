"""Programs in any language report metrics: a line of JSON in SWEEPKIT_METRICS_FILE, or name=value pairs
in their output; hyperband stops a bash or C program's poor runs within seconds, as it does Python's."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sweepkit
from sweepkit.connect import open_local
from sweepkit.errors import SweepkitError
from sweepkit.metric_lines import MAX_REPORTED, MetricLines, output_pattern
from sweepkit.runs import RunState

# The early-termination test's reading of a decision's timing (tests/ is on the import path).
from test_early_termination_e2e import KILL_WITHIN_S, TIMESTAMP_SLACK_S, _band_logs, _runs_counted

ITERATIONS = 5

BASH_PROGRAM = r"""
q=${1#quality=}
for i in $(seq 1 5); do
  sleep 0.2
  loss=$(awk -v q="$q" -v i="$i" 'BEGIN { printf "%.6f", (10 - q) + 1.0 / i }')
  if [ "$METRICS_VIA" = file ]; then
    echo "{\"loss\": $loss, \"iteration\": $i}" >> "$SWEEPKIT_METRICS_FILE"
    if [ "$i" = 2 ]; then echo "not json" >> "$SWEEPKIT_METRICS_FILE"; fi
  else
    echo "iteration=$i loss=$loss"
  fi
done
"""

C_PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(int argc, char **argv) {
    double q = atof(strchr(argv[1], '=') + 1);
    const char *via = getenv("METRICS_VIA");
    struct timespec pause = {0, 200000000};
    printf("training starts\n");
    for (int i = 1; i <= 5; i++) {
        nanosleep(&pause, NULL);
        double loss = (10 - q) + 1.0 / i;
        if (strcmp(via, "file") == 0) {
            FILE *out = fopen(getenv("SWEEPKIT_METRICS_FILE"), "a");
            fprintf(out, "{\"loss\": %.6f, \"iteration\": %d}\n", loss, i);
            fclose(out);
        } else {
            printf("iteration=%d loss=%.6f\n", i, loss);
            fflush(stdout);
        }
    }
    return 0;
}
"""


def _program(language: str, tmp_path: Path) -> list[str]:
    if language == "bash":
        (tmp_path / "train.sh").write_text(BASH_PROGRAM)
        return ["bash", "${program}", "${args_no_hyphens}"], "train.sh"
    (tmp_path / "train.c").write_text(C_PROGRAM)
    compiler = shutil.which("gcc") or shutil.which("cc")
    assert compiler, "a C compiler is needed for the compiled-program test"
    subprocess.run([compiler, "-O2", "-o", str(tmp_path / "train"), str(tmp_path / "train.c")], check=True)
    return ["./train", "${args_no_hyphens}"], "train"


def _agent(sweep_id: str, db: str, cwd: Path, via: str) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update(SWEEPKIT_DB=db, SWEEPKIT_KILL_GRACE="1", METRICS_VIA=via)
    extra = ["--metrics-from-output"] if via == "output" else []
    return subprocess.Popen(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--quiet", *extra],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize(
    ("language", "via"), [("bash", "file"), ("bash", "output"), ("c", "file"), ("c", "output")]
)
def test_hyperband_stops_poor_runs_of_any_program_within_seconds(language, via, tmp_path):
    command, program = _program(language, tmp_path)
    db = str(tmp_path / "store.db")
    qualities = [9, 5, 8, 2, 7, 1]
    config = {
        "program": program,
        "command": command,
        "method": "grid",
        "metric": {"name": "loss", "goal": "minimize"},
        "parameters": {"quality": {"values": qualities}},
        "early_terminate": {"type": "hyperband", "min_iter": 1, "eta": 2},
    }
    sweep_id = sweepkit.sweep(config, db=db)
    agents = [_agent(sweep_id, db, tmp_path, via) for _ in range(3)]
    errors = ""
    for proc in agents:
        _out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        errors += err

    service = open_local(db)
    runs = service.all_runs(sweep_id)
    rows_by_run = {run.id: [r for r in service.full_history(run.id) if "loss" in r] for run in runs}
    killed = [run for run in runs if run.state == RunState.KILLED]
    finished = [run for run in runs if run.state == RunState.FINISHED]
    assert len(killed) + len(finished) == len(qualities), [(r.state, r.error) for r in runs]
    assert max(runs, key=lambda run: run.params["quality"]).state == RunState.FINISHED
    assert killed, "no run was stopped"
    for run in finished:
        rows = rows_by_run[run.id]
        # Each line is the next step; every value arrived, with the program's other metrics.
        assert [row["iteration"] for row in rows] == list(range(1, ITERATIONS + 1))
        assert [row["_step"] for row in rows] == list(range(ITERATIONS))
        assert run.metric.count == ITERATIONS
    for run in killed:
        band = run.stop_info["band"]
        counted = _runs_counted(run.stop_reason)
        condemned_at = _band_logs(band, rows_by_run)[counted - 1][0]
        delay = run.finished_at.timestamp() - condemned_at
        assert -TIMESTAMP_SLACK_S < delay < KILL_WITHIN_S, (
            f"run {run.id} ended {delay:.2f} s after it was condemned"
        )
    if (language, via) == ("bash", "file"):
        # The bad line is reported with its number and skipped; the run went on.
        assert re.search(r"run \w+: metrics file line 3 skipped: not a JSON object: 'not json'", errors), (
            errors
        )
    assert "finished without" not in errors


def _lines(pattern=None):
    rows, notes = [], []
    return MetricLines(rows.extend, notes.append, pattern), rows, notes


def test_each_metrics_line_is_the_next_step_unless_it_names_one():
    lines, rows, notes = _lines()
    lines.file_line(1, {"loss": 1.0})
    lines.file_line(2, {"_step": 5, "loss": 0.5})
    lines.file_line(3, {"loss": 0.4, "acc": 0.9})
    lines.file_line(4, {"_step": 6, "loss": 0.3})  # not after the previous step (7 is next)
    lines.file_line(5, {"loss": "n/a", "tag": [1, 2]})  # text and lists are values too
    lines.file_line(6, {"loss": object()})
    lines.bad_file_line(7, "{oops")
    lines.file_line(8, {"_step": -1})
    assert [(row["_step"], row["loss"]) for row in rows] == [(0, 1.0), (5, 0.5), (6, 0.4), (7, "n/a")]
    assert all(isinstance(row["_timestamp"], float) for row in rows)
    assert notes == [
        "metrics file line 4 skipped: _step 6 is not after the previous line's step",
        "metrics file line 6 skipped: 'loss' is a object, which cannot be stored; log numbers, text, "
        "booleans, lists or dicts of them",
        "metrics file line 7 skipped: not a JSON object: '{oops'",
        "metrics file line 8 skipped: _step -1 is not a whole number of 0 or more",
    ]


def test_output_lines_give_name_value_pairs_and_ordinary_lines_are_ignored():
    lines, rows, notes = _lines(output_pattern(None))
    lines.output(b"Loading data from path=/tmp/x\nepoch=1 loss=0.5, acc=.75; lr=1e-3\nEpoch 2: lo")
    lines.output(b"ss=0.25 val/acc=0.8 _step=9\nnan check: x=nan\nloss=inf")
    lines.output_ended()
    assert [{k: v for k, v in row.items() if k not in ("_timestamp", "_runtime")} for row in rows] == [
        {"epoch": 1, "loss": 0.5, "acc": 0.75, "lr": 0.001, "_step": 0},
        {"loss": 0.25, "val/acc": 0.8, "_step": 9},
        {"x": pytest.approx(float("nan"), nan_ok=True), "_step": 10},
        {"loss": float("inf"), "_step": 11},
    ]
    assert notes == []


def test_a_users_regex_reads_its_own_format_and_reports_bad_values():
    lines, rows, notes = _lines(output_pattern(r"^METRIC (?P<name>\w+): (?P<value>\S+)$"))
    lines.output(b"METRIC loss: 0.5\nloss=0.1\nMETRIC loss: high\n")
    assert [row["loss"] for row in rows] == [0.5]
    assert notes == ["output line 3 skipped: loss='high' is not a number"]
    lines, rows, _notes = _lines(output_pattern(r"(\w+) is (\d+)"))
    lines.output(b"score is 12\n")
    assert rows[0]["score"] == 12


def test_bad_lines_are_reported_up_to_a_limit_and_a_bad_regex_is_one_sentence():
    lines, rows, notes = _lines()
    for number in range(1, MAX_REPORTED + 5):
        lines.bad_file_line(number, "x")
    lines.file_line(99, {"loss": 1.0})
    assert len(notes) == MAX_REPORTED and notes[-1].endswith(
        "(further bad lines of the metrics file are not reported)"
    )
    assert len(rows) == 1
    for bad in ("(", r"\w+"):
        with pytest.raises(SweepkitError) as caught:
            output_pattern(bad)
        assert "\n" not in str(caught.value)


def test_metrics_file_and_regex_settings_reach_the_agent(tmp_path):
    from sweepkit.agents.loop import _output_metrics

    assert _output_metrics(None, None) is None
    assert _output_metrics(True, None).pattern == output_pattern(None).pattern
    assert _output_metrics(None, r"(?P<name>\w+)=(?P<value>\S+)").pattern == r"(?P<name>\w+)=(?P<value>\S+)"
    script = textwrap.dedent(
        """
        import os, sys
        os.environ["SWEEPKIT_METRICS_FROM_OUTPUT"] = "yes"
        from sweepkit.agents.loop import _output_metrics
        print(_output_metrics(None, None) is not None)
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
