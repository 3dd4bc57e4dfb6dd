"""The random method, and ``suggest`` dispatching on the config's method."""

from __future__ import annotations

import random
import subprocess
import sys
from dataclasses import dataclass

import pytest

from sweepkit.runs import RunState, RunView
from sweepkit.search import next_run as suggest
from sweepkit.search.base import Finished, Suggestion
from sweepkit.space import SearchSpace

PARAMETERS = {
    "lr": {"distribution": "log_uniform_values", "min": 1e-5, "max": 1e-1},
    "batch": {"distribution": "categorical", "values": [16, 32, 64]},
    "opt": {
        "parameters": {
            "beta": {"distribution": "beta", "a": 2, "b": 2},
            "kind": {"distribution": "constant", "value": "adam"},
        }
    },
    "layers": {"distribution": "int_uniform", "min": 1, "max": 4},
}


@pytest.fixture
def space() -> SearchSpace:
    return SearchSpace.from_parameters(PARAMETERS)


def _draw(space, runs, rng):
    from sweepkit.search.random_search import next_run

    return next_run(None, space, runs, rng)


def test_every_parameter_is_drawn(space):
    result = _draw(space, [], random.Random(0))
    assert isinstance(result, Suggestion)
    assert list(result.params) == list(space.names)
    assert result.params["opt.kind"] == "adam"
    assert 1e-5 <= result.params["lr"] <= 1e-1 and result.params["batch"] in (16, 32, 64)


def test_a_seed_makes_it_reproducible_and_runs_do_not_matter(space):
    runs = [RunView(id="r", state=RunState.FINISHED, params={"lr": 0.01, "batch": 16})]
    a = [_draw(space, [], random.Random(7)).params for _ in range(3)]
    b = [_draw(space, runs, random.Random(7)).params for _ in range(3)]
    assert a == b
    rng = random.Random(7)
    assert _draw(space, [], rng).params != _draw(space, [], rng).params


def test_parameters_are_drawn_independently(space):
    """Each parameter's draws follow its own distribution whatever the others drew (chi-square)."""
    stats = pytest.importorskip("scipy.stats")
    rng = random.Random(3)
    pairs = [(s["batch"], s["layers"]) for s in (_draw(space, [], rng).params for _ in range(6000))]
    table = [[sum(1 for p in pairs if p == (b, n)) for n in range(1, 5)] for b in (16, 32, 64)]
    assert stats.chi2_contingency(table).pvalue > 0.001


def test_it_never_finishes(space):
    runs = [RunView(id=str(i), state=RunState.FINISHED, params={}) for i in range(100)]
    assert isinstance(_draw(space, runs, random.Random(1)), Suggestion)


# --- dispatch -------------------------------------------------------------------------------------


@dataclass
class Config:  # the one attribute suggest reads of a SweepConfig besides what the method reads
    method: str


def test_suggest_dispatches_grid_and_random(space):
    grid_space = SearchSpace.from_parameters({"a": {"distribution": "categorical", "values": [1, 2]}})
    assert suggest(Config("grid"), grid_space, [], random.Random(0)).params == {"a": 1}
    done = [RunView(id=str(v), state=RunState.FINISHED, params={"a": v}) for v in (1, 2)]
    assert isinstance(suggest(Config("grid"), grid_space, done, random.Random(0)), Finished)
    assert suggest(Config("random"), space, [], random.Random(5)) == _draw(space, [], random.Random(5))


def test_unknown_method_is_a_value_error(space):
    with pytest.raises(ValueError, match="method: expected one of grid, random, bayes, custom, got 'nosuch'"):
        suggest(Config("nosuch"), space, [], random.Random(0))


def test_bayes_is_dispatched_to_the_bayes_package():
    try:
        import sweepkit.search.bayes  # noqa: F401
    except ModuleNotFoundError:
        pytest.skip("sweepkit.search.bayes is not written yet")
    config = pytest.importorskip("sweepkit.sweep_config")
    cfg = config.load_config(
        {"method": "bayes", "metric": {"name": "loss"}, "parameters": {"x": {"min": 0.0, "max": 1.0}}}
    )
    space = SearchSpace.from_config(cfg)
    result = suggest(cfg, space, [], random.Random(0))
    assert isinstance(result, Suggestion) and 0.0 <= result.params["x"] <= 1.0


def test_grid_and_random_import_neither_numpy_nor_scipy():
    code = (
        "import random, sys\n"
        "from sweepkit.search import next_run as suggest\n"
        "from sweepkit.space import SearchSpace\n"
        "class C: method = 'random'\n"
        "s = SearchSpace.from_parameters({'a': {'distribution': 'normal', 'mu': 0, 'sigma': 1},"
        " 'b': {'distribution': 'beta', 'a': 2, 'b': 2}, 'c': {'distribution': 'q_log_normal', 'mu': 0, 'sigma': 1, 'q': 1}})\n"
        "suggest(C(), s, [], random.Random(0))\n"
        "C.method = 'grid'\n"
        "suggest(C(), SearchSpace.from_parameters({'a': {'distribution': 'int_uniform', 'min': 0, 'max': 3}}), [], None)\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy') or m == 'sweepkit.search.bayes')\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
