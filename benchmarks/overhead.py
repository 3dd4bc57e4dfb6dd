"""What sweepkit adds per run: function and program sweeps against the floor of doing it by hand.

    python benchmarks/overhead.py [--runs N] [--program-runs M] [--postgres URL]

For each store (a fresh SQLite file; PostgreSQL when a URL is given or SWEEPKIT_TEST_POSTGRES_URL
is set) it runs a trivial function sweep (``init()``, one ``log()``) and a trivial program sweep
(a script that imports sweepkit, calls ``init()``, logs once and finishes), and prints runs per
second and milliseconds per run next to a floor: for function mode, calling the function in a
loop; for program mode, the run process alone (the same program started directly in the
environment an agent gives it), so "added" is what the agent and the service add per run. The last
row is the run process alone against a bare ``python -c pass``: what ``import sweepkit;
sweepkit.init(); log(); finish()`` costs a program. Targets: function mode under 5 ms a run on
SQLite; the run process under 150 ms beyond a bare interpreter.
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
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import sweepkit  # noqa: E402

PROGRAM = """
import sweepkit
run = sweepkit.init()
sweepkit.log({"loss": run.config["x"]})
sweepkit.finish()
"""


def _function_sweep(db: str, n: int) -> float:
    def train():
        run = sweepkit.init()
        run.log({"loss": run.config["x"]})

    sweep_id = sweepkit.sweep(
        {"method": "random", "metric": {"name": "loss"}, "parameters": {"x": {"min": 0.0, "max": 1.0}}}, db=db
    )
    start = time.perf_counter()
    sweepkit.agent(sweep_id, function=train, count=n, db=db, echo=False, quiet=True)
    return time.perf_counter() - start


def _function_floor(n: int) -> float:
    import random

    log = []

    def train(x):
        log.append({"loss": x})

    start = time.perf_counter()
    for _ in range(n):
        train(random.random())
    return time.perf_counter() - start


def _program_sweep(db: str, n: int, workdir: Path) -> float:
    program = workdir / "trivial.py"
    program.write_text(PROGRAM)
    config = {
        "method": "random",
        "program": str(program),
        "metric": {"name": "loss"},
        "parameters": {"x": {"min": 0.0, "max": 1.0}},
    }
    sweep_id = sweepkit.sweep(config, db=db)
    os.environ["SWEEPKIT_INTERPRETER"] = sys.executable
    start = time.perf_counter()
    old = os.getcwd()
    os.chdir(workdir)
    try:
        sweepkit.agent(sweep_id, count=n, db=db, echo=False, quiet=True)
    finally:
        os.chdir(old)
    return time.perf_counter() - start


def _run_process(n: int, workdir: Path) -> tuple[float, float]:
    """The run process alone, as an agent starts it (events file, no store), and a bare interpreter."""
    import json

    program = workdir / "trivial_run.py"
    program.write_text(PROGRAM)
    run_file = workdir / "run.json"
    run_file.write_text(
        json.dumps({"run_id": "r1", "run_name": "r1", "sweep_id": "s1", "config": {"x": 0.5}})
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWEEPKIT_")}
    env.update({"SWEEPKIT_RUN_FILE": str(run_file), "SWEEPKIT_EVENTS_FILE": str(workdir / "events.jsonl")})
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run([sys.executable, str(program)], env=env, check=True)
    with_sweepkit = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(n):
        subprocess.run([sys.executable, "-c", "pass"], env=env, check=True)
    return with_sweepkit, time.perf_counter() - start


def _pg_url_with_schema(url: str) -> str:
    """A fresh schema on the server so the benchmark starts from an empty store."""
    import sqlalchemy as sa

    schema = "bench_" + uuid.uuid4().hex[:8]
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    engine.dispose()
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=300, help="runs of the function sweep")
    parser.add_argument("--program-runs", type=int, default=40, help="runs of the program sweep")
    parser.add_argument("--postgres", default=os.environ.get("SWEEPKIT_TEST_POSTGRES_URL"))
    args = parser.parse_args()

    stores = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        stores.append(("sqlite", str(workdir / "bench.db")))
        if args.postgres:
            stores.append(("postgresql", _pg_url_with_schema(args.postgres)))
        rows = []
        floor_fn = _function_floor(args.runs)
        run_alone, bare = _run_process(args.program_runs, workdir)
        for label, db in stores:
            t = _function_sweep(db, args.runs)
            rows.append(("function", label, args.runs, t, floor_fn))
            t = _program_sweep(db, args.program_runs, workdir)
            rows.append(("program", label, args.program_runs, t, run_alone))
        rows.append(("run process", "-", args.program_runs, run_alone, bare))

    header = ("mode", "store", "runs", "runs/s", "ms/run", "floor ms/run", "added ms/run")
    lines = [header]
    for mode, store, n, t, floor in rows:
        per_run, floor_per_run = 1000 * t / n, 1000 * floor / n
        lines.append(
            (
                mode,
                store,
                str(n),
                f"{n / t:.1f}",
                f"{per_run:.2f}",
                f"{floor_per_run:.3f}",
                f"{per_run - floor_per_run:.2f}",
            )
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    for row in lines:
        print("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)))


if __name__ == "__main__":
    main()
