"""Warm start: how many evaluations a bayes sweep started from an earlier sweep's runs needs to reach
what a cold sweep reaches in 100.

    nice -n 10 python benchmarks/warm_start.py                 # 4 problems, 5 seeds
    python benchmarks/warm_start.py --seeds 2 --problems branin,hartmann6

For each problem (from search_problems.py, noise-free) and seed:

- an earlier sweep: 50 evaluations of sweepkit's bayes on the problem;
- cold: a new bayes sweep, 100 evaluations; its target is the true value of its best point after 100;
- warm (same): a new sweep on the same problem that starts with the earlier sweep's 50 runs as
  imported observations (as ``sweepkit sweep NEW --from ID`` gives it);
- warm (shifted): the same earlier runs, but the new sweep's problem is shifted: every uniform
  parameter moved by 15% of its range (reflected at the bounds), so the earlier runs are only a
  guide; its cold sweep runs on the shifted problem too.

A cell is the number of the new sweep's own evaluations until its best point is as good as the cold
sweep's after 100 (within 0.1% of the way from a random draw's median value to it: two sweeps at an
optimum differ only in the 7th digit), as the median over seeds with the count of seeds that reached
it within 100. The imported runs do not count as reaching it: only points the new sweep ran. "cold"
is the evaluation at which the cold sweep itself got there.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _sibling(name: str):
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


_problems = _sibling("search_problems")
_quality = _sibling("search_quality")

from sweepkit.runs import RunState, RunView  # noqa: E402

DEFAULT_PROBLEMS = ["branin", "hartmann6", "rosenbrock-mixed", "levy-mixed"]
EARLIER = 50
BUDGET = 100
SHIFT = 0.15
#: "As good as the cold sweep": within this share of the way from a random draw's median to its value.
TOLERANCE = 1e-3


def shifted(problem: Any) -> Any:
    """The problem with each uniform parameter moved by SHIFT of its range, reflected at the bounds."""
    from dataclasses import replace

    moves = {}
    for name, spec in problem.parameters.items():
        if isinstance(spec, dict) and spec.get("distribution") == "uniform":
            moves[name] = (float(spec["min"]), float(spec["max"]))

    def objective(params: dict[str, Any]) -> Any:
        moved = dict(params)
        for name, (low, high) in moves.items():
            x = params[name] + SHIFT * (high - low)
            if x > high:
                x = 2 * high - x
            moved[name] = x
        return problem.objective(moved)

    return replace(problem, name=problem.name + "-shifted", objective=objective, optimum=None, cache={})


class Sweep:
    """A bayes sweep of sweepkit's search, run in this process (the service's search, without a store)."""

    def __init__(self, problem: Any, seed: int, earlier: list[RunView] = ()):
        self.method = _quality.SweepkitMethod(problem, seed)
        self.method.runs = list(earlier)
        self.problem = problem
        self.own_true: list[float] = []  # signed, lower is better (the problems here are noise-free)

    def step(self) -> None:
        params = self.method.ask()
        value = self.problem(params)
        self.method.tell(params, value)
        self.own_true.append(self.problem.sign * value)

    def best_true(self) -> float:
        return min(self.own_true)

    def views(self) -> list[RunView]:
        return [
            RunView(f"earlier-{i}", RunState.FINISHED, v.params, v.metric)
            for i, v in enumerate(self.method.runs)
        ]


def evaluations_to_reach(problem: Any, seed: int, earlier: list[RunView], target: float) -> int | None:
    """How many of its own evaluations a sweep starting from ``earlier`` needs to reach ``target``."""
    sweep = Sweep(problem, seed, earlier)
    for n in range(1, BUDGET + 1):
        sweep.step()
        if sweep.best_true() <= target:
            return n
    return None


def tolerance(problem: Any, best: float) -> float:
    """What "as good as" allows: TOLERANCE of the way from a random draw's median value to ``best``
    (two sweeps both at an optimum differ in the 7th digit; that is not a difference)."""
    median = statistics.median(_quality.random_reference(problem, 200))
    return TOLERANCE * max(median - best, 0.0)


def one(problem: Any, seed: int) -> dict[str, Any]:
    earlier = Sweep(problem, 1000 + seed)
    for _ in range(EARLIER):
        earlier.step()
    runs = earlier.views()
    out = {}
    for label, target_problem in (("same", problem), ("shifted", shifted(problem))):
        cold = Sweep(target_problem, seed)
        for _ in range(BUDGET):
            cold.step()
        target = cold.best_true() + tolerance(target_problem, cold.best_true())
        out[label] = evaluations_to_reach(target_problem, seed, runs, target)
        # The evaluation at which the cold sweep itself got there.
        out[f"cold-{label}"] = 1 + min(range(BUDGET), key=lambda i: (cold.own_true[i] > target, i))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--problems", default=",".join(DEFAULT_PROBLEMS))
    args = parser.parse_args(argv)
    _problems.quiet()
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass
    names = [n.strip() for n in args.problems.split(",") if n.strip()]
    problems = {p.name: p for p in _problems.all_problems(names)}
    start = time.perf_counter()
    rows = []
    for name in names:
        results = [one(problems[name], seed) for seed in range(args.seeds)]
        rows.append((name, results))
        print(f"  {name}: done ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    print(
        f"\nEvaluations to reach the cold sweep's value after {BUDGET} "
        f"(median over {args.seeds} seeds; reached/seeds), warm = started from a {EARLIER}-run sweep\n"
    )
    header = (
        f"| {'problem':<18} | {'cold':>14} | {'warm, same problem':>20} | {'warm, shifted problem':>22} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(c)) for c in header.split("|")[1:-1]) + "|")
    for name, results in rows:
        print(
            f"| {name:<18} | {_cell([r['cold-same'] for r in results]):>14} | "
            f"{_cell([r['same'] for r in results]):>20} | {_cell([r['shifted'] for r in results]):>22} |"
        )
    print(f"\n{time.perf_counter() - start:.0f} s in all")
    return 0


def _cell(values: list[int | None]) -> str:
    reached = [v for v in values if v is not None]
    if not reached:
        return f">{BUDGET} (0/{len(values)})"
    # Seeds that never reached it count as more than the budget in the median.
    median = statistics.median([v if v is not None else BUDGET + 1 for v in values])
    shown = f">{BUDGET}" if median > BUDGET else f"{median:g}"
    return f"{shown} ({len(reached)}/{len(values)})"


if __name__ == "__main__":
    random.seed(0)
    sys.exit(main())
