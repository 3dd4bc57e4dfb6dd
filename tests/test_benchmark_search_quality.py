"""The search-quality benchmark runs end to end, judges verdicts by the seeds' noise, and judges a
noisy run by the true value of the point it would pick."""

from __future__ import annotations

import importlib.util
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "search_quality.py"


def _module():
    spec = importlib.util.spec_from_file_location("search_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["search_quality"] = module
    spec.loader.exec_module(module)
    return module


REGRETS = {
    "clear-win": {"sweepkit-bayes": [0.01, 0.02, 0.01, 0.02], "optuna-gp": [0.30, 0.35, 0.28, 0.33]},
    "coin-flip": {"sweepkit-bayes": [0.04, 0.06, 0.03, 0.07], "optuna-gp": [0.03, 0.07, 0.05, 0.05]},
    "clear-loss": {"sweepkit-bayes": [0.50, 0.52, 0.49, 0.51], "optuna-gp": [0.10, 0.12, 0.11, 0.09]},
}


def test_verdicts_separate_noise_from_a_real_difference(capsys):
    sq = _module()
    sq.print_verdicts(REGRETS, "sweepkit-bayes", "optuna-gp")
    out = capsys.readouterr().out
    assert "sweepkit-bayes against optuna-gp" in out
    assert "better: 1 - clear-win" in out
    assert "within noise: 1 - coin-flip" in out
    assert "worse: 1 - clear-loss" in out


def test_one_seed_gets_no_verdict(capsys):
    sq = _module()
    sq.print_verdicts(
        {"p": {"sweepkit-bayes": [0.1, 0.2, 0.1], "optuna-gp": [0.5]}}, "sweepkit-bayes", "optuna-gp"
    )
    out = capsys.readouterr().out
    assert "not judged: 1 - p" in out and "worse: 0" in out and "better: 0" in out


def test_against_random_is_the_same_verdict_against_random(capsys):
    sq = _module()
    renamed = {
        name: {"sweepkit-bayes": r["sweepkit-bayes"], "random": r["optuna-gp"]} for name, r in REGRETS.items()
    }
    sq.print_against_random(renamed)
    out = capsys.readouterr().out
    assert "against random" in out and "worse: 1 - clear-loss" in out


def test_a_noisy_run_is_judged_by_the_true_value_of_its_best_observed_point():
    sq = _module()
    observed = [5.0, 1.0, 3.0, 0.5]  # the last observation was lucky noise
    true = [5.0, 1.2, 3.0, 2.0]
    assert sq.regret_at(observed, true, 3, opt=0.0, scale=10.0) == 0.12
    assert sq.regret_at(observed, true, 4, opt=0.0, scale=10.0) == 0.2


def test_noisy_problems_observe_noise_and_keep_the_true_value():
    all_problems = _module()._problems.all_problems

    (problem,) = all_problems(["hartmann6-noisy"])
    params = {f"x{i}": 0.5 for i in range(1, 7)}
    gen = np.random.default_rng(0)
    seen = {problem.observe(params, gen) for _ in range(5)}
    assert len(seen) == 5
    assert problem(params) == problem(params)
    assert abs(np.mean(list(seen)) - problem(params)) < 3 * problem.noise_sd


def test_the_problem_set_is_large_and_holds_problems_out():
    synthetic_problems = _module()._problems.synthetic_problems

    names = [p.name for p in synthetic_problems()]
    assert {"ackley-10", "levy-20", "mixed-15", "hartmann6-in-20"} <= set(names)
    dims = {p.name: len(p.parameters) for p in synthetic_problems()}
    assert dims["levy-20"] == 20 and dims["mixed-15"] == 15
    assert [p.name for p in synthetic_problems() if p.held_out] == [
        "categorical-7x6",
        "dixon-price-20",
        "narrow-log",
    ]


def test_issue_29s_held_out_problems_reach_their_optimum_inside_the_space():
    problems = _module()._problems
    cat, dixon, narrow = problems.all_problems(["categorical-7x6", "dixon-price-20", "narrow-log"])
    assert len(cat.parameters) >= 5 and all(len(spec["values"]) >= 5 for spec in cat.parameters.values())
    # the optimum by dynamic programming is the least value over every one of the 6**7 points
    main, pairs = problems._categorical_tables()
    total = np.zeros([len(problems.LEVELS)] * problems.CATEGORIES)
    for i in range(problems.CATEGORIES):
        shape = [1] * problems.CATEGORIES
        shape[i] = len(problems.LEVELS)
        total = total + main[i].reshape(shape)
        if i:
            shape[i - 1] = len(problems.LEVELS)
            total = total + pairs[i - 1].reshape(shape)
    assert math.isclose(cat.optimum, float(total.min()), abs_tol=1e-9)
    best = np.unravel_index(int(total.argmin()), total.shape)
    point = {f"c{i}": problems.LEVELS[k] for i, k in enumerate(best)}
    assert math.isclose(cat(point), cat.optimum, abs_tol=1e-9)
    x = {f"x{i:02d}": 2.0 ** (-(2.0 ** (i + 1) - 2) / 2.0 ** (i + 1)) for i in range(20)}
    assert dixon(x) < 1e-9 and len(dixon.parameters) == 20
    assert narrow({"lr": 3e-4, "weight_decay": 1e-4, "momentum": 0.9}) == 0.0
    assert (
        narrow({"lr": 3e-3, "weight_decay": 1e-4, "momentum": 0.9}) > 0.9
    )  # a decade off: as bad as it gets


def test_new_synthetic_problems_reach_their_optimum_inside_the_space():
    problems = _module()._problems
    rastrigin, ellipsoid = problems.all_problems(["rastrigin-mixed-8", "rotated-ellipsoid-12"])
    shift = problems.RASTRIGIN_SHIFT
    best = dict(zip("abcdijqr", [float(v) for v in shift], strict=True))
    best["i"], best["j"] = int(shift[4]), int(shift[5])
    # the discrete inputs' optimum lies on their grid (integers; multiples of q = 0.5)
    assert best["q"] % 0.5 == 0 and best["r"] % 0.5 == 0
    assert rastrigin(best) == pytest.approx(0.0, abs=1e-9)
    assert rastrigin({**best, "i": best["i"] + 1}) > 0.5
    # the ellipsoid is 0 at its centre, which lies inside the unit box, and positive elsewhere
    names = list(ellipsoid.parameters)
    rng = np.random.default_rng(0)
    values = [ellipsoid(dict(zip(names, rng.uniform(0, 1, len(names)), strict=True))) for _ in range(20)]
    assert min(values) > 0


def test_benchmark_prints_tables_at_each_checkpoint_with_standard_errors():
    out = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--methods",
            "sweepkit-bayes,random",
            "--problems",
            "branin,branches",
            "--seeds",
            "2",
            "--budget",
            "10",
            "--checkpoints",
            "6,10",
            "--method-seeds",
            "random=1",
            "--no-latency",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    assert "2 seeds (random 1)" in out
    assert "after 6 evaluations" in out and "after 10 evaluations" in out
    rows = [line for line in out.splitlines() if line.startswith("| branin") or line.startswith("| branches")]
    assert len(rows) == 4
    assert all(row.count("+-") == 2 for row in rows)
    assert out.count("sweepkit-bayes against random") == 2


def test_the_parallel_mode_asks_while_the_other_agents_runs_are_pending():
    from sweepkit.runs import RunState

    sq = _module()
    seen = []

    class Recording(sq.SweepkitRandom):
        def ask(self):
            seen.append(sum(run.state == RunState.RUNNING for run in self.runs))
            return super().ask()

    sq.METHODS["recording"] = Recording
    try:
        problem = sq.all_problems(["branin"])[0]
        observed, true, times = sq.run_one(problem, "recording", 0, 12, agents=4)
    finally:
        del sq.METHODS["recording"]
    assert len(observed) == len(true) == len(times) == 12
    assert seen == [0, 1, 2] + [3] * 9  # the 4th ask on: 3 runs pending, as 4 agents would have
    sequential = sq.run_one(problem, "random", 0, 12)
    assert sequential[1] == true  # random ignores pending runs: the same points either way
