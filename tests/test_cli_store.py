"""Every read-only command names the store it looked in and how to point at another, and never
creates a store."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from sweepkit.cli.main import cli
from sweepkit.connect import open_local

HINT = "point at another store with --db, SWEEPKIT_DB or SWEEPKIT_URL"


@pytest.fixture
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SWEEPKIT_DB", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["sweeps"],
        ["runs", "abc"],
        ["best", "abc"],
        ["agent", "abc"],
        ["sweep", "--pause", "abc"],
        ["sweep", "--retry", "abc"],
        ["runs", "--delete", "--yes", "abc", "r1"],
        ["watch", "abc"],
    ],
)
def test_no_store_here_is_said_and_none_is_created(here, args):
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 1
    assert out.stderr == (
        f"error: no sweepkit store at {here / '.sweepkit' / 'sweepkit.db'} "
        "(point at another with --db, SWEEPKIT_DB or SWEEPKIT_URL)\n"
    )
    assert not (here / ".sweepkit").exists()


@pytest.mark.parametrize(
    "args",
    [["runs", "nope"], ["best", "nope"], ["agent", "nope"], ["sweep", "--retry", "nope"], ["watch", "nope"]],
)
def test_a_sweep_not_found_names_the_store_and_how_to_look_elsewhere(here, args):
    service = open_local(str(here / ".sweepkit" / "sweepkit.db"), create=True)
    location = service.location
    service.close()
    out = CliRunner().invoke(cli, args)
    assert out.exit_code == 1
    assert out.stderr == f"error: no sweep 'nope' in {location} ({HINT})\n"


def test_empty_answers_name_the_store_and_best_needs_a_metric(here):
    service = open_local(str(here / ".sweepkit" / "sweepkit.db"), create=True)
    location = service.location
    none = CliRunner().invoke(cli, ["sweeps"])
    assert none.exit_code == 0 and none.stderr == f"no sweeps in {location}\n"
    no_metric = service.create_sweep({"method": "grid", "parameters": {"x": {"values": [1]}}})
    with_metric = service.create_sweep(
        {"method": "grid", "metric": {"name": "loss"}, "parameters": {"x": {"values": [1]}}}
    )
    service.close()
    out = CliRunner().invoke(cli, ["best", no_metric.id])
    assert out.exit_code == 1
    assert out.stderr == (
        f"error: sweep {no_metric.id} has no metric (its config sets no metric.name), so no run is best\n"
    )
    out = CliRunner().invoke(cli, ["best", with_metric.id])
    assert out.exit_code == 1
    assert (
        out.stderr
        == f"sweep {with_metric.id} has no finished run with a value of 'loss' yet (in {location})\n"
    )
    empty = CliRunner().invoke(cli, ["runs", with_metric.id])
    assert empty.stderr == f"no runs of sweep {with_metric.id} to show (in {location})\n"
