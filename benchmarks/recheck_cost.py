"""CPU cost of a bayes suggestion prepared before the sweep's lock and of its check under it.

A sweep of ``--runs`` runs of a 6-dimensional problem, the last ``--pending`` of them running:
``bayes.prepare`` on it, then ``bayes.complete`` once ``--fresh`` more runs have been claimed (the
check under the lock, issue 29). Prints the median CPU time (``time.process_time``) of each over
``--repeats`` repeats, with different claimed points each time.

    python benchmarks/recheck_cost.py --runs 400 --pending 8 --fresh 4 --repeats 6
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

# benchmarks/logging.py would shadow the standard library's module
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sweepkit.runs import MetricStats, RunState, RunView  # noqa: E402
from sweepkit.search import bayes  # noqa: E402
from sweepkit.search.sweep_runs import SweepRuns  # noqa: E402
from sweepkit.space import SearchSpace  # noqa: E402
from sweepkit.sweep_config import load_config  # noqa: E402

PARAMETERS = {f"x{i}": {"min": 0.0, "max": 1.0} for i in range(6)}


def _loss(p: dict) -> float:
    return sum((v - 0.2 * i / 5 - 0.4) ** 2 for i, v in enumerate(p.values()))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=400)
    ap.add_argument("--pending", type=int, default=8)
    ap.add_argument("--fresh", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=6)
    args = ap.parse_args()
    cfg = load_config(
        {"method": "bayes", "metric": {"name": "loss", "goal": "minimize"}, "parameters": PARAMETERS}
    )
    space = SearchSpace.from_config(cfg)
    rng = random.Random(0)
    views = []
    for n in range(args.runs):
        params = space.draw(rng)
        if n >= args.runs - args.pending:
            views.append(RunView(f"r{n}", RunState.RUNNING, params, MetricStats(), n))
        else:
            views.append(
                RunView(f"r{n}", RunState.FINISHED, params, MetricStats.from_values([_loss(params)]), n)
            )
    prepare_cpu, complete_cpu, kinds = [], [], set()
    for k in range(args.repeats + 1):
        runs = SweepRuns.of(views, bayes.digests(cfg, space))
        t = time.process_time()
        prepared = bayes.prepare(cfg, space, runs, random.Random(k))
        prepare_cpu.append(time.process_time() - t)
        claimed = [
            RunView(f"r{args.runs + i}", RunState.RUNNING, space.draw(rng), MetricStats(), args.runs + i)
            for i in range(args.fresh)
        ]
        later = SweepRuns.of([*views, *claimed], bayes.digests(cfg, space))
        t = time.process_time()
        done = bayes.complete(prepared, later)
        complete_cpu.append(time.process_time() - t)
        kinds.add(done.info.get("acquisition") if done is not None else None)
    # the first repeat warms the caches (hyperparameter fit, imports): left out
    print(
        f"runs {args.runs}, pending {args.pending}, fresh {args.fresh}: "
        f"prepare {1000 * statistics.median(prepare_cpu[1:]):.1f} ms, "
        f"complete {1000 * statistics.median(complete_cpu[1:]):.2f} ms of CPU "
        f"(median of {args.repeats}; acquisition {sorted(map(str, kinds))})"
    )


if __name__ == "__main__":
    main()
