"""Search quality on conditional spaces (``when:``): sweepkit's bayes against random, Optuna and Hyperopt.

One command, one table:

    nice -n 10 python benchmarks/conditional.py --seeds 10            # every problem, 100 evaluations
    python benchmarks/conditional.py --seeds 2 --budget 50 --methods sweepkit-bayes,random

Six problems, each a tree of parameters that exist only on some branches. Four synthetic ones with
known optima (``optimizer-tree``, ``net-depth``, ``function-switch`` and, held out, ``deep-tree``) and
model selection with scikit-learn (choose among logistic regression, an SVM, k nearest neighbours
and a decision tree, each with its own hyperparameters; 3-fold cross-validated error) on the wine
data and, held out, the breast-cancer data. "Held out" problems were not looked at while choosing
how bayes handles conditions.

Every method sees the same space: sweepkit's methods read it as the sweep config below; Optuna's
samplers (TPE, and GP when torch is installed) get it define-by-run, asking only for the
parameters the values so far make active (the same walk, parents first); Hyperopt (when installed)
gets it as nested ``hp.choice``. Each run is judged after 50 and 100 evaluations by the true value
of its best point. Regret is normalised per problem: 0 is the optimum (known for the synthetic
problems; for model selection the best value any method found), 1 the median of random draws.
Cells are means over seeds with their standard errors.
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
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sweepkit.runs import MetricStats, RunState, RunView  # noqa: E402
from sweepkit.space import SearchSpace  # noqa: E402
from sweepkit.sweep_config import load_config  # noqa: E402

CHECKPOINTS = (50, 100)

# --- the problems -----------------------------------------------------------------------------------


def _bowl(*pairs: tuple[float, float]) -> float:
    return sum((x - c) ** 2 for x, c in pairs)


def optimizer_tree(p: dict[str, Any]) -> float:
    """Three optimisers, each with its own settings; the best is adam near lr 3e-3, beta1 0.9."""
    opt = p["optimizer"]
    if opt == "sgd":
        return 0.3 + _bowl((math.log10(p["sgd_lr"]), -1.0), (p["momentum"], 0.9))
    if opt == "adam":
        return _bowl((math.log10(p["adam_lr"]), -2.5), (p["beta1"] * 4, 0.9 * 4))
    return 0.2 + _bowl((math.log10(p["rms_lr"]), -3.0), (p["rho"], 0.5))


OPTIMIZER_TREE = {
    "optimizer": {"values": ["sgd", "adam", "rmsprop"]},
    "sgd_lr": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0, "when": {"optimizer": "sgd"}},
    "momentum": {"min": 0.0, "max": 0.99, "when": {"optimizer": "sgd"}},
    "adam_lr": {
        "distribution": "log_uniform_values",
        "min": 1e-5,
        "max": 1e-1,
        "when": {"optimizer": "adam"},
    },
    "beta1": {"min": 0.5, "max": 0.999, "when": {"optimizer": "adam"}},
    "rms_lr": {
        "distribution": "log_uniform_values",
        "min": 1e-5,
        "max": 1e-1,
        "when": {"optimizer": "rmsprop"},
    },
    "rho": {"min": 0.0, "max": 1.0, "when": {"optimizer": "rmsprop"}},
}


def net_depth(p: dict[str, Any]) -> float:
    """Layers 1-3, each with a width that exists only when the net is that deep; best: 2 layers."""
    layers = p["layers"]
    targets = {1: [0.2], 2: [0.7, 0.3], 3: [0.5, 0.5, 0.5]}[layers]
    base = {1: 0.5, 2: 0.0, 3: 0.15}[layers]
    widths = [p[f"width{i}"] for i in range(1, layers + 1)]
    return (
        base
        + sum((w - t) ** 2 for w, t in zip(widths, targets, strict=True))
        + 0.5 * (p["dropout"] - 0.1) ** 2
    )


NET_DEPTH = {
    "layers": {"values": [1, 2, 3]},
    "width1": {"min": 0.0, "max": 1.0},
    "width2": {"min": 0.0, "max": 1.0, "when": {"layers": [2, 3]}},
    "width3": {"min": 0.0, "max": 1.0, "when": {"layers": 3}},
    "dropout": {"min": 0.0, "max": 0.5},
}


def _branin(x: float, y: float) -> float:
    a, b, c, r, s, t = 1.0, 5.1 / (4 * math.pi**2), 5 / math.pi, 6.0, 10.0, 1 / (8 * math.pi)
    return a * (y - b * x * x + c * x - r) ** 2 + s * (1 - t) * math.cos(x) + s


def _camel(x: float, y: float) -> float:
    return (4 - 2.1 * x * x + x**4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y


def function_switch(p: dict[str, Any]) -> float:
    """Branin (best 0.3979), six-hump camel shifted up by 1.5 (best 0.4684) or a flat-ish sphere."""
    f = p["function"]
    if f == "branin":
        return _branin(p["branin.x"], p["branin.y"])
    if f == "camel":
        return _camel(p["camel.x"], p["camel.y"]) + 1.5
    return 1.0 + 0.1 * _bowl((p["sphere.x"], 0.3), (p["sphere.y"], -0.2))


FUNCTION_SWITCH = {
    "function": {"values": ["branin", "camel", "sphere"]},
    "branin": {
        "when": {"function": "branin"},
        "parameters": {"x": {"min": -5.0, "max": 10.0}, "y": {"min": 0.0, "max": 15.0}},
    },
    "camel": {
        "when": {"function": "camel"},
        "parameters": {"x": {"min": -3.0, "max": 3.0}, "y": {"min": -2.0, "max": 2.0}},
    },
    "sphere": {
        "when": {"function": "sphere"},
        "parameters": {"x": {"min": -1.0, "max": 1.0}, "y": {"min": -1.0, "max": 1.0}},
    },
}


def deep_tree(p: dict[str, Any]) -> float:
    """Three levels: a kind, a variant under it, a setting under the variant (best 0 in b/b2)."""
    value = 0.4 * (p["shared"] - 0.6) ** 2
    if p["kind"] == "a":
        return value + 0.25 + (p["a_x"] - 0.3) ** 2
    value += (p["b_x"] - 0.5) ** 2
    if p["variant"] == "b1":
        return value + 0.15 + (math.log10(p["b1_scale"]) + 1) ** 2 / 4
    return value + (p["b2_depth"] - 6) ** 2 / 16 + (p["b2_rate"] - 0.25) ** 2


DEEP_TREE = {
    "shared": {"min": 0.0, "max": 1.0},
    "kind": {"values": ["a", "b"]},
    "a_x": {"min": 0.0, "max": 1.0, "when": {"kind": "a"}},
    "b_x": {"min": 0.0, "max": 1.0, "when": {"kind": "b"}},
    "variant": {"values": ["b1", "b2"], "when": {"kind": "b"}},
    "b1_scale": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1.0, "when": {"variant": "b1"}},
    "b2_depth": {"min": 1, "max": 12, "when": {"variant": "b2"}},
    "b2_rate": {"min": 0.0, "max": 1.0, "when": {"variant": "b2"}},
}

MODELS = {
    "model": {"values": ["logreg", "svm", "knn", "tree"]},
    "logreg_C": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e3, "when": {"model": "logreg"}},
    "svm_C": {"distribution": "log_uniform_values", "min": 1e-3, "max": 1e3, "when": {"model": "svm"}},
    "svm_gamma": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e1, "when": {"model": "svm"}},
    "knn_k": {"min": 1, "max": 40, "when": {"model": "knn"}},
    "knn_weights": {"values": ["uniform", "distance"], "when": {"model": "knn"}},
    "tree_depth": {"min": 1, "max": 20, "when": {"model": "tree"}},
    "tree_min_leaf": {"min": 1, "max": 30, "when": {"model": "tree"}},
}

_DATA: dict[str, Any] = {}


def _data(name: str) -> Any:
    if name not in _DATA:
        from sklearn import datasets
        from sklearn.preprocessing import StandardScaler

        x, y = getattr(datasets, f"load_{name}")(return_X_y=True)
        _DATA[name] = (StandardScaler().fit_transform(x), y)
    return _DATA[name]


def model_selection(dataset: str):
    def error(p: dict[str, Any]) -> float:
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_score
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.svm import SVC
        from sklearn.tree import DecisionTreeClassifier

        x, y = _data(dataset)
        m = p["model"]
        if m == "logreg":
            est = LogisticRegression(C=p["logreg_C"], max_iter=300)
        elif m == "svm":
            est = SVC(C=p["svm_C"], gamma=p["svm_gamma"])
        elif m == "knn":
            est = KNeighborsClassifier(n_neighbors=p["knn_k"], weights=p["knn_weights"])
        else:
            est = DecisionTreeClassifier(
                max_depth=p["tree_depth"], min_samples_leaf=p["tree_min_leaf"], random_state=0
            )
        folds = StratifiedKFold(3, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return 1.0 - float(cross_val_score(est, x, y, cv=folds).mean())

    return error


#: name -> (function, parameters, known optimum or None, held out)
PROBLEMS: dict[str, tuple[Any, dict[str, Any], float | None, bool]] = {
    "optimizer-tree": (optimizer_tree, OPTIMIZER_TREE, 0.0, False),
    "net-depth": (net_depth, NET_DEPTH, 0.0, False),
    "function-switch": (function_switch, FUNCTION_SWITCH, 0.397887, False),
    "models-wine": (model_selection("wine"), MODELS, None, False),
    "deep-tree (held out)": (deep_tree, DEEP_TREE, 0.0, True),
    "models-cancer (held out)": (model_selection("breast_cancer"), MODELS, None, True),
}


def _config(parameters: dict[str, Any], method: str) -> Any:
    return load_config({"method": method, "metric": {"name": "loss"}, "parameters": parameters})


def _check_point(space: SearchSpace, point: dict[str, Any]) -> None:
    """Every method must hand out exactly the active parameters."""
    if set(point) != space.active(point):
        raise AssertionError(f"not a valid active set: {sorted(point)}")


# --- the methods --------------------------------------------------------------------------------------


class Sweepkit:
    def __init__(self, parameters: dict[str, Any], seed: int, method: str):
        from sweepkit.search import next_run

        self.next_run = next_run
        self.cfg = _config(parameters, method)
        self.space = SearchSpace.from_config(self.cfg)
        self.seed, self.runs = seed, []

    def ask(self) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{len(self.runs)}")
        return dict(self.next_run(self.cfg, self.space, self.runs, rng).params)

    def tell(self, point: dict[str, Any], value: float) -> None:
        stats = MetricStats.from_values([value])
        self.runs.append(RunView(str(len(self.runs)), RunState.FINISHED, point, stats))


class Optuna:
    """The same space define-by-run: a parameter is asked for only when its parents make it active."""

    def __init__(self, parameters: dict[str, Any], seed: int, sampler: str):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        self.space = SearchSpace.from_config(_config(parameters, "random"))
        samplers = optuna.samplers
        s = samplers.TPESampler(seed=seed) if sampler == "tpe" else samplers.GPSampler(seed=seed)
        self.study = optuna.create_study(sampler=s)

    def _suggest(self, trial: Any, p: Any) -> Any:
        spec = p.spec
        if p.is_constant:
            return p.values[0]
        if p.is_categorical:
            return p.values[trial.suggest_categorical(p.name, list(range(len(p.values))))]
        if p.kind == "int_uniform":
            return trial.suggest_int(p.name, spec["min"], spec["max"])
        return trial.suggest_float(p.name, spec["min"], spec["max"], log=p.kind == "log_uniform_values")

    def ask(self) -> dict[str, Any]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.trial = self.study.ask()
            point: dict[str, Any] = {}
            for p in self.space.order:
                if self.space.is_active(p, point):
                    point[p.name] = self._suggest(self.trial, p)
        return point

    def tell(self, point: dict[str, Any], value: float) -> None:
        self.study.tell(self.trial, value)


class Hyperopt:
    """The same space as nested ``hp.choice``: each branch of a categorical parent holds its children."""

    def __init__(self, parameters: dict[str, Any], seed: int):
        import hyperopt
        import numpy as np

        self.hp, self.hyperopt = hyperopt.hp, hyperopt
        self.space = SearchSpace.from_config(_config(parameters, "random"))
        self.trials = hyperopt.Trials()
        self.expr = self._tree({})
        self.rstate = np.random.default_rng(seed)
        self.pending: dict[str, Any] | None = None

    def _leaf(self, p: Any, tag: str) -> Any:
        hp, spec, label = self.hp, p.spec, f"{p.name}{tag}"
        if p.is_categorical:
            return hp.choice(label, p.values)
        if p.kind == "int_uniform":
            return hp.uniformint(label, spec["min"], spec["max"])
        if p.kind == "log_uniform_values":
            return hp.loguniform(label, math.log(spec["min"]), math.log(spec["max"]))
        return hp.uniform(label, spec["min"], spec["max"])

    def _tree(self, fixed: dict[str, Any]) -> Any:
        """The parameters active under ``fixed`` (parents' values): a categorical parent of others
        becomes an ``hp.choice`` of one sub-space per value."""
        out: dict[str, Any] = {}
        for p in self.space.order:
            if p.name in fixed or not self.space.is_active(p, {**fixed, **dict.fromkeys(out)}):
                continue
            children = [q for q in self.space.params if any(c.parent == p.name for c in q.conditions)]
            if children and p.is_categorical:
                tag = "|" + ",".join(f"{k}={v}" for k, v in fixed.items())
                branches = [{p.name: v, **self._tree({**fixed, p.name: v})} for v in p.values]
                return {**out, "branch": self.hp.choice(f"{p.name}{tag}", branches)}
            out[p.name] = self._leaf(p, "|" + ",".join(f"{k}={v}" for k, v in fixed.items()))
        return out

    def _flat(self, d: dict[str, Any]) -> dict[str, Any]:
        out = {}
        for k, v in d.items():
            out.update(self._flat(v) if k == "branch" else {k: v})
        return out

    def ask(self) -> dict[str, Any]:
        hyperopt = self.hyperopt
        domain = hyperopt.base.Domain(lambda _: 0.0, self.expr)
        ids = self.trials.new_trial_ids(1)
        self.trials.refresh()
        docs = hyperopt.tpe.suggest(ids, domain, self.trials, int(self.rstate.integers(2**31 - 1)))
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()
        vals = {k: v[0] for k, v in docs[0]["misc"]["vals"].items() if v}
        found = self._flat(hyperopt.space_eval(self.expr, vals))
        return {k: (int(v) if self.space.param(k).kind == "int_uniform" else v) for k, v in found.items()}

    def tell(self, point: dict[str, Any], value: float) -> None:
        trial = self.trials.trials[-1]
        trial["result"] = {"loss": value, "status": "ok"}
        trial["state"] = self.hyperopt.JOB_STATE_DONE
        self.trials.refresh()


def _available(name: str) -> bool:
    try:
        if name.startswith("optuna"):
            import optuna  # noqa: F401

            if name == "optuna-gp":
                import torch  # noqa: F401
        if name == "hyperopt":
            import hyperopt  # noqa: F401
    except ImportError:
        return False
    return True


def make(name: str, parameters: dict[str, Any], seed: int) -> Any:
    if name == "sweepkit-bayes":
        return Sweepkit(parameters, seed, "bayes")
    if name == "random":
        return Sweepkit(parameters, seed, "random")
    if name == "optuna-tpe":
        return Optuna(parameters, seed, "tpe")
    if name == "optuna-gp":
        return Optuna(parameters, seed, "gp")
    if name == "hyperopt":
        return Hyperopt(parameters, seed)
    raise ValueError(name)


METHOD_NAMES = ("sweepkit-bayes", "optuna-tpe", "optuna-gp", "hyperopt", "random")


def run_one(name: str, problem: str, seed: int, budget: int) -> tuple[list[float], float]:
    f, parameters, _, _ = PROBLEMS[problem]
    method = make(name, parameters, seed)
    space = SearchSpace.from_config(_config(parameters, "random"))
    values, start = [], time.perf_counter()
    for _ in range(budget):
        point = method.ask()
        _check_point(space, point)
        value = f(point)
        method.tell(point, value)
        values.append(value)
    return values, time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--methods", default=",".join(METHOD_NAMES))
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--out", help="also write the raw results (every evaluation) to this JSON file")
    ap.add_argument("--merge", nargs="+", metavar="FILE", help="no runs: the table of these --out files")
    args = ap.parse_args()
    if args.merge:
        merged: dict[str, Any] = {"results": {}, "seconds": {}, "runs": {}}
        for name in args.merge:
            part = json.loads(Path(name).read_text())
            merged["results"].update(part["results"])
            for m, s in part["seconds"].items():
                merged["seconds"][m] = merged["seconds"].get(m, 0.0) + s
                merged["runs"][m] = merged["runs"].get(m, 0) + part["runs"][m]
        results = {tuple(k.split("|")): v for k, v in merged["results"].items()}
        problems = [p for p in PROBLEMS if any(k[0] == p for k in results)]
        methods = [m for m in METHOD_NAMES if any(k[1] == m for k in results)]
        seeds = len(next(iter(results.values())))
        per_run = {m: merged["seconds"][m] / merged["runs"][m] for m in methods}
        table(results, problems, methods, seeds, args.budget, per_run, [])
        return
    methods = [m for m in args.methods.split(",") if _available(m)]
    skipped = [m for m in args.methods.split(",") if m not in methods]
    problems = [
        p for p in PROBLEMS if p in args.problems.split(",") or p.split(" ")[0] in args.problems.split(",")
    ]
    results: dict[tuple[str, str], list[list[float]]] = {}
    seconds: dict[str, float] = dict.fromkeys(methods, 0.0)
    for problem in problems:
        for name in methods:
            for seed in range(args.seeds):
                values, took = run_one(name, problem, seed, args.budget)
                results.setdefault((problem, name), []).append(values)
                seconds[name] += took
            print(f"# {problem} {name}: done", file=sys.stderr, flush=True)
    if args.out:
        raw = {
            "results": {f"{p}|{m}": v for (p, m), v in results.items()},
            "seconds": seconds,
            "runs": dict.fromkeys(methods, len(problems) * args.seeds),
        }
        Path(args.out).write_text(json.dumps(raw))
    per_run = {m: seconds[m] / (len(problems) * args.seeds) for m in methods}
    table(results, problems, methods, args.seeds, args.budget, per_run, skipped)


def table(
    results: dict[tuple[str, str], list[list[float]]],
    problems: list[str],
    methods: list[str],
    seeds: int,
    budget: int,
    per_run: dict[str, float],
    skipped: list[str],
) -> None:
    """The normalised regrets at each checkpoint, per problem and method, and their means."""
    checkpoints = [c for c in CHECKPOINTS if c <= budget]
    # normalisation: optimum (known, else the best value found by anyone), median of random draws
    regrets: dict[tuple[str, str, int], list[float]] = {}
    for problem in problems:
        f, parameters, optimum, _ = PROBLEMS[problem]
        space = SearchSpace.from_config(_config(parameters, "random"))
        rng = random.Random(12345)
        reference = statistics.median(f(space.draw(rng)) for _ in range(200))
        best_found = min(min(v) for (p, _), runs in results.items() if p == problem for v in runs)
        opt = optimum if optimum is not None else best_found
        scale = max(reference - opt, 1e-12)
        for name in methods:
            for values in results[(problem, name)]:
                for c in checkpoints:
                    regrets.setdefault((problem, name, c), []).append(
                        max(0.0, (min(values[:c]) - opt) / scale)
                    )
    cols = [f"{m}@{c}" for c in checkpoints for m in methods]
    print(f"normalised regret (mean ± s.e. over {seeds} seeds; 0 = optimum, 1 = median random draw)")
    print("| problem | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    means: dict[str, list[float]] = {}
    for problem in problems:
        cells = []
        for c in checkpoints:
            for m in methods:
                r = regrets[(problem, m, c)]
                se = statistics.stdev(r) / math.sqrt(len(r)) if len(r) > 1 else 0.0
                cells.append(f"{statistics.fmean(r):.3f} ± {se:.3f}")
                means.setdefault(f"{m}@{c}", []).append(statistics.fmean(r))
        print(f"| {problem} | " + " | ".join(cells) + " |")
    print("| **mean** | " + " | ".join(f"**{statistics.fmean(means[c]):.3f}**" for c in cols) + " |")
    print(
        "\nseconds per run (all evaluations included): " + ", ".join(f"{m} {per_run[m]:.1f}" for m in methods)
    )
    if skipped:
        print("not installed, skipped: " + ", ".join(skipped))


if __name__ == "__main__":
    main()
