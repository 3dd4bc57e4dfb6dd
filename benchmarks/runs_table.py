"""How long ``sweepkit runs`` takes on a sweep of many runs, in each format.

    python benchmarks/runs_table.py [--runs N] [--postgres URL]

For each store (a fresh SQLite file; PostgreSQL when a URL is given or SWEEPKIT_TEST_POSTGRES_URL is
set) it makes a random sweep of N runs (default 10,000) through the service, each with 3
parameters, a logged loss and a summary value, a tenth of them failed with an error, and times the
``sweepkit runs`` command as a user runs it: the table, the table sorted by the metric and cut to
20 rows, CSV and JSON; then what ``sweepkit watch`` costs: its first look (every run, once) and
each later one (the sweep's counts and its newest runs). Targets: the table of 10,000 runs in
under 10 s on a 2-core machine; a later look of ``watch`` under 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
SRC = str(Path(__file__).resolve().parents[1] / "src")
sys.path.insert(0, SRC)

from sweepkit.connect import open_local  # noqa: E402
from sweepkit.runs import RunState  # noqa: E402
from sweepkit.service.types import LogBatch  # noqa: E402

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "parameters": {
        "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
        "layers": {"values": [1, 2, 3, 4]},
        "optimizer": {"parameters": {"name": {"values": ["adam", "sgd"]}}},
    },
}


def make_sweep(db: str, n: int) -> tuple[str, float]:
    """A sweep of ``n`` ended runs; returns its id and the seconds it took to make."""
    start = time.perf_counter()
    service = open_local(db, create=True)
    sweep = service.create_sweep(CONFIG)
    agent = service.register_agent(sweep.id, host="bench", pid=os.getpid())
    for k in range(n):
        run = service.claim_run(sweep.id, agent, uuid.uuid4().hex).assignment
        if k % 10 == 9:
            service.finish_run(
                run.run_id, RunState.FAILED, exit_code=1, error="exit code 1: boom\nlast lines"
            )
            continue
        service.log(
            run.run_id, LogBatch(1, [{"_step": 0, "loss": run.config["lr"] * 3.1}], summary={"note": "ok"})
        )
        service.finish_run(run.run_id, RunState.FINISHED, exit_code=0)
    service.close()
    return sweep.id, time.perf_counter() - start


def time_command(db: str, args: list[str]) -> tuple[float, int]:
    """Seconds to run ``sweepkit runs ...`` and the bytes it printed."""
    env = {**os.environ, "PYTHONPATH": SRC}
    start = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "sweepkit", "runs", "--db", db, *args],
        env=env,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - start, len(out.stdout)


def time_watch(db: str, sweep_id: str, looks: int = 20) -> tuple[float, float]:
    """Seconds of ``watch``'s first look at the sweep, and of a later one (the mean of ``looks``)."""
    from sweepkit.cli.sweep_progress import SweepProgress

    service = open_local(db)
    progress = SweepProgress(service, sweep_id)
    start = time.perf_counter()
    progress.poll()
    first = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(looks):
        progress.poll()
    later = (time.perf_counter() - start) / looks
    service.close()
    return first, later


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10_000)
    parser.add_argument("--postgres", default=os.environ.get("SWEEPKIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    stores = []
    with tempfile.TemporaryDirectory() as tmp:
        stores.append(("SQLite", str(Path(tmp) / "runs.db")))
        if args.postgres:
            stores.append(("PostgreSQL", args.postgres))
        print(f"{'store':<11} {'command':<44} {'seconds':>8} {'output':>10}")
        for label, db in stores:
            sweep_id, made = make_sweep(db, args.runs)
            print(f"{label:<11} {f'(making {args.runs} runs)':<44} {made:>8.1f}")
            for extra in ([], ["--sort", "loss", "--limit", "20"], ["--format", "csv"], ["--format", "json"]):
                seconds, size = time_command(db, [sweep_id, *extra])
                shown = " ".join(["sweepkit runs ID", *extra])
                print(f"{label:<11} {shown:<44} {seconds:>8.2f} {size / 1e6:>8.2f} MB")
            first, later = time_watch(db, sweep_id)
            print(f"{label:<11} {'sweepkit watch ID: first look':<44} {first:>8.2f}")
            print(f"{label:<11} {'sweepkit watch ID: each later look':<44} {later:>8.3f}")


if __name__ == "__main__":
    main()
