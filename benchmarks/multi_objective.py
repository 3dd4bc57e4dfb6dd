"""Multi-objective search quality: normalised hypervolume of sweepkit's bayes (``metrics:`` with
``method: bayes``), the Optuna engine (``method: custom``) with TPE and NSGA-II, Optuna's GP sampler
run directly, the Ax engine (``scheduler: {engine: ax}``), and random search, on problems with known Pareto fronts and two real ones.

One command, one table:

    nice -n 10 python benchmarks/multi_objective.py --seeds 10 --cache mo_cache.json
    python benchmarks/multi_objective.py --quick          # 2 seeds, 3 problems, 30 evaluations

Problems (``PROBLEMS``): ZDT1, ZDT2 and ZDT3 (5 inputs), DTLZ2 (3 objectives, 6 inputs), Kursawe
(3 inputs), VLMOP2 (2 inputs), ZDT1-mixed (floats, an integer and a categorical), ZDT2-noisy (the
observed objectives carry Gaussian noise, sd 0.05; the table judges the true values), and two
scikit-learn models on the digits data: a random forest and an SVC, each with its validation error
against a deterministic size (the forest's tree nodes, the SVC's support vectors). ZDT3 and
svc-digits are kept out of tuning: nothing in sweepkit was chosen by looking at them (nothing was
tuned on the others either, so far).

Each run evaluates one point at a time (``--budget``, 100) and is judged after 50 and 100
evaluations by the hypervolume of the true objective values of every point it evaluated. Each
objective is scaled to [0, 1] by the ideal and nadir point of the problem's reference front; the
reference point is 1.1 in every objective; the hypervolume is divided by that of the reference
front, so 1.0 means the run found the reference front. The reference front is the known one
(sampled densely) for ZDT, DTLZ2 and VLMOP2, and the non-dominated set of every point any method
evaluated (together with a dense random sample) for Kursawe and the real problems. A cell is the
mean over seeds with its standard error. ``--cache FILE`` keeps every finished run, so an
interrupted or repeated invocation redoes nothing (a run of a smaller ``--budget`` is read from a
longer cached one: its first points are the same).

Needs the ``optuna`` extra, scikit-learn, and torch for Optuna's GP sampler, the ``ax`` extra for Ax
(each skipped without it).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sweepkit.runs import MetricStats, RunState, RunView  # noqa: E402
from sweepkit.runs.hypervolume import hypervolume, non_dominated  # noqa: E402

CHECKPOINTS = (50, 100)
REFERENCE = 1.1
SUBJECT = "sweepkit-bayes"


@dataclass
class Problem:
    name: str
    parameters: dict[str, Any]
    #: params, rng -> (observed objective values, true objective values); every objective minimised
    evaluate: Callable[[dict[str, Any], random.Random], tuple[list[float], list[float]]]
    n_objectives: int
    #: a dense sample of the true front (None: the front is found from every evaluated point)
    front: Callable[[], list[tuple[float, ...]]] | None = None
    #: the front's hypervolume when it is known exactly (objectives scaled to [0, 1], reference 1.1)
    front_hv: float | None = None
    held_out: bool = False
    extra_front: list[tuple[float, ...]] = field(default_factory=list)


def _floats(names: list[str], low: float = 0.0, high: float = 1.0) -> dict[str, Any]:
    return {n: {"min": low, "max": high} for n in names}


# --- the problems with known fronts -------------------------------------------------------------------

ZDT_VARS = [f"x{i}" for i in range(5)]


def _zdt_g(params: dict[str, Any], rest: list[str]) -> float:
    return 1 + 9 * sum(params[n] for n in rest) / len(rest)


def zdt1(params, rng):
    f1, g = params["x0"], _zdt_g(params, ZDT_VARS[1:])
    f = [f1, g * (1 - math.sqrt(f1 / g))]
    return f, f


def zdt2(params, rng):
    f1, g = params["x0"], _zdt_g(params, ZDT_VARS[1:])
    f = [f1, g * (1 - (f1 / g) ** 2)]
    return f, f


def zdt3(params, rng):
    f1, g = params["x0"], _zdt_g(params, ZDT_VARS[1:])
    f = [f1, g * (1 - math.sqrt(f1 / g) - f1 / g * math.sin(10 * math.pi * f1))]
    return f, f


def _curve(fn: Callable[[float], float], n: int = 2000) -> list[tuple[float, ...]]:
    return non_dominated([(t, fn(t)) for t in (i / (n - 1) for i in range(n))])


def dtlz2(params, rng):
    x = [params[f"x{i}"] for i in range(6)]
    g = sum((v - 0.5) ** 2 for v in x[2:])
    a, b = x[0] * math.pi / 2, x[1] * math.pi / 2
    f = [(1 + g) * math.cos(a) * math.cos(b), (1 + g) * math.cos(a) * math.sin(b), (1 + g) * math.sin(a)]
    return f, f


def _dtlz2_front(n: int = 40) -> list[tuple[float, ...]]:
    out = []
    for i in range(n):
        for j in range(n):
            a, b = i / (n - 1) * math.pi / 2, j / (n - 1) * math.pi / 2
            out.append((math.cos(a) * math.cos(b), math.cos(a) * math.sin(b), math.sin(a)))
    return out


def kursawe(params, rng):
    x = [params[f"x{i}"] for i in range(3)]
    f1 = sum(-10 * math.exp(-0.2 * math.sqrt(x[i] ** 2 + x[i + 1] ** 2)) for i in range(2))
    f2 = sum(abs(v) ** 0.8 + 5 * math.sin(v**3) for v in x)
    return [f1, f2], [f1, f2]


def _sampled_front(problem_fn, names, low, high, n: int = 60_000, seed: int = 0) -> list[tuple[float, ...]]:
    rng = random.Random(seed)
    points = [tuple(problem_fn({k: rng.uniform(low, high) for k in names}, rng)[1]) for _ in range(n)]
    return non_dominated(points)


def vlmop2(params, rng):
    x = [params["x0"], params["x1"]]
    r = 1 / math.sqrt(2)
    f = [1 - math.exp(-sum((v - r) ** 2 for v in x)), 1 - math.exp(-sum((v + r) ** 2 for v in x))]
    return f, f


def _vlmop2_front(n: int = 2000) -> list[tuple[float, ...]]:
    r = 1 / math.sqrt(2)
    pts = [vlmop2({"x0": t, "x1": t}, None)[1] for t in (-r + 2 * r * i / (n - 1) for i in range(n))]
    return non_dominated([tuple(p) for p in pts])


MIXED_PENALTY = {"a": 0.0, "b": 0.5, "c": 1.0}


def zdt1_mixed(params, rng):
    f1 = params["x0"]
    g = 1 + 9 * (params["x1"] + params["x2"] + params["k"] / 10 + MIXED_PENALTY[params["c"]]) / 4
    f = [f1, g * (1 - math.sqrt(f1 / g))]
    return f, f


def zdt2_noisy(params, rng):
    _, true = zdt2(params, rng)
    return [v + rng.gauss(0, 0.05) for v in true], true


# --- two real problems: scikit-learn on the digits data ------------------------------------------------

_DIGITS: dict[str, Any] = {}


def _digits():
    if not _DIGITS:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        x, y = load_digits(return_X_y=True)
        _DIGITS["split"] = train_test_split(x / 16.0, y, test_size=0.3, random_state=0, stratify=y)
    return _DIGITS["split"]


def rf_digits(params, rng):
    from sklearn.ensemble import RandomForestClassifier

    x_train, x_valid, y_train, y_valid = _digits()
    model = RandomForestClassifier(
        n_estimators=params["n_estimators"],
        max_depth=params["max_depth"],
        max_features=params["max_features"],
        criterion=params["criterion"],
        random_state=0,
        n_jobs=1,
    ).fit(x_train, y_train)
    error = 1 - model.score(x_valid, y_valid)
    nodes = sum(tree.tree_.node_count for tree in model.estimators_)
    f = [error, math.log10(nodes)]
    return f, f


def svc_digits(params, rng):
    from sklearn.svm import SVC

    x_train, x_valid, y_train, y_valid = _digits()
    model = SVC(C=params["C"], gamma=params["gamma"], kernel=params["kernel"]).fit(x_train, y_train)
    f = [1 - model.score(x_valid, y_valid), float(model.n_support_.sum()) / len(y_train)]
    return f, f


PROBLEMS = {
    "zdt1": Problem("zdt1", _floats(ZDT_VARS), zdt1, 2, lambda: _curve(lambda t: 1 - math.sqrt(t))),
    "zdt2": Problem("zdt2", _floats(ZDT_VARS), zdt2, 2, lambda: _curve(lambda t: 1 - t * t)),
    "zdt3": Problem(
        "zdt3",
        _floats(ZDT_VARS),
        zdt3,
        2,
        lambda: _curve(lambda t: 1 - math.sqrt(t) - t * math.sin(10 * math.pi * t), 20_000),
        held_out=True,
    ),
    # DTLZ2's front is the unit sphere's positive octant: it dominates the box but the ball's eighth
    "dtlz2": Problem(
        "dtlz2",
        _floats([f"x{i}" for i in range(6)]),
        dtlz2,
        3,
        _dtlz2_front,
        front_hv=REFERENCE**3 - math.pi / 6,
    ),
    "kursawe": Problem(
        "kursawe",
        _floats(["x0", "x1", "x2"], -5.0, 5.0),
        kursawe,
        2,
        lambda: _sampled_front(kursawe, ["x0", "x1", "x2"], -5.0, 5.0),
    ),
    "vlmop2": Problem("vlmop2", _floats(["x0", "x1"], -2.0, 2.0), vlmop2, 2, _vlmop2_front),
    "zdt1-mixed": Problem(
        "zdt1-mixed",
        {
            **_floats(["x0", "x1", "x2"]),
            "k": {"min": 0, "max": 10},
            "c": {"values": ["a", "b", "c"]},
        },
        zdt1_mixed,
        2,
        lambda: _curve(lambda t: 1 - math.sqrt(t)),
    ),
    "zdt2-noisy": Problem(
        "zdt2-noisy", _floats(ZDT_VARS), zdt2_noisy, 2, lambda: _curve(lambda t: 1 - t * t)
    ),
    "rf-digits": Problem(
        "rf-digits",
        {
            "n_estimators": {"distribution": "q_log_uniform_values", "min": 1, "max": 64, "q": 1},
            "max_depth": {"min": 1, "max": 16},
            "max_features": {"distribution": "log_uniform_values", "min": 0.02, "max": 1.0},
            "criterion": {"values": ["gini", "entropy"]},
        },
        rf_digits,
        2,
    ),
    "svc-digits": Problem(
        "svc-digits",
        {
            "C": {"distribution": "log_uniform_values", "min": 0.01, "max": 1000.0},
            "gamma": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1.0},
            "kernel": {"values": ["rbf", "poly"]},
        },
        svc_digits,
        2,
        held_out=True,
    ),
}
QUICK = ["zdt1", "dtlz2", "zdt1-mixed"]


# --- the methods -------------------------------------------------------------------------------------------


def _metrics(problem: Problem) -> list[dict[str, str]]:
    return [{"name": f"f{i}", "goal": "minimize"} for i in range(problem.n_objectives)]


def _stats(values: list[float]) -> MetricStats:
    names = [f"f{i}" for i in range(len(values))]
    first = MetricStats.from_values([values[0]])
    return first.add_others([dict(zip(names[1:], values[1:], strict=True))], {}, names[1:])


class SweepkitMethod:
    """A sweepkit sweep driven one run at a time through the search method the service would run."""

    def __init__(self, problem: Problem, seed: int, config: dict[str, Any]):
        from sweepkit.space import SearchSpace
        from sweepkit.sweep_config import load_config

        self.config = load_config({"metrics": _metrics(problem), "parameters": problem.parameters, **config})
        self.space = SearchSpace.from_config(self.config)
        self.rng = random.Random(seed)
        self.runs: list[RunView] = []

    def ask(self) -> dict[str, Any]:
        from sweepkit.search import next_run

        return next_run(self.config, self.space, self.runs, self.rng).params

    def tell(self, params: dict[str, Any], values: list[float]) -> None:
        self.runs.append(RunView(str(len(self.runs)), RunState.FINISHED, params, _stats(values)))


def _engine(sampler: str) -> Callable[[Problem, int], SweepkitMethod]:
    def make(problem: Problem, seed: int) -> SweepkitMethod:
        settings = {"sampler": sampler, "seed": seed}
        return SweepkitMethod(
            problem, seed, {"method": "custom", "scheduler": {"engine": "optuna", "settings": settings}}
        )

    return make


class OptunaGP:
    """Optuna's GPSampler on its own study, the parameters suggested the usual Optuna way."""

    def __init__(self, problem: Problem, seed: int):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.problem = problem
        self.study = optuna.create_study(
            directions=["minimize"] * problem.n_objectives, sampler=optuna.samplers.GPSampler(seed=seed)
        )
        self.trial = None

    def ask(self) -> dict[str, Any]:
        self.trial = self.study.ask()
        out = {}
        for name, spec in self.problem.parameters.items():
            if "values" in spec:
                out[name] = self.trial.suggest_categorical(name, spec["values"])
            elif isinstance(spec["min"], int) and isinstance(spec["max"], int):
                log = "log" in spec.get("distribution", "")
                out[name] = self.trial.suggest_int(name, spec["min"], spec["max"], log=log)
            else:
                log = "log" in spec.get("distribution", "")
                out[name] = self.trial.suggest_float(name, spec["min"], spec["max"], log=log)
        return out

    def tell(self, params: dict[str, Any], values: list[float]) -> None:
        self.study.tell(self.trial, values)


METHODS: dict[str, Callable[[Problem, int], Any]] = {
    SUBJECT: lambda problem, seed: SweepkitMethod(problem, seed, {"method": "bayes", "seed": seed}),
    "optuna-tpe": _engine("tpe"),
    "optuna-nsga2": _engine("nsga2"),
    "optuna-gp": OptunaGP,
    # scheduler: {engine: ax}: Ax's Client as the service runs it (the experiment rebuilt from the runs)
    "ax": lambda problem, seed: SweepkitMethod(
        problem, seed, {"method": "custom", "scheduler": {"engine": "ax", "settings": {"seed": seed}}}
    ),
    "random": lambda problem, seed: SweepkitMethod(problem, seed, {"method": "random", "seed": seed}),
}


def available(method: str) -> bool:
    import importlib.util

    if method == "optuna-gp":
        return bool(importlib.util.find_spec("optuna") and importlib.util.find_spec("torch"))
    if method.startswith("optuna"):
        return bool(importlib.util.find_spec("optuna"))
    if method == "ax":
        return bool(importlib.util.find_spec("ax"))
    return True


def run_one(problem: Problem, method: str, seed: int, budget: int) -> dict[str, Any]:
    """One run: the true objective values of every point evaluated, in order, and its time."""
    noise = random.Random(f"noise:{problem.name}:{seed}")
    searcher = METHODS[method](problem, seed)
    true_values = []
    started = time.perf_counter()
    for _ in range(budget):
        params = searcher.ask()
        observed, true = problem.evaluate(params, noise)
        searcher.tell(params, observed)
        true_values.append(true)
    return {"true": true_values, "seconds": time.perf_counter() - started}


# --- judging -------------------------------------------------------------------------------------------


def reference_front(problem: Problem, runs: list[list[list[float]]]) -> list[tuple[float, ...]]:
    if problem.front is not None:
        return problem.front()
    evaluated = [tuple(v) for run in runs for v in run]
    return non_dominated(evaluated + list(problem.extra_front))


def normalised_hv(
    points: list[list[float]], front: list[tuple[float, ...]], front_hv: float | None = None
) -> float:
    m = len(front[0])
    ideal = [min(p[i] for p in front) for i in range(m)]
    nadir = [max(p[i] for p in front) for i in range(m)]

    def scaled(p):
        return tuple(
            (p[i] - ideal[i]) / (nadir[i] - ideal[i]) if nadir[i] > ideal[i] else 0.0 for i in range(m)
        )

    reference = [REFERENCE] * m
    whole = front_hv if front_hv is not None else _front_hv(tuple(map(scaled, front)), reference)
    return hypervolume([scaled(p) for p in points], reference) / whole


_FRONT_HV: dict[tuple, float] = {}


def _front_hv(front: tuple, reference: list[float]) -> float:
    key = (len(front), front[0], front[-1])
    if key not in _FRONT_HV:
        _FRONT_HV[key] = hypervolume(list(front), reference)
    return _FRONT_HV[key]


def _mean_error(values: list[float]) -> tuple[float, float]:
    mean = statistics.fmean(values)
    error = statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0
    return mean, error


def _longer_run(
    cache: dict[str, Any], name: str, method: str, seed: int, budget: int
) -> dict[str, Any] | None:
    """A cached run of more evaluations, cut to ``budget``: every method proposes one point at a time
    and never looks at the budget, so its first ``budget`` points are those of a run of ``budget``
    (its time is not, so it is left out of the seconds)."""
    prefix = f"{name}|{method}|{seed}|"
    longer = [int(k[len(prefix) :]) for k in cache if k.startswith(prefix) and int(k[len(prefix) :]) > budget]
    if not longer:
        return None
    run = cache[f"{prefix}{min(longer)}"]
    return {"true": run["true"][:budget], "seconds": None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--cache", type=Path, help="a JSON file keeping every finished run")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 3 problems, 30 evaluations")
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    problems = QUICK if args.quick else [p.strip() for p in args.problems.split(",") if p.strip()]
    seeds = 2 if args.quick else args.seeds
    budget = 30 if args.quick else args.budget
    checkpoints = [c for c in CHECKPOINTS if c <= budget] or [budget]
    methods = [m for m in args.methods.split(",") if m and available(m)]
    skipped = [m for m in args.methods.split(",") if m and not available(m)]
    cache: dict[str, Any] = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else {}
    results: dict[str, dict[str, list[list[list[float]]]]] = {n: {m: [] for m in methods} for n in problems}
    seconds: dict[str, list[float]] = {m: [] for m in methods}
    # Seed by seed over every problem, so that an interrupted run leaves whole seeds in the cache.
    for seed in range(seeds):
        for name in problems:
            for method in methods:
                key = f"{name}|{method}|{seed}|{budget}"
                run = cache.get(key) or _longer_run(cache, name, method, seed, budget)
                if run is None:
                    run = cache[key] = run_one(PROBLEMS[name], method, seed, budget)
                    if args.cache:
                        args.cache.write_text(json.dumps(cache))
                    took = run["seconds"]
                    print(f"  {name} {method} seed {seed}: {took:.1f} s", file=sys.stderr, flush=True)
                results[name][method].append(run["true"][:budget])
                if run["seconds"] is not None:
                    seconds[method].append(run["seconds"])
    print_table(problems, methods, results, checkpoints, seeds, budget)
    print()
    print(
        "mean seconds per run (search and evaluation): "
        + ", ".join(f"{m} {statistics.fmean(s):.1f}" for m, s in seconds.items() if s)
    )
    if skipped:
        print(f"skipped (not installed): {', '.join(skipped)}")
    return 0


def print_table(problems, methods, results, checkpoints, seeds, budget) -> None:
    print(
        f"Normalised hypervolume (1.0 = the reference front; reference point {REFERENCE} in objectives scaled "
        f"to [0, 1] by the front's ideal and nadir), mean ± standard error over {seeds} seeds, {budget} evaluations"
    )
    fronts: dict[str, list[tuple[float, ...]]] = {}
    for at in checkpoints:
        print()
        print(f"after {at} evaluations")
        header = ["problem", *methods]
        rows = []
        means: dict[str, list[float]] = {m: [] for m in methods}
        beats_random = 0
        for name in problems:
            problem = PROBLEMS[name]
            front = fronts.setdefault(
                name, reference_front(problem, [r for m in methods for r in results[name][m]])
            )
            cells = [name + (" (held out)" if problem.held_out else "")]
            per = {}
            for m in methods:
                hv = [normalised_hv(run[:at], front, problem.front_hv) for run in results[name][m]]
                mean, error = _mean_error(hv)
                per[m] = mean
                means[m].append(mean)
                cells.append(f"{mean:.3f} ± {error:.3f}")
            best = max(per.values())
            cells = [c + (" *" if i and per[methods[i - 1]] == best else "") for i, c in enumerate(cells)]
            if SUBJECT in per and "random" in per and per[SUBJECT] > per["random"]:
                beats_random += 1
            rows.append(cells)
        rows.append(["mean", *(f"{statistics.fmean(means[m]):.3f}" for m in methods)])
        widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, ["-" * w for w in widths], *rows]:
            print("  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)))
        if SUBJECT in methods and "random" in methods:
            print(
                f"{SUBJECT} above random on {beats_random} of {len(problems)} problems (* marks each row's best)"
            )


if __name__ == "__main__":
    sys.exit(main())
