"""Search quality and speed of sweepkit's bayes against random, W&B's `sweeps` bayes and Optuna (TPE, GP).

One command, one table:

    python benchmarks/search_quality.py --jobs 2        # everything: 20 seeds (about 30 minutes on 2 cores)
    python benchmarks/search_quality.py --quick         # a smoke run: 2 seeds, 3 problems, 20 evaluations
    python benchmarks/search_quality.py --methods sweepkit-bayes,random --problems branin,hartmann6

Every method gets the same problems, seeds and evaluation budget. A problem is a W&B sweep
`parameters` section plus an objective; all objectives are deterministic. Regret after the budget is
normalised per problem: 0 is the optimum (the known one for synthetic functions, the best value
ever seen by any method or random draw for the real tuning tasks), 1 is the median value of random
draws (estimated from many draws). Each cell is the mean over seeds with its standard error, and a
last verdict says on which problems sweepkit's bayes beats random by more than twice the standard
error of the difference, where the two are within that noise, and where random is ahead.
Latency is the median wall time of one suggestion given n finished runs (synthetic random runs of
the `levy-mixed` problem).

Third-party methods need `pip install --no-deps sweeps==0.3.0 jsonref` (plus pydantic), and
`pip install optuna torch` (the CPU wheel; Optuna's GPSampler needs torch). Missing ones are skipped.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, sklearn, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import numpy as np  # noqa: E402

from sweepkit.runs import MetricStats, RunState, RunView  # noqa: E402
from sweepkit.space import SearchSpace  # noqa: E402

METRIC = "loss"


# --- problems ---------------------------------------------------------------------------------


@dataclass
class Problem:
    name: str
    parameters: dict[str, Any]  # W&B parameters section, every leaf with its `distribution`
    objective: Callable[[dict[str, Any]], float]  # flat dotted names -> value
    goal: str = "minimize"
    optimum: float | None = None  # None: the best value ever seen
    real: bool = False
    cache: dict[str, float] = field(default_factory=dict)

    def __call__(self, params: dict[str, Any]) -> float:
        key = json.dumps(params, sort_keys=True, default=repr)
        if key not in self.cache:
            self.cache[key] = float(self.objective(params))
        return self.cache[key]

    @property
    def sign(self) -> float:
        return 1.0 if self.goal == "minimize" else -1.0


def u(lo: float, hi: float) -> dict[str, Any]:
    return {"distribution": "uniform", "min": float(lo), "max": float(hi)}


def logu(lo: float, hi: float) -> dict[str, Any]:
    return {"distribution": "log_uniform_values", "min": float(lo), "max": float(hi)}


def iu(lo: int, hi: int) -> dict[str, Any]:
    return {"distribution": "int_uniform", "min": int(lo), "max": int(hi)}


def qu(lo: float, hi: float, q: float) -> dict[str, Any]:
    return {"distribution": "q_uniform", "min": lo, "max": hi, "q": q}


def cat(values: list[Any], probabilities: list[float] | None = None) -> dict[str, Any]:
    if probabilities is None:
        return {"distribution": "categorical", "values": values}
    return {"distribution": "categorical_w_probabilities", "values": values, "probabilities": probabilities}


def const(value: Any) -> dict[str, Any]:
    return {"distribution": "constant", "value": value}


def branin(p: dict[str, Any]) -> float:
    x, y = p["x"], p["y"]
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (y - b * x * x + c * x - 6) ** 2 + 10 * (1 - t) * math.cos(x) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(p: dict[str, Any]) -> float:
    x = np.array([p[f"x{i}"] for i in range(1, 7)])
    return float(-(_H6_ALPHA * np.exp(-(_H6_A * (x - _H6_P) ** 2).sum(axis=1))).sum())


def rosenbrock_mixed(p: dict[str, Any]) -> float:
    # x1 continuous, x2 = log10(scale) continuous on a log prior, x3 quantised, x4 integer; optimum all ones.
    x = [p["x1"], math.log10(p["scale"]), p["x3"], p["x4"] / 2.0]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def levy_mixed(p: dict[str, Any]) -> float:
    # Levy on [-10, 10]^6 (optimum 0 at all ones): two continuous, one int, one quantised, one log,
    # one categorical over a few fixed positions; plus an irrelevant categorical and a constant.
    x = np.array([p["a"], p["b"], p["c"], p["d"], math.log2(p["e"]) - 4.0, p["f"]], dtype=float)
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def branches(p: dict[str, Any]) -> float:
    # A categorical choice of model, each with its own response to shared parameters; the best branch
    # is the least likely one under the prior. Nested group, falsy values, a constant.
    model, lr, width = p["model"], p["opt.lr"], p["opt.width"]
    z = math.log10(lr)
    if model == "linear":
        base = 0.45 + 0.08 * (z + 2.5) ** 2 + 0.0004 * (width - 40) ** 2
    elif model == "tree":
        base = 0.35 + 0.05 * (z + 1.0) ** 2 + 0.002 * abs(width - 90)
    else:  # "net"
        base = 0.10 + 0.12 * (z + 3.5) ** 2 + 0.0001 * (width - 64) ** 2
    base += {0: 0.05, 1: 0.0, 2: 0.02}[p["depth"]]
    base += 0.0 if p["norm"] is False else 0.03
    base += 0.0 if p["tag"] == "" else 0.01
    return base


def synthetic_problems() -> list[Problem]:
    return [
        Problem("branin", {"x": u(-5, 10), "y": u(0, 15)}, branin, optimum=0.397887357729739),
        Problem("hartmann6", {f"x{i}": u(0, 1) for i in range(1, 7)}, hartmann6, optimum=-3.322368011391339),
        Problem(
            "rosenbrock-mixed",
            {"x1": u(-2, 2), "scale": logu(0.01, 100), "x3": qu(-2, 2, 0.25), "x4": iu(-4, 4)},
            rosenbrock_mixed,
            optimum=0.0,
        ),
        Problem(
            "levy-mixed",
            {
                "a": u(-10, 10),
                "b": u(-10, 10),
                "c": iu(-10, 10),
                "d": qu(-10, 10, 0.5),
                "e": logu(2**-6, 2**14),
                "f": cat([-7.0, -3.0, 1.0, 5.0, 9.0]),
                "noise_dim": cat(["x", "y", "z"]),
                "seed_const": const(7),
            },
            levy_mixed,
            optimum=0.0,
        ),
        Problem(
            "branches",
            {
                "model": cat(["linear", "tree", "net"], [0.5, 0.35, 0.15]),
                "opt": {"parameters": {"lr": logu(1e-5, 1.0), "width": iu(8, 128)}},
                "depth": cat([0, 1, 2]),
                "norm": cat([False, True]),
                "tag": cat(["", "v2"]),
                "epochs": const(0),
            },
            branches,
            optimum=0.10,
        ),
    ]


def _quiet() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")


def real_problems() -> list[Problem]:
    """Three small scikit-learn tuning tasks, each a 3-fold CV loss to minimise (fixed seeds: deterministic).

    Losses rather than accuracies: accuracy on these small data sets saturates (dozens of settings
    tie at the top), which would make every method look perfect.
    """
    from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    _quiet()
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    xd, yd = load_diabetes(return_X_y=True)
    xd = StandardScaler().fit_transform(xd)
    yd = (yd - yd.mean()) / yd.std()
    xb, yb = load_breast_cancer(return_X_y=True)
    xw, yw = load_wine(return_X_y=True)

    folds = list(KFold(3, shuffle=True, random_state=0).split(xd))

    def kernel_ridge(p: dict[str, Any]) -> float:
        # sklearn's KernelRidge, written out in numpy (same model; sklearn's per-call overhead
        # dominated the benchmark's run time)
        errors = []
        for train, test in folds:
            a, b = xd[train], xd[test]
            if p["kernel"] == "rbf":
                k_aa = np.exp(-p["gamma"] * ((a[:, None] - a[None]) ** 2).sum(-1))
                k_ba = np.exp(-p["gamma"] * ((b[:, None] - a[None]) ** 2).sum(-1))
            elif p["kernel"] == "laplacian":
                k_aa = np.exp(-p["gamma"] * np.abs(a[:, None] - a[None]).sum(-1))
                k_ba = np.exp(-p["gamma"] * np.abs(b[:, None] - a[None]).sum(-1))
            else:
                k_aa = (p["gamma"] * a @ a.T + p["coef0"]) ** p["degree"]
                k_ba = (p["gamma"] * b @ a.T + p["coef0"]) ** p["degree"]
            try:
                dual = np.linalg.solve(k_aa + p["alpha"] * np.eye(len(a)), yd[train])
            except np.linalg.LinAlgError:
                return 1e3
            errors.append(float(np.mean((k_ba @ dual - yd[test]) ** 2)))
        value = float(np.mean(errors))
        return min(value, 1e3) if math.isfinite(value) else 1e3

    def forest(p: dict[str, Any]) -> float:
        model = RandomForestClassifier(
            n_estimators=p["n_estimators"],
            max_depth=p["max_depth"],
            min_samples_leaf=p["min_samples_leaf"],
            max_features=p["max_features"],
            criterion=p["criterion"],
            bootstrap=p["bootstrap"],
            random_state=0,
            n_jobs=1,
        )
        return float(-cross_val_score(model, xb, yb, cv=cv, scoring="neg_log_loss").mean())

    def mlp(p: dict[str, Any]) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = make_pipeline(
                StandardScaler(),
                MLPClassifier(
                    tuple(p["hidden"]),
                    activation=p["activation"],
                    alpha=p["optimizer.alpha"],
                    learning_rate_init=p["optimizer.learning_rate_init"],
                    batch_size=p["batch_size"],
                    max_iter=25,
                    random_state=0,
                ),
            )
            return float(-cross_val_score(model, xw, yw, cv=cv, scoring="neg_log_loss").mean())

    return [
        Problem(
            "kridge-diabetes",
            {
                "alpha": logu(1e-6, 10.0),
                "gamma": logu(1e-4, 10.0),
                "kernel": cat(["rbf", "laplacian", "poly"]),
                "degree": iu(2, 5),
                "coef0": u(0.0, 5.0),
            },
            kernel_ridge,
            real=True,
        ),
        Problem(
            "forest-cancer",
            {
                "n_estimators": iu(2, 16),
                "max_depth": iu(1, 12),
                "min_samples_leaf": iu(1, 40),
                "max_features": u(0.02, 1.0),
                "criterion": cat(["gini", "entropy"]),
                "bootstrap": cat([True, False]),
            },
            forest,
            real=True,
        ),
        Problem(
            "mlp-wine",
            {
                "hidden": cat([[4], [16], [64], [32, 16]]),
                "activation": cat(["relu", "tanh", "logistic"]),
                "optimizer": {
                    "parameters": {"alpha": logu(1e-6, 10.0), "learning_rate_init": logu(1e-5, 1.0)}
                },
                "batch_size": qu(16, 128, 16),
            },
            mlp,
            real=True,
        ),
    ]


# --- methods ----------------------------------------------------------------------------------


class _Metric:
    def __init__(self, goal: str):
        self.name, self.goal, self.impute, self.target = METRIC, goal, "worst", None
        self.sign = 1 if goal == "minimize" else -1


class _Config:
    """A stand-in for SweepConfig, used when sweepkit.sweep_config is not importable."""

    def __init__(self, problem: Problem):
        self.method = "bayes"
        self.parameters = problem.parameters
        self.metric = _Metric(problem.goal)


def _sweepkit_config(problem: Problem, method: str) -> Any:
    data = {
        "method": method,
        "metric": {"name": METRIC, "goal": problem.goal},
        "parameters": problem.parameters,
    }
    try:
        from sweepkit.sweep_config import load_config
    except ImportError:
        cfg = _Config(problem)
        cfg.method = method
        return cfg
    return load_config(data)


class Method:
    """Ask for a point, tell its value; one instance per (problem, seed)."""

    def __init__(self, problem: Problem, seed: int):
        self.problem, self.seed = problem, seed

    def ask(self) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, params: dict[str, Any], value: float) -> None:
        raise NotImplementedError


class SweepkitMethod(Method):
    method = "bayes"

    def __init__(self, problem: Problem, seed: int):
        super().__init__(problem, seed)
        from sweepkit.search import next_run as suggest

        self._suggest = suggest
        self.cfg = _sweepkit_config(problem, self.method)
        self.space = SearchSpace.from_parameters(self.cfg.parameters)
        self.runs: list[RunView] = []

    def ask(self) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{len(self.runs)}")
        return dict(self._suggest(self.cfg, self.space, self.runs, rng).params)

    def tell(self, params: dict[str, Any], value: float) -> None:
        self.runs.append(
            RunView(str(len(self.runs)), RunState.FINISHED, params, MetricStats.from_values([value]))
        )


class SweepkitRandom(SweepkitMethod):
    method = "random"


def _group_names(parameters: dict[str, Any], prefix: str = "") -> dict[str, dict]:
    out = {}
    for k, v in parameters.items():
        if "parameters" in v and "distribution" not in v:
            out[prefix + k] = v["parameters"]
            out.update(_group_names(v["parameters"], prefix + k + "."))
    return out


def _without_probabilities(parameters: dict[str, Any]) -> dict[str, Any]:
    """W&B's bayes crashes on categorical_w_probabilities (float indexes into its CDF): plain categorical."""
    out = {}
    for k, v in parameters.items():
        if "parameters" in v and "distribution" not in v:
            out[k] = {"parameters": _without_probabilities(v["parameters"])}
        elif v.get("distribution") == "categorical_w_probabilities":
            out[k] = {"distribution": "categorical", "values": v["values"]}
        else:
            out[k] = v
    return out


class WandbBayes(Method):
    def __init__(self, problem: Problem, seed: int):
        super().__init__(problem, seed)
        _quiet()
        import logging

        logging.getLogger().setLevel(logging.ERROR)
        import sweeps

        self.sweeps = sweeps
        self.config = {
            "method": "bayes",
            "metric": {"name": METRIC, "goal": problem.goal},
            "parameters": _without_probabilities(problem.parameters),
        }
        self.runs: list[Any] = []
        self.groups = _group_names(problem.parameters)

    def _flatten(self, value: Any, prefix: str, out: dict[str, Any]) -> None:
        if prefix in self.groups and isinstance(value, dict):
            for k, v in value.items():
                self._flatten(v, f"{prefix}.{k}", out)
        else:
            out[prefix] = value

    def ask(self) -> dict[str, Any]:
        np.random.seed(
            (self.seed * 1_000_003 + len(self.runs)) % 2**32
        )  # sweeps draws from numpy's global RNG
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            run = self.sweeps.next_run(self.config, self.runs)
        self._last = run.config
        out: dict[str, Any] = {}
        for k, v in run.config.items():
            self._flatten(v["value"], k, out)
        return out

    def tell(self, params: dict[str, Any], value: float) -> None:
        self.runs.append(
            self.sweeps.SweepRun(
                name=str(len(self.runs)),
                state="finished",
                config=self._last,
                history=[{METRIC: value}],
                summary_metrics={METRIC: value},
            )
        )


class OptunaMethod(Method):
    sampler_name = "tpe"

    def __init__(self, problem: Problem, seed: int):
        super().__init__(problem, seed)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        _quiet()
        self.optuna = optuna
        d = optuna.distributions
        self.space = SearchSpace.from_parameters(_sweepkit_config(problem, "random").parameters)
        self.dists: dict[str, Any] = {}
        self.constants: dict[str, Any] = {}
        self.choices: dict[str, list[Any]] = {}
        for p in self.space.params:
            spec = p.spec
            if p.is_constant:
                self.constants[p.name] = p.values[0]
            elif p.is_categorical:
                self.choices[p.name] = p.values
                self.dists[p.name] = d.CategoricalDistribution(list(range(len(p.values))))
            elif p.kind == "int_uniform":
                self.dists[p.name] = d.IntDistribution(spec["min"], spec["max"])
            elif p.kind == "uniform":
                self.dists[p.name] = d.FloatDistribution(spec["min"], spec["max"])
            elif p.kind == "log_uniform_values":
                self.dists[p.name] = d.FloatDistribution(spec["min"], spec["max"], log=True)
            elif p.kind == "q_uniform":
                self.dists[p.name] = d.FloatDistribution(spec["min"], spec["max"], step=spec["q"])
            else:
                raise ValueError(f"no Optuna distribution for {p.kind}")
        sampler = self.make_sampler(seed)
        self.study = optuna.create_study(sampler=sampler, direction="minimize")

    def make_sampler(self, seed: int) -> Any:
        return self.optuna.samplers.TPESampler(seed=seed)

    def _decode(self, raw: dict[str, Any]) -> dict[str, Any]:
        out = dict(self.constants)
        for name, v in raw.items():
            if name in self.choices:
                out[name] = self.choices[name][v]
            elif self.space.param(name).is_integer:
                out[name] = int(round(v))
            else:
                out[name] = float(v)
        return out

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trial = self.study.ask(self.dists)
        return self._decode(self.trial.params)

    def tell(self, params: dict[str, Any], value: float) -> None:
        self.study.tell(self.trial, self.problem.sign * value)

    def add_finished(self, params_raw: dict[str, Any], value: float) -> None:
        trial = self.optuna.trial.create_trial(params=params_raw, distributions=self.dists, value=value)
        self.study.add_trial(trial)

    def encode(self, params: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for name in self.dists:
            v = params[name]
            out[name] = self.space.param(name).index_of(v) if name in self.choices else v
        return out


class OptunaGP(OptunaMethod):
    def make_sampler(self, seed: int) -> Any:
        return self.optuna.samplers.GPSampler(seed=seed)


METHODS: dict[str, type[Method]] = {
    "sweepkit-bayes": SweepkitMethod,
    "random": SweepkitRandom,
    "wandb-bayes": WandbBayes,
    "optuna-tpe": OptunaMethod,
    "optuna-gp": OptunaGP,
}


def available(name: str) -> bool:
    try:
        if name == "wandb-bayes":
            import sweeps  # noqa: F401
        elif name == "optuna-tpe":
            import optuna  # noqa: F401
        elif name == "optuna-gp":
            import optuna  # noqa: F401
            import torch  # noqa: F401
    except ImportError:
        return False
    return True


# --- running ----------------------------------------------------------------------------------


def run_one(problem: Problem, method: str, seed: int, budget: int) -> tuple[list[float], list[float]]:
    """Values (signed: lower is better) in evaluation order, and seconds per suggestion."""
    m = METHODS[method](problem, seed)
    values, times = [], []
    for _ in range(budget):
        t = time.perf_counter()
        params = m.ask()
        times.append(time.perf_counter() - t)
        v = problem(params)
        m.tell(params, v)
        values.append(problem.sign * v)
    return values, times


_PROBLEMS: dict[str, Problem] = {}


def _run_by_name(name: str, method: str, seed: int, budget: int) -> tuple[list[float], list[float]]:
    """run_one in a worker process: problems are rebuilt there (their objectives hold closures)."""
    if not _PROBLEMS:
        _quiet()
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1, user_api="blas")
        except ImportError:
            pass
        _PROBLEMS.update({p.name: p for p in synthetic_problems()})
        if any(name == p for p in ("kridge-diabetes", "forest-cancer", "mlp-wine")):
            _PROBLEMS.update({p.name: p for p in real_problems()})
    if name not in _PROBLEMS:
        _PROBLEMS.update({p.name: p for p in real_problems()})
    return run_one(_PROBLEMS[name], method, seed, budget)


def random_reference(problem: Problem, n: int, seed: int = 12345) -> list[float]:
    space = SearchSpace.from_parameters(_sweepkit_config(problem, "random").parameters)
    rng = random.Random(seed)
    return [problem.sign * problem(space.draw(rng)) for _ in range(n)]


def latency(method: str, sizes: list[int], repeats: int) -> dict[int, float]:
    """Median seconds per suggestion with about n finished runs, as in a live sweep.

    The runs are random points of `levy-mixed` (7 parameters of mixed kinds). For each n the method
    first sees n - repeats runs (one untimed suggestion, as a sweep would have made), then one more
    finished run before each of `repeats` timed suggestions, the last one with exactly n runs.
    """
    problem = next(p for p in synthetic_problems() if p.name == "levy-mixed")
    space = SearchSpace.from_parameters(_sweepkit_config(problem, "random").parameters)
    out = {}
    for n in sizes:
        rng = random.Random(n)
        points = [space.draw(rng) for _ in range(n)]
        values = [problem(p) for p in points]
        m = METHODS[method](problem, seed=n)
        start = max(0, n - repeats)
        times = []
        for count in range(start, n + 1):
            _feed(m, points[:count], values[:count])
            t = time.perf_counter()
            m.ask()
            if count > start or start == n:
                times.append(time.perf_counter() - t)
        out[n] = statistics.median(times)
    return out


def _feed(m: Method, points: list[dict[str, Any]], values: list[float]) -> None:
    """Make ``m`` hold exactly these finished runs (appending what it lacks)."""
    if isinstance(m, SweepkitMethod):
        for i in range(len(m.runs), len(points)):
            m.runs.append(RunView(str(i), RunState.FINISHED, points[i], MetricStats.from_values([values[i]])))
    elif isinstance(m, WandbBayes):
        for i in range(len(m.runs), len(points)):
            m.runs.append(
                m.sweeps.SweepRun(
                    name=str(i),
                    state="finished",
                    config={k: {"value": v} for k, v in points[i].items()},
                    history=[{METRIC: values[i]}],
                    summary_metrics={METRIC: values[i]},
                )
            )
    elif isinstance(m, OptunaMethod):
        done = len(m.study.get_trials(deepcopy=False, states=(m.optuna.trial.TrialState.COMPLETE,)))
        for i in range(done, len(points)):
            m.add_finished(m.encode(points[i]), values[i])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated: " + ", ".join(METHODS))
    ap.add_argument("--problems", default="", help="comma-separated problem names (default: all)")
    ap.add_argument(
        "--seeds",
        type=int,
        default=20,
        help="seeds per (problem, method); fewer cannot separate the methods on the real tasks",
    )
    ap.add_argument(
        "--jobs", type=int, default=1, help="worker processes for the runs (2 on a 2-core machine)"
    )
    ap.add_argument("--budget", type=int, default=50, help="evaluations per run")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 3 problems, 20 evaluations, small latency")
    ap.add_argument("--latency-sizes", default="10,100,300,1000")
    ap.add_argument("--latency-repeats", type=int, default=5)
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--json", default="", help="also write raw results to this file")
    ap.add_argument(
        "--cache",
        default="",
        help="JSON file keeping the runs of the methods not named in --refresh (and random references) "
        "between invocations, to iterate on one method without rerunning the others",
    )
    ap.add_argument("--refresh", default="sweepkit-bayes,random", help="methods never taken from --cache")
    args = ap.parse_args(argv)
    _quiet()
    try:  # one BLAS thread for everyone: small matrices, and OpenBLAS's spinning threads hurt on 2 cores
        from threadpoolctl import threadpool_limits

        threadpool_limits(1, user_api="blas")
    except ImportError:
        pass

    methods = [m for m in args.methods.split(",") if m]
    for m in methods:
        if m not in METHODS:
            ap.error(f"--methods: unknown method {m!r} (known: {', '.join(METHODS)})")
    skipped = [m for m in methods if not available(m)]
    methods = [m for m in methods if m not in skipped]
    problems = synthetic_problems() + real_problems()
    seeds, budget, sizes = args.seeds, args.budget, [int(s) for s in args.latency_sizes.split(",") if s]
    if args.quick:
        problems = [p for p in problems if p.name in ("branin", "branches", "kridge-diabetes")]
        seeds, budget, sizes = 2, 20, [10, 100]
        args.latency_repeats = 3
    if args.problems:
        wanted = args.problems.split(",")
        problems = [p for p in problems if p.name in wanted]

    print(f"# search quality: {len(problems)} problems, {seeds} seeds, {budget} evaluations", flush=True)
    if skipped:
        print(f"# skipped (not installed): {', '.join(skipped)}", flush=True)
    raw: dict[str, Any] = {"problems": {}, "latency": {}}
    cache: dict[str, Any] = {}
    if args.cache and Path(args.cache).exists():
        cache = json.loads(Path(args.cache).read_text())
    refresh = set(args.refresh.split(","))

    # Run everything not in the cache, in --jobs worker processes (one (problem, method, seed) each).
    todo = [
        (problem.name, m, seed)
        for problem in problems
        for m in methods
        for seed in range(seeds)
        if m in refresh or f"{problem.name}|{m}|{seed}|{budget}" not in cache
    ]
    if args.jobs > 1 and todo:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            done = pool.starmap(_run_by_name, [(name, m, seed, budget) for name, m, seed in todo])
        for (name, m, seed), result in zip(todo, done, strict=True):
            cache[f"{name}|{m}|{seed}|{budget}"] = result
        refresh = set()

    def cached_run(problem: Problem, m: str, seed: int) -> tuple[list[float], list[float]]:
        key = f"{problem.name}|{m}|{seed}|{budget}"
        if m in refresh or key not in cache:
            cache[key] = run_one(problem, m, seed, budget)
        return cache[key]

    regrets: dict[str, dict[str, list[float]]] = {}
    seconds: dict[str, list[float]] = {m: [] for m in methods}
    for problem in problems:
        t0 = time.perf_counter()
        ref_key = f"{problem.name}|reference"
        if ref_key not in cache:
            cache[ref_key] = random_reference(problem, 300 if problem.real else 2000)
        ref = cache[ref_key]
        results = {m: [cached_run(problem, m, seed) for seed in range(seeds)] for m in methods}
        if args.cache:
            Path(args.cache).write_text(json.dumps(cache))
        best_seen = min(min(ref), *(min(v) for runs in results.values() for v, _ in runs))
        opt = problem.sign * problem.optimum if problem.optimum is not None else best_seen
        median = statistics.median(ref)
        scale = median - opt if median > opt else 1.0
        regrets[problem.name] = {}
        for m, runs in results.items():
            regrets[problem.name][m] = [max(0.0, (min(v) - opt) / scale) for v, _ in runs]
            seconds[m].extend(t for _, ts in runs for t in ts)
        raw["problems"][problem.name] = {
            "optimum": opt,
            "random_median": median,
            "values": {m: [v for v, _ in runs] for m, runs in results.items()},
        }
        row = "  ".join(f"{m}={statistics.mean(r):.3f}" for m, r in regrets[problem.name].items())
        print(f"# {problem.name} ({time.perf_counter() - t0:.0f}s): {row}", flush=True)

    if regrets:
        print()
        print_quality_table(regrets, methods)
        print()
        print_against_random(regrets)
        print()
        print(
            "mean seconds per suggestion during the runs: "
            + ", ".join(f"{m} {statistics.mean(s) * 1000:.0f} ms" for m, s in seconds.items() if s)
        )
    if not args.no_latency and sizes:
        print()
        lat = {m: latency(m, sizes, args.latency_repeats) for m in methods}
        raw["latency"] = {m: {str(k): v for k, v in d.items()} for m, d in lat.items()}
        print_latency_table(lat, sizes)
    if args.json:
        Path(args.json).write_text(json.dumps({"regrets": regrets, **raw}, indent=1))
    return 0


def _standard_error(values: list[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def print_quality_table(regrets: dict[str, dict[str, list[float]]], methods: list[str]) -> None:
    width = max([14] + [len(p) for p in regrets])
    cell = 19
    print(
        "Normalised regret after the budget (mean over seeds +- standard error; "
        "0 = optimum, 1 = median random draw)"
    )
    print(f"| {'problem':<{width}} | " + " | ".join(f"{m:>{cell}}" for m in methods) + " |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (cell + 1) + ":" for _ in methods) + "|")
    means = {m: [] for m in methods}
    ranks = {m: [] for m in methods}
    for name, by_method in regrets.items():
        row = {m: statistics.mean(by_method[m]) for m in methods}
        order = sorted(methods, key=lambda m: row[m])
        for m in methods:
            means[m].append(row[m])
            # average rank with ties sharing their mean position
            tied = [i for i, o in enumerate(order) if abs(row[o] - row[m]) < 1e-12]
            ranks[m].append(1 + statistics.mean(tied))
        best = min(row.values())
        cells = []
        for m in methods:
            text = f"{row[m]:.3f} +- {_standard_error(by_method[m]):.3f}"
            cells.append(f"**{text}**" if row[m] == best else text)
        print(f"| {name:<{width}} | " + " | ".join(f"{c:>{cell}}" for c in cells) + " |")
    mean_row = {m: statistics.mean(v) for m, v in means.items()}
    rank_row = {m: statistics.mean(v) for m, v in ranks.items()}
    print(f"| {'**mean**':<{width}} | " + " | ".join(f"{mean_row[m]:>{cell}.3f}" for m in methods) + " |")
    print(f"| {'**avg rank**':<{width}} | " + " | ".join(f"{rank_row[m]:>{cell}.2f}" for m in methods) + " |")


def print_against_random(regrets: dict[str, dict[str, list[float]]], method: str = "sweepkit-bayes") -> None:
    """Per problem: is ``method`` better than random, worse, or apart by less than the seeds' noise?

    "Within noise" means the two means differ by less than twice the standard error of their
    difference (about a 95% interval).
    """
    if not regrets or any(method not in r or "random" not in r for r in regrets.values()):
        return
    verdicts: dict[str, list[str]] = {"better": [], "within noise": [], "worse": []}
    for name, by_method in regrets.items():
        a, b = by_method[method], by_method["random"]
        diff = statistics.mean(a) - statistics.mean(b)
        noise = 2.0 * math.hypot(_standard_error(a), _standard_error(b))
        if abs(diff) <= noise:
            kind = "within noise"
        else:
            kind = "better" if diff < 0 else "worse"
        verdicts[kind].append(f"{name} ({diff:+.3f})")
    print(f"{method} against random (difference of mean regret; noise = 2 standard errors):")
    for kind, names in verdicts.items():
        print(f"  {kind}: {len(names)}" + (f" - {', '.join(names)}" if names else ""))


def print_latency_table(lat: dict[str, dict[int, float]], sizes: list[int]) -> None:
    print("Median milliseconds per suggestion with n finished runs")
    print("| method         | " + " | ".join(f"n={n:>5}" for n in sizes) + " |")
    print("|----------------|" + "|".join("-" * 8 + ":" for _ in sizes) + "|")
    for m, d in lat.items():
        print(f"| {m:<14} | " + " | ".join(f"{d[n] * 1000:>8.1f}" for n in sizes) + " |")


if __name__ == "__main__":
    sys.exit(main())
