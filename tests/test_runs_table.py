"""``sweepkit runs``: the table people read, and CSV and JSON that keep every digit, over a real store."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner

from sweepkit.cli.main import cli
from sweepkit.connect import open_local
from sweepkit.runs import RunState
from sweepkit.service.types import LogBatch

LOSSES = [0.03863364334383022, 0.5, None, 0.25, None]


@pytest.fixture
def sweep(tmp_path):
    """A bayes-like sweep of 5 runs: 3 finished with a loss, 1 failed, 1 crashed."""
    db = str(tmp_path / "store.db")
    service = open_local(db, create=True)
    info = service.create_sweep(
        {
            "method": "grid",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"lr": {"values": [0.1, 0.2, 0.3, 0.4, 0.5]}, "opt": {"values": ["adam"]}},
        }
    )
    agent = service.register_agent(info.id, host="h", pid=1)
    for n, loss in enumerate(LOSSES):
        run = service.claim_run(info.id, agent, f"k{n}").assignment
        if loss is not None:
            service.log(run.run_id, LogBatch(1, [{"_step": 0, "loss": loss, "note": "two\nlines"}]))
            service.finish_run(run.run_id, RunState.FINISHED, exit_code=0)
        elif n == 2:
            service.finish_run(run.run_id, RunState.FAILED, exit_code=2, error="exit code 2: boom\nmore")
        else:
            service.finish_run(run.run_id, RunState.CRASHED, error="no heartbeat for more than 60 s")
    service.close()
    return db, info.id


def runs(db: str, *args: str):
    result = CliRunner().invoke(cli, ["runs", "--db", db, *args])
    return result


def test_the_default_table_is_narrow_and_one_line_per_run(sweep):
    db, sweep_id = sweep
    out = runs(db, sweep_id)
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0].split() == [
        "id", "name", "state", "duration_s", "exit_code", "metric.loss", "config.lr", "config.opt", "summary.loss", "summary.note", "reason",
    ]  # fmt: skip
    assert len(lines) == 6 and "two\\nlines" in lines[1] and "0.0386336" in lines[1]
    assert lines[3].rstrip().endswith("exit code 2: boom")  # the reason: the error's first line
    assert lines[5].rstrip().endswith("no heartbeat for more than 60 s")
    wide = runs(db, sweep_id, "--all").stdout
    assert "suggestion.grid_index" in wide and "retried_by" in wide


def test_csv_and_json_keep_full_precision_and_whole_values(sweep):
    db, sweep_id = sweep
    rows = list(csv.DictReader(io.StringIO(runs(db, sweep_id, "--format", "csv").stdout)))
    assert rows[0]["summary.loss"] == "0.03863364334383022" and rows[0]["summary.note"] == "two\nlines"
    items = json.loads(runs(db, sweep_id, "--format", "json").stdout)
    assert (
        items[0]["summary"]["loss"] == 0.03863364334383022 and items[2]["error"] == "exit code 2: boom\nmore"
    )
    assert [item["number"] for item in items] == [1, 2, 3, 4, 5]


def test_columns_sort_filter_and_limit(sweep):
    db, sweep_id = sweep
    out = runs(db, sweep_id, "--columns", "lr,loss,state", "--sort", "-loss", "--format", "csv")
    assert out.stdout.splitlines() == [
        "config.lr,summary.loss,state",
        "0.2,0.5,finished",
        "0.4,0.25,finished",
        "0.1,0.03863364334383022,finished",
        "0.3,,failed",
        "0.5,,crashed",
    ]
    picked = runs(
        db, sweep_id, "--filter", "lr>=0.2", "--filter", "loss<0.4", "--columns", "lr", "--format", "csv"
    )
    assert picked.stdout.splitlines() == ["config.lr", "0.4"]
    failed = runs(
        db, sweep_id, "--filter", "state=failed,crashed", "--columns", "id,state", "--format", "csv"
    )
    assert [line.split(",")[1] for line in failed.stdout.splitlines()[1:]] == ["failed", "crashed"]
    adam = runs(db, sweep_id, "--filter", "opt=adam", "--filter", "state!=finished", "--format", "json")
    assert [item["state"] for item in json.loads(adam.stdout)] == ["failed", "crashed"]
    first = runs(db, sweep_id, "--limit", "2", "--columns", "lr", "--format", "csv")
    assert first.stdout.splitlines() == ["config.lr", "0.1", "0.2"]
    best = runs(db, sweep_id, "--sort", "loss", "--limit", "1", "--columns", "loss", "--format", "csv")
    assert best.stdout.splitlines() == ["summary.loss", "0.03863364334383022"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--sort", "bogus"], "error: --sort: no column 'bogus'; the columns are: id, name, state"),
        (["--columns", "id,nope"], "error: --columns: no column 'nope'"),
        (["--filter", "lr~1"], "error: --filter 'lr~1': expected COLUMN OP VALUE"),
        (["--filter", "state=done"], "error: --filter state=done: expected one of pending, running"),
    ],
)
def test_bad_options_are_one_sentence(sweep, args, message):
    db, sweep_id = sweep
    out = runs(db, sweep_id, *args)
    assert out.exit_code == 1 and out.stderr.startswith(message) and out.stderr.count("\n") == 1


def test_the_table_pages_through_many_runs(tmp_path):
    db = str(tmp_path / "store.db")
    service = open_local(db, create=True)
    info = service.create_sweep({"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}})
    agent = service.register_agent(info.id, host="h", pid=1)
    for n in range(2100):
        service.claim_run(info.id, agent, f"k{n}")
    service.close()
    table = runs(db, info.id, "--columns", "id,x")
    assert len(table.stdout.splitlines()) == 2101
    last = runs(db, info.id, "--sort", "-x", "--limit", "5", "--format", "json")
    xs = [item["config"]["x"] for item in json.loads(last.stdout)]
    assert len(xs) == 5 and xs == sorted(xs, reverse=True)
