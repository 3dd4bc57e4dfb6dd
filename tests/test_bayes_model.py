"""The parts of the bayes method: run states and imputation, the GP and its gradients, log EI, the encoding."""

from __future__ import annotations

import math

import pytest

from sweepkit.runs import MetricStats, RunState, RunView
from sweepkit.space import SearchSpace
from sweepkit.sweep_config import load_config

np = pytest.importorskip("numpy")
pytest.importorskip("scipy")

from sweepkit.search.bayes.observations import collect  # noqa: E402


def metric(goal: str = "minimize", impute: str | None = None):
    m = {"name": "loss", "goal": goal}
    if impute:
        m["impute"] = impute
    return load_config({"method": "bayes", "metric": m, "parameters": {"x": {"min": 0.0, "max": 1.0}}}).metric


def run(i: int, state: RunState, history=(), summary=None) -> RunView:
    stats = MetricStats.from_values(history).with_summary((summary or {}).get("loss"))
    return RunView(str(i), state, {"x": i / 10}, stats)


def values(obs) -> dict[int, float]:
    return dict(obs.observed)


# --- run states and imputation --------------------------------------------------------------


def test_run_states_sort_runs():
    runs = [
        run(0, RunState.FINISHED, [3.0, 1.0, 2.0]),
        run(1, RunState.FINISHED, [], {"loss": 5.0}),
        run(2, RunState.FINISHED, [float("nan"), 4.0], {"loss": 0.1}),
        run(3, RunState.RUNNING, [0.5]),
        run(4, RunState.PENDING),
        run(5, RunState.PREEMPTING, [0.2]),
        run(6, RunState.FAILED, [9.0]),
        run(7, RunState.CRASHED),
        run(8, RunState.KILLED, [7.0]),
        run(9, RunState.PREEMPTED),
        run(10, RunState.FINISHED, [float("inf")], {"loss": "n/a"}),
    ]
    obs = collect(metric(), runs)
    v = values(obs)
    assert v[0] == 1.0  # the best logged value, not the last one
    assert v[1] == 5.0  # no history: the summary
    assert (
        v[2] == 0.1
    )  # the best of history and summary (MetricStats.best, W&B's metric_extremum); NaN skipped
    assert obs.pending == [3, 4, 5, 9]  # preempted runs resume: pending, as in W&B
    assert sorted(obs.imputed) == [6, 7, 8, 10]
    worst = 9.0  # the worst value seen in any run
    assert v[6] == v[7] == v[8] == v[10] == worst


def test_worst_imputation_direction_minimize_and_maximize():
    runs = [run(0, RunState.FINISHED, [0.2]), run(1, RunState.FINISHED, [0.9]), run(2, RunState.FAILED)]
    low = collect(metric("minimize"), runs)
    assert values(low)[2] == 0.9  # the largest loss
    high = collect(metric("maximize"), runs)
    v = values(high)
    assert v[0] == -0.2 and v[1] == -0.9  # lower is better: signed values
    assert v[2] == -0.2  # the lowest accuracy, i.e. the worst


def test_best_and_latest_imputation():
    runs = [
        run(0, RunState.FINISHED, [0.5]),
        run(1, RunState.FAILED, [0.8, 0.3, 0.6]),
        run(2, RunState.CRASHED),
    ]
    best = values(collect(metric("minimize", "best"), runs))
    assert best[1] == 0.3  # its own best
    assert best[2] == 0.3  # none of its own: the best seen
    latest = values(collect(metric("minimize", "latest"), runs))
    assert latest[1] == 0.6
    assert latest[2] == 0.8  # none of its own: the worst seen
    best_max = values(collect(metric("maximize", "best"), runs))
    assert best_max[1] == -0.8  # maximize: the run's largest value is its best
    latest_max = values(collect(metric("maximize", "latest"), runs))
    assert latest_max[2] == -0.3  # maximize: the worst is the smallest value


def test_no_values_anywhere_impute_zero():
    obs = collect(metric("maximize"), [run(0, RunState.FAILED), run(1, RunState.KILLED)])
    assert values(obs) == {0: 0.0, 1: 0.0}


def test_booleans_are_not_metric_values():
    obs = collect(metric(), [run(0, RunState.FINISHED, [], {"loss": True}), run(1, RunState.FINISHED, [2.0])])
    assert obs.imputed == [0]


# --- GP -------------------------------------------------------------------------------------


def _data(seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((25, 4))
    x[:, 3] = rng.integers(0, 3, 25)
    cat = np.array([False, False, False, True])
    y = np.sin(3 * x[:, 0]) + x[:, 1] ** 2 + 0.3 * x[:, 3]
    return x, (y - y.mean()) / y.std(), cat


def test_marginal_likelihood_gradient_matches_finite_differences():
    from scipy import optimize

    from sweepkit.search.bayes.gp import neg_log_posterior, pairwise_sq

    x, y, cat = _data()
    sq = pairwise_sq(x, x, cat)
    theta = np.array([0.1, -0.3, 0.5, 0.2, 0.1, -4.0])
    _, grad = neg_log_posterior(theta, sq, y)
    numeric = optimize.approx_fprime(theta, lambda t: neg_log_posterior(t, sq, y)[0], 1e-6)
    assert np.allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def test_the_cheaper_kernel_and_mean_give_the_very_numbers_of_the_full_ones():
    """``matern_value`` and ``Posterior.mean`` skip the derivative and the variance; a suggestion must
    not change for it, so they must agree bit for bit, not nearly."""
    from sweepkit.search.bayes.gp import Hyper, Posterior, matern, matern_value

    gen = np.random.default_rng(5)
    d2 = np.concatenate([[0.0, 1e-300, 1e-12], gen.exponential(2.0, 500), [50.0, 800.0]])
    assert np.array_equal(matern_value(d2), matern(d2)[0])
    x = gen.random((60, 3))
    x[:, 2] = gen.integers(0, 4, 60)
    post = Posterior(x, gen.standard_normal(60), np.array([False, False, True]), Hyper.default(3))
    xs = gen.random((200, 3))
    xs[:, 2] = gen.integers(0, 4, 200)
    assert np.array_equal(post.mean(xs), post.predict(xs)[0])
    assert np.array_equal(post.mean(post.x), post.predict(post.x)[0])


def test_the_posteriors_kept_data_terms_give_the_very_numbers_of_scaled_sq():
    """A posterior keeps the data's side of ``scaled_sq`` for its hundreds of predictions; the
    distances, kernels and gradients must be those computed from scratch, bit for bit."""
    from sweepkit.search.bayes.gp import Hyper, Posterior, matern, scaled_sq

    gen = np.random.default_rng(8)
    cat = np.array([False, True, False, True])
    x = gen.random((80, 4))
    x[:, 1], x[:, 3] = gen.integers(0, 3, 80), gen.integers(-1, 2, 80)
    hyper = Hyper(gen.normal(-0.5, 0.5, 4), 0.3, -4.0)
    post = Posterior(x, gen.standard_normal(80), cat, hyper)
    xs = gen.random((300, 4))
    xs[:, 1], xs[:, 3] = gen.integers(0, 3, 300), gen.integers(-1, 2, 300)
    d2 = scaled_sq(xs, x, hyper.inv_sq_lengths(), cat)
    assert np.array_equal(post._scaled_sq(xs), d2)
    k, dk = matern(d2)
    got_k, got_dk = post.cross(xs)
    assert np.array_equal(got_k, post.signal * k) and np.array_equal(got_dk, post.signal * dk)
    assert np.array_equal(post._kernel(xs), post.signal * k)
    assert np.array_equal(post.predict(xs)[0], (post.signal * k) @ post.alpha)


def test_posterior_gradients_match_finite_differences_and_interpolate():
    from sweepkit.search.bayes.gp import Hyper, Posterior, fit_hyper

    x, y, cat = _data(1)
    hyper = fit_hyper(x, y, cat, [Hyper.default(4)])
    post = Posterior(x, y, cat, hyper)
    mean, _ = post.predict(x)
    assert np.abs(mean - y).max() < 0.1
    xs = np.random.default_rng(2).random((3, 4))
    xs[:, 3] = [0, 1, 2]
    m0, s0, gm, gs = post.predict_with_grad(xs)
    for j in range(3):
        step = xs.copy()
        step[:, j] += 1e-6
        m1, s1 = post.predict(step)
        assert np.allclose((m1 - m0) / 1e-6, gm[:, j], rtol=1e-3, atol=1e-4)
        assert np.allclose((s1 - s0) / 1e-6, gs[:, j], rtol=1e-3, atol=1e-4)
    assert np.all(gm[:, 3] == 0)  # categorical columns have no gradient


def test_categories_are_not_ordered():
    from sweepkit.search.bayes.gp import pairwise_sq

    cat = np.array([True])
    sq = pairwise_sq(np.array([[0.0]]), np.array([[1.0], [2.0]]), cat)
    assert sq[0, 0, 0] == sq[0, 0, 1] == 1.0


def test_log_ei_is_finite_and_monotone_far_from_the_incumbent():
    from sweepkit.search.bayes.acquisition import log_ei, log_h

    z = np.array([-1e8, -1e4, -40.0, -5.0, -1.0, 0.0, 3.0])
    h = log_h(z)
    assert np.all(np.isfinite(h)) and np.all(np.diff(h) > 0)
    from scipy import stats

    direct = np.log(stats.norm.pdf(-0.5) + -0.5 * stats.norm.cdf(-0.5))
    assert math.isclose(float(log_h(np.array([-0.5]))[0]), direct, rel_tol=1e-9)
    vals = log_ei(np.array([0.0, 10.0, 1e3]), np.array([1.0, 1.0, 1.0]), best=0.0)
    assert np.all(np.isfinite(vals)) and vals[0] > vals[1] > vals[2]


def test_transform_is_monotone_and_invertible():
    from sweepkit.search.bayes.model import Transform

    y = np.array([0.1, 0.2, 0.3, 0.5, 1.0, 50.0, 1e4])
    t = Transform.fit(y)
    z = t(y)
    assert np.all(np.diff(z) > 0)
    assert np.allclose(t.inverse(z), y)
    assert z[-1] < 20  # an awful value is compressed


def test_checkpoints_grow_geometrically():
    from sweepkit.search.bayes.model import COLD_UNTIL, checkpoint

    assert checkpoint(10) == 10 and checkpoint(COLD_UNTIL) == COLD_UNTIL
    points = sorted({checkpoint(n) for n in range(COLD_UNTIL, 2000)})
    assert len(points) < 40
    assert all(b <= a * 1.2 for a, b in zip(points, points[1:], strict=False))


def test_past_a_thousand_observations_the_refined_fit_is_made_at_each_hundredth_of_growth():
    from sweepkit.search.bayes import model

    assert [model.refined_at(n) for n in (5, 999)] == [5, 999]
    assert [model.refined_at(n) for n in (1000, 1009, 1010, 9999, 10000, 10099, 10100)] == [
        1000,
        1000,
        1010,
        9990,
        10000,
        10000,
        10100,
    ]
    # Between two steps the fit is the same one (a cache hit, not a fit), and it is what the
    # observations up to the step give: a pure function of the runs.
    gen = np.random.default_rng(3)
    x = gen.random((1040, 2))
    y = np.sin(6 * x[:, 0]) + x[:, 1] ** 2 + 0.01 * gen.standard_normal(1040)
    cat_mask = np.zeros(2, dtype=bool)
    at_step = model.hyperparameters(x[:1030], y[:1030], cat_mask)
    fits = model._cache.copy()
    for n in range(1030, 1040):
        assert model.hyperparameters(x[:n], y[:n], cat_mask) is at_step
    assert list(model._cache) == list(fits)  # no new fit was made
    model._cache.clear()
    assert np.array_equal(model.hyperparameters(x[:1039], y[:1039], cat_mask).vector(), at_step.vector())
    assert not np.array_equal(model.hyperparameters(x, y, cat_mask).vector(), at_step.vector())


# --- encoding -------------------------------------------------------------------------------


def test_encoding_round_trips_every_kind():
    from sweepkit.search.bayes.encoding import Domain

    cfg = load_config(
        {
            "method": "bayes",
            "metric": {"name": "loss"},
            "parameters": {
                "a": {"min": 1, "max": 5},
                "b": {"distribution": "q_uniform", "min": 0.0, "max": 1.0, "q": 0.25},
                "c": {"distribution": "log_uniform_values", "min": 1e-4, "max": 1.0},
                "d": {"values": [None, 0, False, ""]},
                "e": {"value": [1, 2]},
                "g": {"parameters": {"h": {"values": ["p", "q"], "probabilities": [0.9, 0.1]}}},
            },
        }
    )
    domain = Domain(SearchSpace.from_config(cfg))
    assert [c.name for c in domain.columns] == ["a", "b", "c", "d", "g.h"]  # the constant is dropped
    assert domain.columns[0].size == 5 and domain.columns[1].size == 5
    point = {"a": 3, "b": 0.75, "c": 0.01, "d": False, "e": [1, 2], "g.h": "q"}
    row = domain.encode(point)
    back = domain.decode(row)
    assert back["a"] == 3 and back["b"] == 0.75 and back["d"] is False and back["g.h"] == "q"
    assert math.isclose(back["c"], 0.01, rel_tol=1e-9) and back["e"] == [1, 2]
    assert row[3] == 2.0  # False is its own category, not 0
    gen = np.random.default_rng(0)
    draws = domain.sample(512, gen)
    assert (draws[:, 4] == 0).mean() > 0.8  # categorical_w_probabilities: drawn by probability
    for r in domain.snap(domain.perturb(draws[:20], gen)):
        assert domain.encode(domain.decode(r)) is not None


def _unit_square():
    from sweepkit.search.bayes.encoding import Domain

    cfg = load_config(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"a": {"min": 0.0, "max": 1.0}, "b": {"min": 0.0, "max": 1.0}},
        }
    )
    return Domain(SearchSpace.from_parameters(cfg.parameters))


def test_diversify_spreads_along_an_input_the_model_ignores():
    """Runs sit at both ends of b and the loss ignores b: the suggestion moves between them."""
    from sweepkit.search.bayes.acquisition import TIE_TOLERANCE, diversify, log_ei, maximise
    from sweepkit.search.bayes.gp import Hyper, Posterior

    domain = _unit_square()
    gen = np.random.default_rng(0)
    a = np.linspace(0.0, 1.0, 12)
    x = np.column_stack([a, np.arange(len(a)) % 2.0])
    y = (a - 0.3) ** 2
    y = (y - y.mean()) / y.std()
    # a long length scale on b: the model says b does not matter
    hyper = Hyper(np.log(np.array([0.2, 20.0])), 0.0, np.log(1e-4))
    post = Posterior(x, y, np.array([False, False]), hyper)
    best = float(y.min())
    row, value = maximise(post, best, domain, gen, x[np.argsort(y)[:3]], set())
    spread, spread_value = diversify(post, best, domain, gen, row, value, set())
    assert spread_value >= value - TIE_TOLERANCE - 1e-9

    def nearest_run(p):
        return float(np.sqrt(((x - p) ** 2).sum(1)).min())

    assert nearest_run(spread) > nearest_run(row) + 0.1
    assert 0.2 < spread[1] < 0.8  # away from both ends of b
    m, s = post.predict(spread[None, :])
    assert math.isclose(float(log_ei(m, s, best)[0]), spread_value, rel_tol=1e-9)


def test_diversify_keeps_a_sharp_maximum():
    """When every input matters, no variant comes close in expected improvement: the point stays."""
    from sweepkit.search.bayes.acquisition import diversify, maximise
    from sweepkit.search.bayes.gp import Hyper, Posterior

    domain = _unit_square()
    gen = np.random.default_rng(1)
    pts = np.random.default_rng(3).random((30, 2))
    y = ((pts - 0.4) ** 2).sum(1) * 50
    y = (y - y.mean()) / y.std()
    hyper = Hyper(np.log(np.array([0.05, 0.05])), 0.0, np.log(1e-6))
    post = Posterior(pts, y, np.array([False, False]), hyper)
    best = float(y.min())
    row, value = maximise(post, best, domain, gen, pts[np.argsort(y)[:3]], set())
    spread, _ = diversify(post, best, domain, gen, row, value, set(), tolerance=1e-6)
    assert spread is row


@pytest.mark.parametrize(
    ("low", "high"), [(1, 8), (-3, 3), (5, 6), (0, 1023), (1, 1024), (0, 1024), (-7, 5000)]
)
def test_integer_levels_without_the_scan_are_the_scans(low, high):
    """Integer parameters get their levels without 4,096 calls of ``from_unit``: the same levels
    (values and unit positions), or none, as the scan of the unit interval gives."""
    from sweepkit.search.bayes import encoding
    from sweepkit.space.param import Param

    param = Param(["n"], {"distribution": "int_uniform", "min": low, "max": high})
    found = encoding._level_values(param)
    scanned: dict = {}
    for i in range(encoding._LEVEL_GRID):
        scanned.setdefault(param.from_unit((i + 0.5) / encoding._LEVEL_GRID), None)
    if len(scanned) > encoding.MAX_LEVELS:
        assert found is None
    else:
        assert list(found) == list(scanned)
        assert all(type(v) is int for v in found)


def test_the_used_points_follow_the_digest_and_the_live_runs():
    """``with_live``'s used points look into the digest's own counts instead of a copy: they must be
    the keys of every run with a row, ended or live, and follow the digest when runs are retried or
    deleted."""
    from sweepkit.search.bayes.encoding import Domain, row_key
    from sweepkit.search.bayes.observations import EndedRuns

    cfg = load_config(
        {
            "method": "bayes",
            "metric": {"name": "loss", "goal": "minimize"},
            "parameters": {"x": {"min": 0.0, "max": 1.0}, "k": {"values": ["a", "b"]}},
        }
    )
    domain = Domain(SearchSpace.from_config(cfg))

    def view(i, state):
        stats = MetricStats.from_values([float(i)])
        return RunView(f"r{i}", state, {"x": i / 2000, "k": "ab"[i % 2]}, stats, i)

    ended = [view(i, RunState.FINISHED) for i in range(1, 1500)]
    live = [view(i, RunState.RUNNING) for i in range(1500, 1504)]
    digest = EndedRuns(cfg.metric, domain)
    digest.update(ended, [])

    def keys_of(views):  # one row at a time: the digest makes its keys of 1,499 rows at once
        return {row_key(domain.encode(v.params)) for v in views}

    _, used = digest.with_live(live)
    assert set(used) == keys_of(ended + live)
    assert all(key in used for key in keys_of(ended + live))
    assert row_key(domain.encode({"x": 0.9999, "k": "a"})) not in used
    digest.update([], ["r7", "r8"])  # deleted runs: their points are free again
    _, used = digest.with_live(live)
    assert set(used) == keys_of([v for v in ended if v.id not in ("r7", "r8")] + live)
    assert keys_of([ended[6]]).isdisjoint(set(used))
