"""The run context: a function run is handed its run explicitly, for the duration of its call, and
calls in threads side by side never see each other's run (``sweepkit.tracking.context``)."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import pytest

import sweepkit
from sweepkit.errors import SweepkitError
from sweepkit.tracking.context import RunContext, run_context
from sweepkit.tracking.sinks import RunSink
from sweepkit.wandb_facade import NAMES as WANDB_NAMES


class RecordingSink(RunSink):
    """Keeps what a run reports, in order (the agent's reporter stands here)."""

    def __init__(self) -> None:
        self.logged: list[dict] = []
        self.finished: list[int] = []

    def rows(self, rows):
        self.logged.extend(rows)

    def summary(self, values):
        pass

    def config(self, config):
        pass

    def name(self, name):
        pass

    def stop_reason(self):
        return None

    def flush(self):
        pass

    def finish(self, exit_code):
        self.finished.append(exit_code)


def _handed(run_id: str, x: int) -> SimpleNamespace:
    return SimpleNamespace(
        run_id=run_id, run_name=f"name-{run_id}", sweep_id="s1", project="p", entity=None, config={"x": x}
    )


def test_threads_each_see_only_the_run_their_context_holds():
    barrier = threading.Barrier(2, timeout=30)
    seen: dict[str, dict] = {}
    sinks = {"a": RecordingSink(), "b": RecordingSink()}

    def call(run_id: str, x: int) -> None:
        context = RunContext(_handed(run_id, x), sinks[run_id])
        with context.installed():
            sweepkit.init(config={"extra": run_id})
            barrier.wait()  # both runs are started before either logs
            for step in range(3):
                sweepkit.log({"loss": x * 10 + step})
            seen[run_id] = {
                "run": sweepkit.run.id,
                "config": dict(sweepkit.config),
                "same": run_context() is context,
            }
            barrier.wait()  # both have looked before either finishes
            sweepkit.finish()

    threads = [threading.Thread(target=call, args=args) for args in (("a", 1), ("b", 2))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {
        "a": {"run": "a", "config": {"extra": "a", "x": 1}, "same": True},
        "b": {"run": "b", "config": {"extra": "b", "x": 2}, "same": True},
    }
    assert [row["loss"] for row in sinks["a"].logged] == [10, 11, 12]
    assert [row["loss"] for row in sinks["b"].logged] == [20, 21, 22]
    assert sinks["a"].finished == [0] and sinks["b"].finished == [0]
    # The calls' runs were never this thread's: outside their contexts there is no run.
    assert sweepkit.run is None
    with pytest.raises(SweepkitError, match=r"call sweepkit.init\(\) before sweepkit.log\(\)"):
        sweepkit.log({"loss": 0})


def test_a_context_keeps_its_finished_run_and_refuses_a_second_one():
    context = RunContext(_handed("r1", 3), RecordingSink())
    with context.installed():
        run = sweepkit.init()
        assert sweepkit.init() is run  # reinit "default" outside a notebook: the active run
        run.finish()
        assert sweepkit.run is None
        with pytest.raises(SweepkitError, match="run r1 is finished; the agent handed this process one run"):
            sweepkit.init()
    # Another call gets a context of its own, where the same id is a fresh start.
    with RunContext(_handed("r2", 4), RecordingSink()).installed():
        assert sweepkit.init().config["x"] == 4
        assert WANDB_NAMES["_attach"]("r2") is sweepkit.run
        with pytest.raises(SweepkitError, match=r"_attach\('r1'\): no run with that id is active"):
            WANDB_NAMES["_attach"]("r1")
        sweepkit.finish()
