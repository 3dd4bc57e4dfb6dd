"""The search-quality benchmark runs end to end and judges "against random" by the seeds' noise."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "search_quality.py"


def _module():
    spec = importlib.util.spec_from_file_location("search_quality", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    sys.modules["search_quality"] = module
    spec.loader.exec_module(module)
    return module


def test_against_random_separates_noise_from_a_real_difference(capsys):
    sq = _module()
    regrets = {
        "clear-win": {"sweepkit-bayes": [0.01, 0.02, 0.01, 0.02], "random": [0.30, 0.35, 0.28, 0.33]},
        "coin-flip": {"sweepkit-bayes": [0.04, 0.06, 0.03, 0.07], "random": [0.03, 0.07, 0.05, 0.05]},
        "clear-loss": {"sweepkit-bayes": [0.50, 0.52, 0.49, 0.51], "random": [0.10, 0.12, 0.11, 0.09]},
    }
    sq.print_against_random(regrets)
    out = capsys.readouterr().out
    assert "better: 1 - clear-win" in out
    assert "within noise: 1 - coin-flip" in out
    assert "worse: 1 - clear-loss" in out


def test_benchmark_prints_regret_table_with_standard_errors():
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
            "--no-latency",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    rows = [line for line in out.splitlines() if line.startswith("| branin") or line.startswith("| branches")]
    assert len(rows) == 2
    assert all(row.count("+-") == 2 for row in rows)
    assert "sweepkit-bayes against random" in out
