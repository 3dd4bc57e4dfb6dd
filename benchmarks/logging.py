"""What ``log()`` costs as a run grows: per call, and for the whole run until every row is stored.

Each case is one run of a sweep with a metric and hyperband (so every batch updates the metric's
aggregates and band crossings trigger stop decisions), logging two metrics per step:

- function mode: the training function runs in the agent's process (``sweepkit.agent(function=...)``);
- program mode: a real agent runs a Python program that reports through its events file.

"per call" is the time of the ``log()`` loop divided by the steps; "whole run" runs from the first
``log()`` until ``finish()`` has returned and every row is in the store (for program mode: until the
agent has stored the last row). Each case runs ``--repeat`` times and the table shows the median
(the machine may be busy with other work). Stored rows are counted to check that nothing was lost.

    python benchmarks/logging.py                                  # SQLite, 1k/10k/100k steps
    python benchmarks/logging.py --postgres postgresql://postgres@127.0.0.1:5432/test
    python benchmarks/logging.py --steps 1000,10000 --modes function
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import uuid
from pathlib import Path

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, sklearn, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import sweepkit  # noqa: E402
from sweepkit.connect import open_local  # noqa: E402

CONFIG = {
    "method": "random",
    "metric": {"name": "loss", "goal": "minimize"},
    "early_terminate": {"type": "hyperband", "min_iter": 3, "eta": 3},
    "parameters": {"lr": {"min": 0.001, "max": 0.1}},
}

PROGRAM = """
import json, os, time
import sweepkit

steps = int(os.environ["STEPS"])
run = sweepkit.init()
start = time.perf_counter()
for step in range(steps):
    sweepkit.log({"loss": 1.0 / (step + 1), "acc": step / steps})
logged = time.perf_counter()
sweepkit.finish()
with open(os.environ["OUT"], "w") as fh:
    json.dump({"loop_s": logged - start, "wall_start": time.time() - (time.perf_counter() - start)}, fh)
"""


def _postgres_schema(url: str) -> str:
    """A fresh schema on the server, so each case starts from an empty store."""
    import psycopg
    from sqlalchemy.engine import make_url

    schema = f"sweepkit_bench_{uuid.uuid4().hex[:10]}"
    base = make_url(url.replace("postgresql+psycopg://", "postgresql://"))
    with psycopg.connect(base.render_as_string(hide_password=False), autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    return base.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
        hide_password=False
    )


def function_case(db: str, steps: int) -> dict:
    timing: dict[str, float] = {}

    def train():
        sweepkit.init()
        start = time.perf_counter()
        for step in range(steps):
            sweepkit.log({"loss": 1.0 / (step + 1), "acc": step / steps})
        timing["loop"] = time.perf_counter() - start
        sweepkit.finish()  # returns once every row is stored
        timing["whole"] = time.perf_counter() - start

    sweep_id = sweepkit.sweep(CONFIG, db=db)
    sweepkit.agent(sweep_id, function=train, count=1, db=db, quiet=True)
    return {**timing, "rows": _stored_rows(db, sweep_id)}


def program_case(db: str, steps: int, workdir: Path) -> dict:
    (workdir / "train.py").write_text(textwrap.dedent(PROGRAM))
    out = workdir / "timing.json"
    sweep_id = sweepkit.sweep({**CONFIG, "program": "train.py"}, db=db)
    env = {
        **os.environ,
        "SWEEPKIT_DB": db,
        "STEPS": str(steps),
        "OUT": str(out),
        "SWEEPKIT_INTERPRETER": sys.executable,
    }
    subprocess.run(
        [sys.executable, "-m", "sweepkit", "agent", sweep_id, "--count", "1", "--quiet"],
        cwd=workdir,
        env=env,
        check=True,
        capture_output=True,
    )
    done = time.time()  # the agent has stored every row and ended the run
    timing = json.loads(out.read_text())
    return {
        "loop": timing["loop_s"],
        "whole": done - timing["wall_start"],
        "rows": _stored_rows(db, sweep_id),
    }


def _stored_rows(db: str, sweep_id: str) -> int:
    service = open_local(db)
    (run,) = service.all_runs(sweep_id)
    count = run.last_step + 1 if run.last_step is not None else 0
    service.close()
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", default="1000,10000,100000", help="comma-separated step counts")
    ap.add_argument("--modes", default="function,program", help="function, program or both")
    ap.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL server")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each case (the median is shown)")
    args = ap.parse_args()
    steps_list = [int(s) for s in args.steps.split(",")]
    modes = args.modes.split(",")
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])

    print(
        f"{'store':<11} {'mode':<9} {'steps':>7} {'per log() µs':>13} {'whole run s':>12} {'rows stored':>12}"
    )
    results = []
    for backend in backends:
        for mode in modes:
            for steps in steps_list:
                cases = []
                for _ in range(args.repeat):
                    with tempfile.TemporaryDirectory() as tmp:
                        work = Path(tmp)
                        db = (
                            str(work / "store.db") if backend == "sqlite" else _postgres_schema(args.postgres)
                        )
                        os.chdir(work)
                        run = function_case if mode == "function" else program_case
                        cases.append(run(db, steps) if mode == "function" else run(db, steps, work))
                case = {
                    "loop": statistics.median(c["loop"] for c in cases),
                    "whole": statistics.median(c["whole"] for c in cases),
                    "rows": min(c["rows"] for c in cases),
                }
                per_call = case["loop"] / steps * 1e6
                results.append((backend, mode, steps, per_call, case["whole"], case["rows"]))
                print(
                    f"{backend:<11} {mode:<9} {steps:>7} {per_call:>13.1f} {case['whole']:>12.2f} {case['rows']:>12}",
                    flush=True,
                )
    for backend in backends:
        for mode in modes:
            cases = {s: r for b, m, s, *r in results if b == backend and m == mode}
            if min(steps_list) in cases and max(steps_list) in cases and min(steps_list) != max(steps_list):
                ratio = cases[max(steps_list)][0] / cases[min(steps_list)][0]
                print(
                    f"{backend} {mode}: per-call cost at {max(steps_list)} steps is {ratio:.2f}x that at {min(steps_list)}"
                )


if __name__ == "__main__":
    main()
