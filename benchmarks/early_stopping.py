"""Early termination on a real multi-fidelity task: epochs spent and best result, with and without hyperband.

One command, one table:

    python benchmarks/early_stopping.py            # 5 seeds x 30 configurations x 27 epochs (a few minutes)
    python benchmarks/early_stopping.py --quick    # 2 seeds x 15 configurations: a smoke run
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
import json
import statistics
import sys
import tempfile
import time
import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

import sweepkit  # noqa: E402
from sweepkit.controller import open_controller  # noqa: E402

METRIC = "val_error"

PARAMETERS: dict[str, Any] = {
    "hidden": {"values": [16, 32, 64, 128]},
    "activation": {"values": ["relu", "tanh", "logistic"]},
    "solver": {"values": ["sgd", "adam"]},
    "learning_rate_init": {"distribution": "log_uniform_values", "min": 1e-4, "max": 0.3},
    "alpha": {"distribution": "log_uniform_values", "min": 1e-6, "max": 1e-1},
    "batch_size": {"values": [32, 64, 128, 256]},
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


def run_search(task: Task, db: str, seed: int, args, early_terminate: dict[str, Any] | None) -> SearchResult:
    config: dict[str, Any] = {
        "method": "random",
        "seed": seed,
        "run_cap": args.configs,
        "metric": {"name": METRIC, "goal": "minimize"},
        "parameters": PARAMETERS,
    }
    if early_terminate:
        config["early_terminate"] = early_terminate

    def train() -> None:
        run = sweepkit.init()
        params = dict(run.config)
        model = task.model(params, task.random_state(params))
        for epoch in range(1, args.epochs + 1):
            run.log({METRIC: task.epoch(model), "epoch": epoch})

    started = time.perf_counter()
    sweep_id = sweepkit.sweep(config, db=db)
    sweepkit.agent(sweep_id, function=train, db=db, echo=False)
    seconds = time.perf_counter() - started

    runs = sorted(open_controller(db).store.list_runs(sweep_id), key=lambda run: run.number)
    failed = [run for run in runs if run.state.value not in ("finished", "killed")]
    if failed:
        raise SystemExit(f"run {failed[0].id} ended {failed[0].state.value}: {failed[0].error}")
    complete = [run for run in runs if len(run.metric_history) == args.epochs]
    best = min(complete, key=lambda run: run.metric_history[-1])
    return SearchResult(
        configs=[dict(run.params) for run in runs],
        epochs=sum(len(run.metric_history) for run in runs),  # every logged value is one epoch trained
        best_error=best.metric_history[-1],
        best_config=dict(best.params),
        stopped=sum(1 for run in runs if run.state.value == "killed"),
        seconds=seconds,
    )


def print_table(header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    print("  ".join(cell.rjust(width) for cell, width in zip(header, widths)))
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


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
    parser.add_argument("--quick", action="store_true", help="2 seeds, 15 configurations, 3 noise repeats")
    args = parser.parse_args()
    if args.quick:
        args.seeds, args.configs, args.noise_repeats = "0,1", 15, 3
    seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    eta = int(args.eta) if args.eta == int(args.eta) else args.eta
    early_terminate = {"type": "hyperband", "min_iter": args.min_iter, "eta": eta}

    task = Task()
    print(
        f"digits MLP, {args.configs} random configurations x {args.epochs} epochs per seed; "
        f"hyperband min_iter={args.min_iter}, eta={eta}",
        flush=True,
    )
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
    totals = {"full": 0, "hb": 0, "gaps": [], "noise": [], "full_s": 0.0, "hb_s": 0.0}
    with tempfile.TemporaryDirectory(prefix="sweepkit-bench-") as tmp:
        db = f"sqlite:///{Path(tmp) / 'store.db'}"
        for seed in seeds:
            full = run_search(task, db, seed, args, None)
            hb = run_search(task, db, seed, args, early_terminate)
            if full.configs != hb.configs:
                raise SystemExit(f"seed {seed}: the two sweeps were not given the same configurations")
            repeats = [
                task.final_error(full.best_config, args.epochs, salt) for salt in range(args.noise_repeats)
            ]
            noise = statistics.stdev(repeats) if len(repeats) > 1 else 0.0
            gap = hb.best_error - full.best_error
            totals["full"] += full.epochs
            totals["hb"] += hb.epochs
            totals["gaps"].append(gap)
            totals["noise"].append(noise)
            totals["full_s"] += full.seconds
            totals["hb_s"] += hb.seconds
            rows.append(
                [
                    str(seed),
                    str(full.epochs),
                    str(hb.epochs),
                    f"{hb.epochs / full.epochs:.2f}",
                    f"{full.best_error:.4f}",
                    f"{hb.best_error:.4f}",
                    f"{gap:+.4f}",
                    f"{noise:.4f}",
                    f"{hb.stopped}/{args.configs}",
                ]
            )
            print(
                f"  seed {seed} done ({full.seconds:.0f} s full, {hb.seconds:.0f} s with hyperband)",
                flush=True,
            )
    rows.append(
        [
            "all",
            str(totals["full"]),
            str(totals["hb"]),
            f"{totals['hb'] / totals['full']:.2f}",
            "",
            "",
            f"{statistics.mean(totals['gaps']):+.4f}",
            f"{statistics.mean(totals['noise']):.4f}",
            "",
        ]
    )
    print()
    print_table(header, rows)
    print()
    print(
        f"wall time: {totals['full_s']:.0f} s without early termination, {totals['hb_s']:.0f} s with hyperband; "
        f"validation set: {len(task.y_val)} digits (one digit = {1 / len(task.y_val):.4f} error)"
    )


if __name__ == "__main__":
    main()
