"""Function agents and the run API: ``sweep()``, ``agent(function=...)``, ``init()``, ``log()``."""

from __future__ import annotations

import warnings

import pytest

import sweepkit
from sweepkit.runs import RunState


def test_function_agent_runs_the_whole_grid(store_url):
    seen = []

    def train():
        run = sweepkit.init()
        seen.append(dict(run.config))
        sweepkit.log({"loss": run.config["a"] * 10 + len(run.config["b"])})

    config = {
        "method": "grid",
        "metric": {"name": "loss"},
        "parameters": {"a": {"values": [1, 2]}, "b": {"values": ["x", "yy", "zzz"]}},
    }
    sweep_id = sweepkit.sweep(config, project="p", db=store_url)
    report = sweepkit.agent(sweep_id, function=train, db=store_url)
    # Sorted names, the last varying fastest.
    assert seen == [{"a": a, "b": b} for a in (1, 2) for b in ("x", "yy", "zzz")]
    assert all(state == RunState.FINISHED for state in report.runs.values())
    api = sweepkit.Api(store_url)
    assert api.sweep(sweep_id).state == "finished"
    best = api.best_run(sweep_id)
    assert best.config == {"a": 1, "b": "x"} and best.summary["loss"] == 11
    assert [row["loss"] for row in best.history()] == [11]


def test_seed_document_nested_example(store_url):
    """As in W&B: the sweep's nested dict replaces the one given to init()."""
    seen = {}

    def main():
        run = sweepkit.init(config={"nested_param": {"manual_key": 1}})
        seen.update(run.config)

    config = {
        "method": "grid",
        "parameters": {
            "top_level_param": {"value": 0},
            "nested_param": {
                "parameters": {
                    "learning_rate": {"value": 0.01},
                    "double_nested_param": {"parameters": {"x": {"value": 0.9}, "y": {"value": 0.8}}},
                }
            },
        },
    }
    sweep_id = sweepkit.sweep(config, db=store_url)
    sweepkit.agent(sweep_id, function=main, count=4, db=store_url)
    assert seen == {
        "top_level_param": 0,
        "nested_param": {"learning_rate": 0.01, "double_nested_param": {"x": 0.9, "y": 0.8}},
    }
    stored = sweepkit.Api(store_url).runs(sweep_id)
    assert len(stored) == 1  # a grid of constants has one point
    assert stored[0].config == seen


def test_deep_merge_is_an_opt_in(store_url):
    seen = {}

    def main():
        run = sweepkit.init(config={"opt": {"manual_key": 1}}, nested_config="deep")
        seen.update(run.config)

    config = {"method": "grid", "parameters": {"opt": {"parameters": {"lr": {"value": 0.1}}}}}
    sweepkit.agent(sweepkit.sweep(config, db=store_url), function=main, db=store_url)
    assert seen == {"opt": {"manual_key": 1, "lr": 0.1}}


def test_swept_keys_are_locked(store_url):
    seen = {}

    def main():
        run = sweepkit.init(config={"lr": 5, "epochs": 1})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run.config.update({"lr": 99, "epochs": 2})
            run.config.batch = 32
        seen.update(config=dict(run.config), warned=any("lr" in str(w.message) for w in caught))

    config = {"method": "grid", "parameters": {"lr": {"value": 0.1}}}
    sweep_id = sweepkit.sweep(config, db=store_url)
    sweepkit.agent(sweep_id, function=main, db=store_url)
    assert seen["config"] == {"lr": 0.1, "epochs": 2, "batch": 32}
    assert seen["warned"]
    (run,) = sweepkit.Api(store_url).runs(sweep_id)
    assert run.config == {"lr": 0.1, "epochs": 2, "batch": 32}


def test_exceptions_fail_the_run_and_the_failure_policy_stops_the_agent(store_url):
    calls = []

    def broken():
        calls.append(1)
        sweepkit.init()
        raise ValueError("boom")

    config = {"method": "random", "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    sweep_id = sweepkit.sweep(config, db=store_url)
    report = sweepkit.agent(sweep_id, function=broken, count=10, db=store_url)
    assert len(calls) == 3
    assert report.gave_up and report.failed and report.reason.startswith("3 runs failed within")
    runs = sweepkit.Api(store_url).runs(sweep_id)
    assert [r.state for r in runs] == [RunState.FAILED] * 3
    why, *traceback = runs[0].error.splitlines()
    assert why == "ValueError: boom" and traceback[0] == "Traceback (most recent call last):"


def test_count_limits_a_random_sweep_and_steps_merge(store_url):
    def train():
        run = sweepkit.init()
        run.log({"a": 1}, step=0)
        run.log({"b": 2}, step=0)
        run.log({"a": 3}, step=5)
        run.log({"a": 4})
        run.summary["final"] = "done"

    config = {"method": "random", "metric": {"name": "a"}, "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    sweep_id = sweepkit.sweep(config, db=store_url)
    report = sweepkit.agent(sweep_id, function=train, count=2, db=store_url)
    assert len(report.runs) == 2
    run = sweepkit.Api(store_url).runs(sweep_id)[0]
    history = run.history()
    # As W&B: a log() without step merges into the pending step (5) and commits it.
    assert [(row["_step"], row.get("a"), row.get("b")) for row in history] == [(0, 1, 2), (5, 4, None)]
    assert run.summary["final"] == "done" and run.summary["a"] == 4


def test_standalone_run_outside_an_agent(store_url, monkeypatch):
    monkeypatch.setenv("SWEEPKIT_DB", store_url)
    with sweepkit.init(config={"lr": 0.1}, project="solo") as run:
        run.log({"loss": 1.0})
        assert sweepkit.config["lr"] == 0.1
    from sweepkit.connect import open_local

    record = open_local(store_url, create=True).get_run(run.id)
    assert record.state == RunState.FINISHED and record.sweep_id is None
    assert record.config == {"lr": 0.1} and record.summary["loss"] == 1.0


def test_log_before_init_is_a_clear_error():
    from sweepkit.errors import SweepkitError

    with pytest.raises(SweepkitError, match="init"):
        sweepkit.log({"x": 1})


def test_update_replaces_the_config_and_bad_input_loses_nothing(store_url, tmp_path):
    from sweepkit.connect import open_local
    from sweepkit.errors import SweepkitError

    service = open_local(store_url, create=True)
    first = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    record = service.create_sweep(first)
    with pytest.raises(SweepkitError, match="parameters.x.values"):
        service.update_sweep(record.id, {"method": "grid", "parameters": {"x": {"values": 3}}})
    with pytest.raises(SweepkitError, match="config: expected a sweep config as a mapping, got PosixPath"):
        service.update_sweep(record.id, tmp_path / "sweep.yaml")
    with pytest.raises(SweepkitError, match="default x: only a parameter the new config adds"):
        service.update_sweep(
            record.id, {"method": "random", "parameters": {"x": {"values": [1]}}}, defaults={"x": 1}
        )
    assert service.get_sweep(record.id).config == record.config
    service.update_sweep(record.id, {"method": "grid", "parameters": {"x": {"values": [1, 2, 3]}}})
    seen = []

    def train():
        seen.append(sweepkit.init().config["x"])

    sweepkit.agent(record.id, function=train, db=store_url)
    assert seen == [1, 2, 3]


def test_sweep_reports_config_warnings_through_python_warnings(tmp_path):
    from sweepkit.api import SweepkitWarning

    config = {"method": "random", "parameters": {"p": {"min": 0, "max": 1}}}  # inferred int_uniform
    with pytest.warns(SweepkitWarning, match=r"parameters\.p: .*only 0 or 1"):
        sweepkit.sweep(config, db=str(tmp_path / "s.db"))
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "no program" warning: function agents need none
        sweepkit.sweep({"method": "random", "parameters": {"x": {"value": 1}}}, db=str(tmp_path / "s.db"))


def test_sweep_keeps_the_config_as_written(tmp_path):
    path = tmp_path / "sweep.yaml"
    path.write_text("method: random  # try things\nparameters:\n  x: {value: 1}\n")
    db = str(tmp_path / "s.db")
    from sweepkit.connect import open_local

    by_file = sweepkit.sweep(str(path), db=db)
    assert open_local(db).get_sweep(by_file).source == path.read_text()
    by_dict = sweepkit.sweep({"method": "random", "parameters": {"x": {"value": 1}}}, db=db)
    assert open_local(db).get_sweep(by_dict).source == "method: random\nparameters:\n  x:\n    value: 1\n"
