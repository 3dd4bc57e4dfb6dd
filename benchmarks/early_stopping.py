"""Early termination on a real multi-fidelity task: epochs spent and best result, with and without hyperband.

One command, one table:

    python benchmarks/early_stopping.py            # 5 seeds x 30 configurations x 27 epochs (a few minutes)
    python benchmarks/early_stopping.py --quick    # 2 seeds x 12 configurations: about a minute
    python benchmarks/early_stopping.py --min-iter 1 --eta 3 --seeds 0,1,2

The task: an MLP classifier (scikit-learn's ``MLPClassifier``, trained epoch by epoch with
``partial_fit``) on scikit-learn's digits data set (a fixed 70/30 split), logging its validation error
after every epoch. For each seed the same random configurations are run through sweepkit twice, by a
function-mode agent on a temporary SQLite store: once without ``early_terminate`` (every run trains
all epochs) and once with ``early_terminate: {type: hyperband, min_iter, eta}``. The sweeps share the
top-level ``seed:``, so sweepkit suggests the same configurations in the same order, and each
configuration trains with a random state derived from its values, so a run's curve is the same in
both sweeps until hyperband stops it.

Columns: epochs trained by each search and their ratio; the best final validation error (at the last
epoch) among the runs that trained every epoch; the gap between the two; ``noise``, the standard
deviation of that best configuration's final error over 5 training random states (what retraining
the same configuration changes); and how many runs hyperband stopped. Needs scikit-learn.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import statistics
import sys
import tempfile
import time
import warnings
import zlib
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# Small matrices: one BLAS thread per process is faster, and the searches run in parallel processes.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, sklearn, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sweepkit.controller import open_controller  # noqa: E402

import sweepkit  # noqa: E402

METRIC = "val_error"

PARAMETERS: dict[str, Any] = {
    "hidden": {"values": [16, 32, 64, 128]},
    "activation": {"values": ["relu", "tanh", "logistic"]},
    "solver": {"values": ["sgd", "adam"]},
    "learning_rate_init": {"distribution": "log_uniform_values", "min": 1e-4, "max": 0.3},
    "alpha": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-1},
    "batch_size": {"values": [64, 128, 256]},
    "momentum": {"min": 0.5, "max": 0.99},
}


class Task:
    """The digits data, split once, and the training of one configuration epoch by epoch."""

    def __init__(self) -> None:
        import numpy as np
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.preprocessing import StandardScaler

        x, y = load_digits(return_X_y=True)
        x_train, x_val, self.y_train, self.y_val = train_test_split(
            x, y, test_size=0.3, random_state=0, stratify=y
        )
        scaler = StandardScaler().fit(x_train)
        self.x_train, self.x_val = scaler.transform(x_train), scaler.transform(x_val)
        self.classes = np.unique(y)

    @staticmethod
    def random_state(config: dict[str, Any], salt: int = 0) -> int:
        """A training random state that depends only on the configuration's values (and ``salt``)."""
        return zlib.crc32(json.dumps([config, salt], sort_keys=True).encode()) % (2**31)

    def model(self, config: dict[str, Any], random_state: int):
        from sklearn.neural_network import MLPClassifier

        return MLPClassifier(
            hidden_layer_sizes=(int(config["hidden"]),),
            activation=config["activation"],
            solver=config["solver"],
            learning_rate_init=float(config["learning_rate_init"]),
            alpha=float(config["alpha"]),
            batch_size=int(config["batch_size"]),
            momentum=float(config["momentum"]),
            random_state=random_state,
        )

    def epoch(self, model) -> float:
        """Train one epoch; the validation error after it."""
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # convergence and overflow warnings of poor configurations
            model.partial_fit(self.x_train, self.y_train, classes=self.classes)
            return float(1.0 - model.score(self.x_val, self.y_val))

    def final_error(self, config: dict[str, Any], epochs: int, salt: int) -> float:
        model = self.model(config, self.random_state(config, salt))
        error = 1.0
        for _ in range(epochs):
            error = self.epoch(model)
        return error


@dataclass
class SearchResult:
    configs: list[dict[str, Any]]
    epochs: int
    best_error: float
    best_config: dict[str, Any]
    stopped: int
    seconds: float


_TASK: Task | None = None


def _task() -> Task:
    """The data set, loaded once per worker process."""
    global _TASK
    if _TASK is None:
        _TASK = Task()
    return _TASK


def run_search(
    db: str, seed: int, configs: int, epochs: int, early_terminate: dict[str, Any] | None
) -> SearchResult:
    """One sweep of ``configs`` random configurations, run by a function agent; what it cost and found."""
    task = _task()
    config: dict[str, Any] = {
        "method": "random",
        "seed": seed,
        "run_cap": configs,
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": PARAMETERS,
    }
    if early_terminate:
        config["early_terminate"] = early_terminate

    def train() -> None:
        run = sweepkit.init()
        params = dict(run.config)
        model = task.model(params, task.random_state(params))
        for epoch in range(1, epochs + 1):
            run.log({METRIC: task.epoch(model), "epoch": epoch})  # raises RunStopped when stopped

    started = time.perf_counter()
    sweep_id = sweepkit.sweep(config, db=db)
    with contextlib.redirect_stderr(io.StringIO()):  # the agent's per-run messages
        sweepkit.agent(sweep_id, function=train, db=db, echo=False)
    seconds = time.perf_counter() - started

    runs = sorted(open_controller(db).store.list_runs(sweep_id), key=lambda run: run.number)
    failed = [run for run in runs if run.state.value not in ("finished", "killed")]
    if failed:
        raise RuntimeError(f"run {failed[0].id} ended {failed[0].state.value}: {failed[0].error}")
    complete = [run for run in runs if len(run.metric_history) == epochs]
    best = min(complete, key=lambda run: run.metric_history[-1])
    return SearchResult(
        configs=[dict(run.params) for run in runs],
        epochs=sum(len(run.metric_history) for run in runs),  # every logged value is one epoch trained
        best_error=best.metric_history[-1],
        best_config=dict(best.params),
        stopped=sum(1 for run in runs if run.state.value == "killed"),
        seconds=seconds,
    )


def retrain_noise(config: dict[str, Any], epochs: int, repeats: int) -> float:
    """Standard deviation of a configuration's final error over ``repeats`` training random states."""
    errors = [_task().final_error(config, epochs, salt) for salt in range(repeats)]
    return statistics.stdev(errors) if len(errors) > 1 else 0.0


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", default="0,1,2,3,4", help="comma-separated sweep seeds (default 0..4)")
    parser.add_argument("--configs", type=int, default=30, help="random configurations per search")
    parser.add_argument("--epochs", type=int, default=27, help="epochs of a run that is never stopped")
    parser.add_argument("--min-iter", type=int, default=3, help="early_terminate.min_iter")
    parser.add_argument("--eta", type=float, default=3, help="early_terminate.eta")
    parser.add_argument("--noise-repeats", type=int, default=5, help="training random states for the noise")
    parser.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    parser.add_argument("--quick", action="store_true", help="2 seeds, 12 configurations, 3 noise repeats")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.configs, args.noise_repeats = "0,1", 12, 3
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    eta = int(args.eta) if args.eta == int(args.eta) else args.eta
    early_terminate = {"type": "hyperband", "min_iter": args.min_iter, "eta": eta}
    print(
        f"digits MLP: {args.configs} random configurations x {args.epochs} epochs per seed, "
        f"seeds {seeds}; hyperband min_iter={args.min_iter}, eta={eta}; {args.jobs} worker processes",
        flush=True,
    )

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="sweepkit-bench-") as tmp, ProcessPoolExecutor(args.jobs) as pool:
        # Each search has a SQLite store of its own, so parallel searches do not wait on each other.
        searches = {
            (seed, mode): pool.submit(
                run_search,
                f"sqlite:///{Path(tmp) / f'{mode}-{seed}.db'}",
                seed,
                args.configs,
                args.epochs,
                early_terminate if mode == "hb" else None,
            )
            for seed in seeds
            for mode in ("full", "hb")
        }
        results = {key: future.result() for key, future in searches.items()}
        noises = {
            seed: pool.submit(
                retrain_noise, results[seed, "full"].best_config, args.epochs, args.noise_repeats
            )
            for seed in seeds
        }
        noise = {seed: future.result() for seed, future in noises.items()}
        n_val = len(_task().y_val)
    elapsed = time.perf_counter() - started

    header = [
        "seed",
        "epochs full",
        "epochs HB",
        "ratio",
        "best full",
        "best HB",
        "gap",
        "noise (sd)",
        "stopped",
    ]
    rows: list[list[str]] = []
    for seed in seeds:
        full, hb = results[seed, "full"], results[seed, "hb"]
        if full.configs != hb.configs:
            raise SystemExit(f"seed {seed}: the two sweeps were not given the same configurations")
        rows.append(
            [
                str(seed),
                str(full.epochs),
                str(hb.epochs),
                f"{hb.epochs / full.epochs:.2f}",
                f"{full.best_error:.4f}",
                f"{hb.best_error:.4f}",
                f"{hb.best_error - full.best_error:+.4f}",
                f"{noise[seed]:.4f}",
                f"{hb.stopped}/{args.configs}",
            ]
        )
    full_epochs = sum(results[seed, "full"].epochs for seed in seeds)
    hb_epochs = sum(results[seed, "hb"].epochs for seed in seeds)
    gaps = [results[seed, "hb"].best_error - results[seed, "full"].best_error for seed in seeds]
    rows.append(
        [
            "all",
            str(full_epochs),
            str(hb_epochs),
            f"{hb_epochs / full_epochs:.2f}",
            "",
            "",
            f"{statistics.mean(gaps):+.4f}",
            f"{statistics.mean(noise.values()):.4f}",
            f"{sum(results[seed, 'hb'].stopped for seed in seeds)}/{args.configs * len(seeds)}",
        ]
    )
    print()
    print_table(header, rows)
    print()
    full_s = sum(results[seed, "full"].seconds for seed in seeds)
    hb_s = sum(results[seed, "hb"].seconds for seed in seeds)
    print(
        f"search time: {full_s:.0f} s without early termination, {hb_s:.0f} s with hyperband "
        f"(total wall time {elapsed:.0f} s); validation set: {n_val} digits, one digit = {1 / n_val:.4f} error"
    )


if __name__ == "__main__":
    main()
