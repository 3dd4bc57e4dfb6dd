"""The problems of the search-quality benchmark: W&B `parameters` sections with their objectives.

Twenty-one problems of four kinds:

- low-dimensional synthetic functions with known optima (`branin`, `hartmann6`,
  `rosenbrock-mixed`, `levy-mixed`, `branches`, and, held out, `rastrigin-mixed-8`: a local
  optimum at every integer step of each of its continuous, integer and quantised inputs);
- high-dimensional ones: `ackley-10` and `levy-20` (10 and 20 continuous inputs), `mixed-15`
  (15 parameters of every kind, two of them irrelevant), `styblinski-10`, `hartmann6-in-20`
  (6 relevant inputs among 20), and, held out, `rotated-ellipsoid-12` (an ill-conditioned
  quadratic in a random rotation: no input can be tuned on its own);
- real tuning tasks on data sets that ship with scikit-learn (no downloads): `kridge-diabetes`,
  `forest-cancer`, `mlp-wine`, `krr-digits` (a kernel classifier whose good region is a narrow
  band of `gamma` and `alpha`), `sgd-digits` (a softmax classifier trained by mini-batch SGD, nine
  settings), and, held out, `svr-diabetes` (support vector regression, the kernel's settings in a
  nested group, good fits in a narrow band of `C` and `gamma`);
- noisy objectives: `hartmann6-noisy` (Gaussian noise on every evaluation), `sgd-cancer-noisy`
  (the SGD classifier on breast_cancer with a different shuffling seed on every evaluation: the
  noise of a real training run), and, held out, `rff-diabetes-noisy` (ridge regression on random
  Fourier features, other features drawn on every evaluation).

A noisy problem tells each method an *observed* value; the benchmark judges the *true* value (the
noise-free one, or the mean over the replicate seeds) of the point with the best observed value:
the point a user would pick. Held-out problems (``held_out=True``) are not run while sweepkit's
bayes is being changed, only to judge the finished change (docs/bayes.md). Each round of changes
gets new ones; the earlier rounds' held-out problems have joined the others.
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Problem:
    name: str
    parameters: dict[str, Any]  # W&B parameters section, every leaf with its `distribution`
    objective: Callable[[dict[str, Any]], Any]  # flat dotted names -> value (or replicate values)
    goal: str = "minimize"
    optimum: float | None = None  # None: the best true value ever seen
    real: bool = False
    held_out: bool = False
    noise_sd: float = 0.0  # Gaussian noise added to each observation
    replicates: int = 1  # > 1: objective returns this many values, one is observed at random
    cache: dict[str, Any] = field(default_factory=dict)

    def _values(self, params: dict[str, Any]) -> Any:
        key = json.dumps(params, sort_keys=True, default=repr)
        if key not in self.cache:
            out = self.objective(params)
            self.cache[key] = [float(v) for v in out] if self.replicates > 1 else float(out)
        return self.cache[key]

    def __call__(self, params: dict[str, Any]) -> float:
        """The true value: the noise-free one, or the mean over replicates."""
        values = self._values(params)
        return float(np.mean(values)) if self.replicates > 1 else values

    def observe(self, params: dict[str, Any], rng: np.random.Generator) -> float:
        """What a method is told: the true value plus noise, or one replicate drawn at random."""
        values = self._values(params)
        if self.replicates > 1:
            return values[int(rng.integers(self.replicates))]
        if self.noise_sd > 0:
            return values + float(rng.normal(0.0, self.noise_sd))
        return values

    @property
    def noisy(self) -> bool:
        return self.noise_sd > 0 or self.replicates > 1

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


def capped(value: float, worst: float) -> float:
    """A loss no worse than ``worst``; a diverged fit (NaN or infinite) counts as ``worst``."""
    return min(value, worst) if math.isfinite(value) else worst


def quiet() -> None:
    warnings.filterwarnings("ignore")
    os.environ.setdefault("PYTHONWARNINGS", "ignore")


# --- low-dimensional synthetic functions -------------------------------------------------------


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
H6_OPTIMUM = -3.322368011391339


def hartmann6_of(x: np.ndarray) -> float:
    return float(-(_H6_ALPHA * np.exp(-(_H6_A * (x - _H6_P) ** 2).sum(axis=1))).sum())


def hartmann6(p: dict[str, Any]) -> float:
    return hartmann6_of(np.array([p[f"x{i}"] for i in range(1, 7)]))


def rosenbrock_mixed(p: dict[str, Any]) -> float:
    # x1 continuous, x2 = log10(scale) continuous on a log prior, x3 quantised, x4 integer; optimum all ones.
    x = [p["x1"], math.log10(p["scale"]), p["x3"], p["x4"] / 2.0]
    return sum(100 * (x[i + 1] - x[i] ** 2) ** 2 + (1 - x[i]) ** 2 for i in range(3))


def levy(x: np.ndarray) -> float:
    """Levy's function, optimum 0 at all ones."""
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = ((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2)).sum()
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


def levy_mixed(p: dict[str, Any]) -> float:
    # Levy on [-10, 10]^6 (optimum 0 at all ones): two continuous, one int, one quantised, one log,
    # one categorical over a few fixed positions; plus an irrelevant categorical and a constant.
    return levy(np.array([p["a"], p["b"], p["c"], p["d"], math.log2(p["e"]) - 4.0, p["f"]], dtype=float))


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


# --- high-dimensional synthetic functions ------------------------------------------------------


def ackley(x: np.ndarray) -> float:
    """Ackley's function, optimum 0 at the origin."""
    d = len(x)
    a = -20.0 * math.exp(-0.2 * math.sqrt(float((x * x).sum()) / d))
    b = -math.exp(float(np.cos(2 * math.pi * x).sum()) / d)
    return a + b + 20.0 + math.e


def styblinski_tang(x: np.ndarray) -> float:
    """Styblinski-Tang, optimum -39.166165703771412 * d at x_i = -2.903534."""
    return float(0.5 * (x**4 - 16 * x * x + 5 * x).sum())


#: The inputs of hartmann6-in-20 that matter, in Hartmann's order (the other 14 do nothing).
H6_IN_20_ACTIVE = (3, 17, 8, 12, 0, 15)


def hartmann6_in_20(p: dict[str, Any]) -> float:
    return hartmann6_of(np.array([p[f"x{i:02d}"] for i in H6_IN_20_ACTIVE]))


def mixed_15(p: dict[str, Any]) -> float:
    """A model-tuning-like response over 15 parameters: interactions, log scales, integers,
    categories whose best learning rate differs, and two parameters that do nothing.
    Optimum 0 (adam, relu, norm on, x = the centre below, ...)."""
    x = np.array([p["x1"], p["x2"], p["x3"], p["x4"]])
    c = np.array([0.3, 0.7, 0.55, 0.2])
    rot = np.array([[1.0, 0.6, 0.0, 0.0], [0.6, 1.0, 0.3, 0.0], [0.0, 0.3, 1.0, 0.4], [0.0, 0.0, 0.4, 1.0]])
    dx = x - c
    value = 4.0 * float(dx @ rot @ dx)
    best_lr = {"adam": -3.0, "sgd": -1.5, "rmsprop": -3.5}[p["opt"]]
    value += 0.25 * (math.log10(p["lr"]) - best_lr) ** 2
    value += {"adam": 0.0, "sgd": 0.15, "rmsprop": 0.08}[p["opt"]]
    value += 0.08 * (math.log10(p["wd"]) + 4.0) ** 2 / 9.0
    value += 0.04 * abs(p["layers"] - 4) + 0.05 * (math.log2(p["width"]) - 7.5) ** 2
    value += 0.3 * (math.log2(p["batch"] / 64.0)) ** 2 / 9.0
    value += {"relu": 0.0, "gelu": 0.02, "tanh": 0.12, "sigmoid": 0.3}[p["act"]]
    value += 0.0 if p["norm"] else 0.1
    value += 0.5 * (p["dropout"] - 0.15) ** 2
    value += 0.2 * (p["x1"] - c[0]) * (p["dropout"] - 0.15) * 10.0 * (p["layers"] > 5)
    return max(value, 0.0)


#: Where rastrigin-mixed-8's optimum is, input by input (on the grid of the discrete inputs).
RASTRIGIN_SHIFT = np.array([1.1, -2.3, 0.7, 3.1, 2.0, -3.0, 1.5, -0.5])


def rastrigin_mixed(p: dict[str, Any]) -> float:
    """Rastrigin's function over four continuous, two integer and two quantised inputs, its
    optimum (0) moved off the centre; a local optimum at every integer step of each input."""
    x = np.array([p["a"], p["b"], p["c"], p["d"], p["i"], p["j"], p["q"], p["r"]], dtype=float)
    z = x - RASTRIGIN_SHIFT
    return float(10.0 * len(z) + (z * z - 10.0 * np.cos(2.0 * math.pi * z)).sum())


def _rotated_ellipsoid(d: int) -> Callable[[dict[str, Any]], float]:
    """An ill-conditioned quadratic (axis scales 1 to 1000) in a fixed random rotation: no input
    is separable, so per-input length scales cannot describe it. Optimum 0 inside the box."""
    rng = np.random.default_rng(12)
    rotation, _ = np.linalg.qr(rng.normal(size=(d, d)))
    centre = rng.uniform(0.25, 0.75, d)
    weights = 10.0 ** (3.0 * np.arange(d) / (d - 1))

    def ellipsoid(p: dict[str, Any]) -> float:
        z = rotation @ (np.array([p[f"x{i:02d}"] for i in range(d)]) - centre)
        return float((weights * z * z).sum())

    return ellipsoid


# --- real tuning tasks -------------------------------------------------------------------------


def _kridge_diabetes() -> Callable[[dict[str, Any]], float]:
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler

    xd, yd = load_diabetes(return_X_y=True)
    xd = StandardScaler().fit_transform(xd)
    yd = (yd - yd.mean()) / yd.std()
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
        return capped(value, 1e3)

    return kernel_ridge


def _forest_cancer() -> Callable[[dict[str, Any]], float]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    xb, yb = load_breast_cancer(return_X_y=True)

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

    return forest


def _mlp_wine() -> Callable[[dict[str, Any]], float]:
    from sklearn.datasets import load_wine
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    xw, yw = load_wine(return_X_y=True)

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

    return mlp


def _krr_digits() -> Callable[[dict[str, Any]], float]:
    """Kernel ridge classification of 8x8 digits (one-hot targets): validation Brier score.

    Good settings need `gamma` within about a decade and `alpha` small but not tiny; most of the
    prior gives a kernel that is all ones or the identity and a score near the trivial 0.9.
    """
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(x))[:1000]
    x, y = x[order] / 16.0, y[order]
    train, test = np.arange(600), np.arange(600, 1000)
    onehot = np.eye(10)[y]
    sq = ((x[:, None] - x[None]) ** 2).sum(-1)
    l1 = np.abs(x[:, None] - x[None]).sum(-1)

    def krr(p: dict[str, Any]) -> float:
        dist = sq if p["kernel"] == "rbf" else l1
        k = np.exp(-p["gamma"] * dist)
        if p["center"]:
            k = k - k[:, train].mean(1, keepdims=True)
        k_tt = k[np.ix_(train, train)]
        try:
            dual = np.linalg.solve(k_tt + p["alpha"] * np.eye(len(train)), onehot[train] - 0.1)
        except np.linalg.LinAlgError:
            return 1.0
        pred = k[np.ix_(test, train)] @ dual + 0.1
        value = float(((pred - onehot[test]) ** 2).sum(1).mean())
        return capped(value, 10.0)

    return krr


def _svr_diabetes() -> Callable[[dict[str, Any]], float]:
    """Support vector regression of diabetes progression (standardised), 3-fold CV mean squared
    error. The kernel's settings sit in a nested group; good fits need `C` and `gamma` to agree,
    a narrow diagonal band on their log scales."""
    from sklearn.datasets import load_diabetes
    from sklearn.model_selection import KFold
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVR

    xd, yd = load_diabetes(return_X_y=True)
    xd = StandardScaler().fit_transform(xd)
    yd = (yd - yd.mean()) / yd.std()
    folds = list(KFold(3, shuffle=True, random_state=1).split(xd))

    def svr(p: dict[str, Any]) -> float:
        errors = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for train, test in folds:
                model = SVR(
                    kernel=p["kernel.type"],
                    gamma=p["kernel.gamma"],
                    degree=p["kernel.degree"],
                    coef0=p["kernel.coef0"],
                    C=p["C"],
                    epsilon=p["epsilon"],
                    max_iter=20000,
                )
                model.fit(xd[train], yd[train])
                errors.append(float(np.mean((model.predict(xd[test]) - yd[test]) ** 2)))
        value = float(np.mean(errors))
        return capped(value, 10.0)

    return svr


#: Replicate seeds of rff-diabetes-noisy (the random features drawn): an evaluation observes one.
RFF_REPLICATES = 4


def _rff_diabetes() -> Callable[[dict[str, Any]], list[float]]:
    """Ridge regression on random Fourier features of the diabetes data, validation mean squared
    error; every replicate draws other features, so the same settings score differently."""
    from sklearn.datasets import load_diabetes

    xd, yd = load_diabetes(return_X_y=True)
    order = np.random.default_rng(3).permutation(len(xd))
    xd, yd = xd[order], yd[order]
    train, test = np.arange(300), np.arange(300, len(xd))
    xd = (xd - xd[train].mean(0)) / xd[train].std(0)
    yd = (yd - yd[train].mean()) / yd[train].std()

    def one(p: dict[str, Any], seed: int) -> float:
        rng = np.random.default_rng(seed)
        n = int(p["n_features"])
        w = rng.normal(0.0, math.sqrt(2.0 * p["gamma"]), size=(xd.shape[1], n))
        phase = rng.uniform(0.0, 2.0 * math.pi, n)
        feats = math.sqrt(2.0 / n) * np.cos(xd @ w + phase)
        if p["linear"]:
            feats = np.hstack([feats, xd])
        a = feats[train]
        try:
            coef = np.linalg.solve(a.T @ a + p["alpha"] * np.eye(a.shape[1]), a.T @ yd[train])
        except np.linalg.LinAlgError:
            return 10.0
        value = float(np.mean((feats[test] @ coef - yd[test]) ** 2))
        return capped(value, 10.0)

    return lambda p: [one(p, seed) for seed in range(RFF_REPLICATES)]


def _softmax_sgd(x: np.ndarray, y: np.ndarray, n_train: int) -> Callable[[dict[str, Any], int], float]:
    """A softmax classifier trained by mini-batch SGD with momentum: validation Brier score.

    The Brier score (in [0, 2]) rather than the cross-entropy: with raw features or a large step
    most of the prior gives overconfident models whose cross-entropy is unbounded.
    """
    n_class = int(y.max()) + 1
    train, test = np.arange(n_train), np.arange(n_train, len(x))
    onehot = np.eye(n_class)[y]
    scaled = {
        "standard": (x - x[train].mean(0)) / (x[train].std(0) + 1e-9),
        "minmax": (x - x[train].min(0)) / (np.ptp(x[train], axis=0) + 1e-9),
        "none": x,
    }

    def train_eval(p: dict[str, Any], seed: int) -> float:
        data = scaled[p["scaling"]]
        rng = np.random.default_rng(seed)
        w = rng.normal(0.0, p["init_scale"], size=(data.shape[1], n_class))
        b = np.zeros(n_class)
        vw, vb = np.zeros_like(w), np.zeros_like(b)
        bs, epochs = int(p["batch_size"]), int(p["epochs"])
        steps = epochs * int(math.ceil(n_train / bs))
        smooth = p["label_smoothing"]
        target = onehot * (1 - smooth) + smooth / n_class
        step = 0
        with np.errstate(all="ignore"):
            for _ in range(epochs):
                perm = rng.permutation(train)
                for start in range(0, n_train, bs):
                    idx = perm[start : start + bs]
                    if p["schedule"] == "cosine":
                        lr = p["lr"] * 0.5 * (1 + math.cos(math.pi * step / steps))
                    elif p["schedule"] == "step":
                        lr = p["lr"] * (0.1 if step > 0.6 * steps else 1.0)
                    else:
                        lr = p["lr"]
                    logits = data[idx] @ w + b
                    logits -= logits.max(1, keepdims=True)
                    prob = np.exp(logits)
                    prob /= prob.sum(1, keepdims=True)
                    grad = (prob - target[idx]) / len(idx)
                    gw = data[idx].T @ grad + p["l2"] * w
                    vw = p["momentum"] * vw - lr * gw
                    vb = p["momentum"] * vb - lr * grad.sum(0)
                    w, b = w + vw, b + vb
                    step += 1
            logits = data[test] @ w + b
            logits -= logits.max(1, keepdims=True)
            prob = np.exp(logits)
            prob /= prob.sum(1, keepdims=True)
            value = float(((prob - onehot[test]) ** 2).sum(1).mean())
        return value if math.isfinite(value) else 2.0

    return train_eval


SGD_PARAMETERS = {
    "lr": logu(1e-4, 0.5),
    "l2": logu(1e-7, 1.0),
    "momentum": u(0.0, 0.95),
    "batch_size": qu(8, 256, 8),
    "epochs": iu(1, 8),
    "schedule": cat(["constant", "cosine", "step"]),
    "init_scale": logu(1e-4, 1.0),
    "label_smoothing": u(0.0, 0.3),
    "scaling": cat(["standard", "minmax", "none"]),
}


def _sgd_digits() -> Callable[[dict[str, Any]], float]:
    from sklearn.datasets import load_digits

    x, y = load_digits(return_X_y=True)
    order = np.random.default_rng(1).permutation(len(x))
    run = _softmax_sgd(x[order].astype(float), y[order], 1200)
    return lambda p: run(p, 0)


#: Replicate seeds of sgd-cancer-noisy: an evaluation observes one of them.
SGD_CANCER_REPLICATES = 4


def _sgd_cancer() -> Callable[[dict[str, Any]], list[float]]:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    order = np.random.default_rng(2).permutation(len(x))
    run = _softmax_sgd(x[order].astype(float), y[order], 380)
    return lambda p: [run(p, seed) for seed in range(SGD_CANCER_REPLICATES)]


# --- issue 29's held-out problems (written before any tuning on them) -----------------------------

CATEGORIES = 7  # parameters
LEVELS = ("a", "b", "c", "d", "e", "f")


def _categorical_tables() -> tuple[np.ndarray, np.ndarray]:
    """Main effects of each level and interactions of neighbouring parameters, fixed by a seed."""
    rng = np.random.default_rng(2029)
    main = rng.normal(0.0, 1.0, (CATEGORIES, len(LEVELS)))
    pairs = rng.normal(0.0, 0.6, (CATEGORIES - 1, len(LEVELS), len(LEVELS)))
    return main, pairs


def categorical_7x6(p: dict[str, Any]) -> float:
    """Seven categorical parameters of six levels: main effects plus neighbour interactions."""
    main, pairs = _categorical_tables()
    idx = [LEVELS.index(p[f"c{i}"]) for i in range(CATEGORIES)]
    value = sum(main[i, k] for i, k in enumerate(idx))
    return float(value + sum(pairs[i, idx[i], idx[i + 1]] for i in range(CATEGORIES - 1)))


def _categorical_optimum() -> float:
    """The exact minimum, by dynamic programming along the chain of interactions."""
    main, pairs = _categorical_tables()
    best = main[0].copy()
    for i in range(1, CATEGORIES):
        best = (best[:, None] + pairs[i - 1]).min(axis=0) + main[i]
    return float(best.min())


def dixon_price(x: np.ndarray) -> float:
    i = np.arange(2, len(x) + 1)
    return float((x[0] - 1.0) ** 2 + np.sum(i * (2.0 * x[1:] ** 2 - x[:-1]) ** 2))


def dixon_price_20(p: dict[str, Any]) -> float:
    return dixon_price(np.array([p[f"x{i:02d}"] for i in range(20)]))


def narrow_log(p: dict[str, Any]) -> float:
    """A learning rate whose good values span a fifth of a decade in seven, on a log scale, with a
    weight decay (log scale, broad) and a momentum (linear) that matter less."""
    lr = (math.log10(p["lr"]) - math.log10(3e-4)) / 0.2
    wd = (math.log10(p["weight_decay"]) - math.log10(1e-4)) / 1.5
    momentum = (p["momentum"] - 0.9) / 0.3
    return float(1.0 - math.exp(-(lr**2)) + 0.1 * wd**2 / (1 + wd**2) + 0.05 * momentum**2)


def _knn_wine() -> Callable[[dict[str, Any]], float]:
    from sklearn.datasets import load_wine
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    xw, yw = load_wine(return_X_y=True)
    scalers = {"none": None, "standard": StandardScaler, "robust": RobustScaler, "minmax": MinMaxScaler}

    def knn(p: dict[str, Any]) -> float:
        scaler = scalers[p["scaler"]]
        model = KNeighborsClassifier(n_neighbors=p["n_neighbors"], weights=p["weights"], p=p["p"])
        pipe = make_pipeline(scaler(), model) if scaler is not None else model
        return float(-cross_val_score(pipe, xw, yw, cv=cv, scoring="neg_log_loss").mean())

    return knn


def _enet_diabetes() -> Callable[[dict[str, Any]], float]:
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import ElasticNet
    from sklearn.model_selection import KFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import PolynomialFeatures, StandardScaler

    cv = KFold(3, shuffle=True, random_state=0)
    xd, yd = load_diabetes(return_X_y=True)

    def enet(p: dict[str, Any]) -> float:
        model = make_pipeline(
            PolynomialFeatures(p["degree"], include_bias=False),
            StandardScaler(),
            ElasticNet(alpha=p["alpha"], l1_ratio=p["l1_ratio"], max_iter=2000, tol=1e-3),
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mse = -cross_val_score(model, xd, yd, cv=cv, scoring="neg_mean_squared_error").mean()
        return capped(float(mse) / 1000.0, 1e3)

    return enet


# --- the list ----------------------------------------------------------------------------------


def synthetic_problems() -> list[Problem]:
    h6 = {f"x{i}": u(0, 1) for i in range(1, 7)}
    return [
        Problem("branin", {"x": u(-5, 10), "y": u(0, 15)}, branin, optimum=0.397887357729739),
        Problem("hartmann6", h6, hartmann6, optimum=H6_OPTIMUM),
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
        Problem(
            "ackley-10",
            {f"x{i}": u(-5, 10) for i in range(10)},
            lambda p: ackley(np.array([p[f"x{i}"] for i in range(10)])),
            optimum=0.0,
        ),
        Problem(
            "levy-20",
            {f"x{i:02d}": u(-10, 10) for i in range(20)},
            lambda p: levy(np.array([p[f"x{i:02d}"] for i in range(20)])),
            optimum=0.0,
        ),
        Problem(
            "mixed-15",
            {
                "x1": u(0, 1),
                "x2": u(0, 1),
                "x3": u(0, 1),
                "x4": u(0, 1),
                "lr": logu(1e-4, 0.5),
                "wd": logu(1e-7, 1e-1),
                "eps": logu(1e-9, 1e-3),
                "layers": iu(1, 8),
                "width": iu(16, 512),
                "batch": qu(16, 512, 16),
                "opt": cat(["adam", "sgd", "rmsprop"]),
                "act": cat(["relu", "gelu", "tanh", "sigmoid"]),
                "norm": cat([True, False]),
                "dropout": u(0.0, 0.8),
                "tag": cat(["a", "b", "c"]),
            },
            mixed_15,
            optimum=0.0,
        ),
        Problem("hartmann6-noisy", h6, hartmann6, optimum=H6_OPTIMUM, noise_sd=0.15),
        Problem(
            "styblinski-10",
            {f"x{i}": u(-5, 5) for i in range(10)},
            lambda p: styblinski_tang(np.array([p[f"x{i}"] for i in range(10)])),
            optimum=-39.166165703771412 * 10,
        ),
        Problem(
            "hartmann6-in-20",
            {f"x{i:02d}": u(0, 1) for i in range(20)},
            hartmann6_in_20,
            optimum=H6_OPTIMUM,
        ),
        Problem(
            "rastrigin-mixed-8",
            {
                "a": u(-5.12, 5.12),
                "b": u(-5.12, 5.12),
                "c": u(-5.12, 5.12),
                "d": u(-5.12, 5.12),
                "i": iu(-5, 5),
                "j": iu(-5, 5),
                "q": qu(-5, 5, 0.5),
                "r": qu(-5, 5, 0.5),
            },
            rastrigin_mixed,
            optimum=0.0,
        ),
        Problem(
            "rotated-ellipsoid-12",
            {f"x{i:02d}": u(0, 1) for i in range(12)},
            _rotated_ellipsoid(12),
            optimum=0.0,
        ),
        # Issue 29's held-out problems: a categorical-heavy one, 20 dimensions, a narrow optimum on a
        # log scale.
        Problem(
            "categorical-7x6",
            {f"c{i}": cat(list(LEVELS)) for i in range(CATEGORIES)},
            categorical_7x6,
            optimum=_categorical_optimum(),
            held_out=True,
        ),
        Problem(
            "dixon-price-20",
            {f"x{i:02d}": u(-10, 10) for i in range(20)},
            dixon_price_20,
            optimum=0.0,
            held_out=True,
        ),
        Problem(
            "narrow-log",
            {"lr": logu(1e-7, 1.0), "weight_decay": logu(1e-8, 1e-1), "momentum": u(0.0, 0.99)},
            narrow_log,
            optimum=0.0,
            held_out=True,
        ),
    ]


def real_problems() -> list[Problem]:
    """Tuning tasks on scikit-learn's bundled data sets, each a validation loss to minimise.

    Losses rather than accuracies: accuracy on these small data sets saturates (dozens of settings
    tie at the top), which would make every method look perfect. All are deterministic (fixed
    seeds and splits) except `sgd-cancer-noisy`.
    """
    quiet()
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
            _kridge_diabetes(),
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
            _forest_cancer(),
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
            _mlp_wine(),
            real=True,
        ),
        Problem(
            "krr-digits",
            {
                "gamma": logu(1e-5, 100.0),
                "alpha": logu(1e-8, 100.0),
                "kernel": cat(["rbf", "laplacian"]),
                "center": cat([False, True]),
            },
            _krr_digits(),
            real=True,
        ),
        Problem("sgd-digits", dict(SGD_PARAMETERS), _sgd_digits(), real=True),
        Problem(
            "sgd-cancer-noisy",
            dict(SGD_PARAMETERS),
            _sgd_cancer(),
            real=True,
            replicates=SGD_CANCER_REPLICATES,
        ),
        Problem(
            "svr-diabetes",
            {
                "C": logu(1e-2, 1e3),
                "epsilon": logu(1e-3, 1.0),
                "kernel": {
                    "parameters": {
                        "type": cat(["rbf", "sigmoid", "poly"]),
                        "gamma": logu(1e-4, 10.0),
                        "degree": iu(2, 4),
                        "coef0": u(-1.0, 1.0),
                    }
                },
            },
            _svr_diabetes(),
            real=True,
        ),
        Problem(
            "rff-diabetes-noisy",
            {
                "n_features": qu(16, 512, 16),
                "gamma": logu(1e-4, 1.0),
                "alpha": logu(1e-6, 100.0),
                "linear": cat([False, True]),
            },
            _rff_diabetes(),
            real=True,
            replicates=RFF_REPLICATES,
        ),
        # Issue 29's held-out real tasks.
        Problem(
            "knn-wine",
            {
                "n_neighbors": iu(1, 60),
                "weights": cat(["uniform", "distance"]),
                "p": iu(1, 4),
                "scaler": cat(["none", "standard", "robust", "minmax"]),
            },
            _knn_wine(),
            real=True,
            held_out=True,
        ),
        Problem(
            "enet-diabetes",
            {"alpha": logu(1e-5, 100.0), "l1_ratio": u(0.0, 1.0), "degree": iu(1, 3)},
            _enet_diabetes(),
            real=True,
            held_out=True,
        ),
    ]


REAL_NAMES = (
    "kridge-diabetes",
    "forest-cancer",
    "mlp-wine",
    "krr-digits",
    "sgd-digits",
    "sgd-cancer-noisy",
    "svr-diabetes",
    "rff-diabetes-noisy",
    "knn-wine",
    "enet-diabetes",
)


def all_problems(names: list[str] | None = None) -> list[Problem]:
    """Every problem (or those named), synthetic first; real tasks are only built when needed."""
    problems = synthetic_problems()
    if names is None or any(n in REAL_NAMES for n in names):
        problems += real_problems()
    return problems if names is None else [p for p in problems if p.name in names]
