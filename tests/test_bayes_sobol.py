"""bayes's own scrambled Sobol points: SciPy's ``qmc.Sobol`` bit for bit, parents' streams included."""

from __future__ import annotations

import math

import pytest

np = pytest.importorskip("numpy")
qmc = pytest.importorskip("scipy.stats").qmc

from sweepkit.search.bayes import sobol  # noqa: E402


def _scipy(dim: int, n: int, gen) -> np.ndarray:
    m = max(0, math.ceil(math.log2(max(n, 1))))
    return qmc.Sobol(dim, scramble=True, seed=gen).random_base2(m)[:n]


def _scipy_spawns() -> bool:
    """Whether this SciPy scrambles from a child of the generator's seed sequence (SciPy 1.17 does,
    and sweepkit's points follow it); older releases drew from the generator itself."""
    gen = np.random.default_rng(0)
    qmc.Sobol(2, scramble=True, seed=gen)
    return gen.bit_generator.seed_seq.n_children_spawned > 0


follows_scipy = pytest.mark.skipif(
    not _scipy_spawns(),
    reason="this SciPy's Sobol draws its scramble another way than the one sweepkit follows",
)


@follows_scipy
@pytest.mark.parametrize("dim", [1, 2, 4, 7, 23, 120])
@pytest.mark.parametrize("n", [1, 2, 5, 64, 100, 512])
def test_the_points_are_scipys_bit_for_bit(dim, n):
    """A suggestion draws its candidate pool through ``Domain.uniform``: the points, and what the
    generator gives afterwards (SciPy spawns a child of its seed sequence), must not change."""
    for seed in range(3):
        ours, theirs = np.random.default_rng(seed), np.random.default_rng(seed)
        ours.random(seed), theirs.random(seed)  # generators that have been used before
        for _ in range(2):  # and the second draw from one generator (its next child)
            got, want = sobol.sobol_points(dim, n, ours), _scipy(dim, n, theirs)
            assert got.dtype == want.dtype and got.shape == want.shape
            assert np.array_equal(got, want)
        assert ours.random() == theirs.random()


@follows_scipy
def test_the_kept_direction_numbers_give_the_same_points_as_a_fresh_read():
    """The unscrambled direction numbers are kept per dimension: kept or read again, the same points."""
    sobol._directions.clear()
    sobol._table.clear()
    cold = sobol.sobol_points(5, 128, np.random.default_rng(1))
    assert 5 in sobol._directions
    warm = sobol.sobol_points(5, 128, np.random.default_rng(1))
    assert np.array_equal(cold, warm)
    # a larger dimension read after a smaller one still has its own rows
    assert np.array_equal(
        sobol.sobol_points(9, 16, np.random.default_rng(2)), _scipy(9, 16, np.random.default_rng(2))
    )


@follows_scipy
def test_without_scipys_table_the_points_come_from_scipy(monkeypatch):
    """When SciPy's file is not what it was, ``qmc.Sobol`` itself draws (the same points)."""

    def missing(dim):
        raise OSError("no such file")

    monkeypatch.setattr(sobol, "_read_table", missing)
    monkeypatch.setattr(sobol, "_directions", {})
    got = sobol.sobol_points(3, 32, np.random.default_rng(4))
    assert np.array_equal(got, _scipy(3, 32, np.random.default_rng(4)))


def test_a_new_process_does_not_import_scipy_stats():
    """Importing ``scipy.stats`` takes a third of a second: a suggestion's draws must not need it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import sweepkit

    code = (
        "import sys, numpy as np\n"
        "from sweepkit.search.bayes.encoding import Domain\n"
        "from sweepkit.space import SearchSpace\n"
        "from sweepkit.sweep_config import load_config\n"
        "cfg = load_config({'method': 'bayes', 'metric': {'name': 'loss', 'goal': 'minimize'},\n"
        "                   'parameters': {'x': {'min': 0.0, 'max': 1.0}, 'c': {'values': [1, 2]}}})\n"
        "d = Domain(SearchSpace.from_parameters(cfg.parameters))\n"
        "d.sample(64, np.random.default_rng(0))\n"
        "print('scipy.stats' in sys.modules)\n"
    )
    src = str(Path(sweepkit.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"
