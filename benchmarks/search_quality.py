"""Search quality and speed of sweepkit's bayes against random, W&B's `sweeps` bayes and Optuna (TPE, GP).

One command, one report:

    python benchmarks/search_quality.py --jobs 1 --cache bench_cache.json   # everything, 20 seeds
    python benchmarks/search_quality.py --quick         # a smoke run: 2 seeds, 3 problems, 20 evaluations
    python benchmarks/search_quality.py --set tuning    # only the problems bayes may be tuned on
    python benchmarks/search_quality.py --methods sweepkit-bayes,random --problems branin,levy-20

Every method gets the same problems (`search_problems.py`: 26 of them, 5 held out from tuning),
seeds, evaluation budget (100) and, on noisy problems, the same noise sequence. Each run is judged
at every checkpoint (50 and 100 evaluations) by the true value of the point with the best observed
value so far. Regret is normalised per problem: 0 is the optimum (the known one for synthetic
functions, the best true value ever seen by any method or random draw for the real tasks), 1 is
the median value of random draws. Each cell is the mean over seeds with its standard error; the
mean row's error combines the problems' errors. Verdicts then compare sweepkit's bayes with random
and with Optuna's GP problem by problem: a difference counts when it exceeds twice the standard
error of the difference.

Latency (`--latency-sizes`) is the median wall time of one suggestion given n finished runs
(synthetic random runs of the `levy-mixed` problem).

Third-party methods need `pip install --no-deps sweeps==0.3.0 jsonref` (plus pydantic), and
`pip install optuna torch` (the CPU wheel; Optuna's GPSampler needs torch). Missing ones are
skipped. `--cache FILE` keeps finished runs (written as they finish) so that an interrupted or
repeated invocation redoes nothing but the methods named in `--refresh`.
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
import zlib
from pathlib import Path
from typing import Any

# benchmarks/logging.py is named after what it measures, like the standard library's module: keep this
# folder off the import path so that `import logging` (sqlalchemy, sklearn, ...) finds the real one.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))


def _sibling(name: str):
    """A module of this folder, loaded by its path (the folder itself stays off the import path)."""
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name(f"{name}.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # pickling for worker processes finds it by name
        spec.loader.exec_module(module)
    return sys.modules[name]


import numpy as np  # noqa: E402

_problems = _sibling("search_problems")
Problem, all_problems, _quiet = _problems.Problem, _problems.all_problems, _problems.quiet

from sweepkit.runs import MetricStats, RunState, RunView  # noqa: E402
from sweepkit.space import SearchSpace  # noqa: E402

METRIC = "loss"
SUBJECT = "sweepkit-bayes"


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
    """Ask for a point, tell its value; one instance per (problem, seed). With ``agents`` > 1, up to
    that many points are asked for before the first is told (``tell`` reports the oldest one asked):
    the others are pending, as the runs of parallel agents are."""

    #: Whether the method can be asked again before it is told (the parallel mode).
    parallel = True

    def __init__(self, problem: Problem, seed: int, agents: int = 1):
        self.problem, self.seed, self.agents = problem, seed, agents

    def ask(self) -> dict[str, Any]:
        raise NotImplementedError

    def tell(self, params: dict[str, Any], value: float) -> None:
        raise NotImplementedError


class SweepkitMethod(Method):
    method = "bayes"

    def __init__(self, problem: Problem, seed: int, agents: int = 1):
        super().__init__(problem, seed, agents)
        from sweepkit.search import next_run as suggest

        self._suggest = suggest
        self.cfg = _sweepkit_config(problem, self.method)
        self.space = SearchSpace.from_parameters(self.cfg.parameters)
        self.runs: list[RunView] = []
        self._pending: list[int] = []  # indexes in ``runs`` of the points asked for and not told yet

    def ask(self) -> dict[str, Any]:
        rng = random.Random(f"{self.seed}:{len(self.runs)}")
        params = dict(self._suggest(self.cfg, self.space, self.runs, rng).params)
        if self.agents > 1:  # a running run: a pending point for the next suggestions
            self._pending.append(len(self.runs))
            self.runs.append(RunView(str(len(self.runs)), RunState.RUNNING, params))
        return params

    def tell(self, params: dict[str, Any], value: float) -> None:
        done = RunView(str(len(self.runs)), RunState.FINISHED, params, MetricStats.from_values([value]))
        if self._pending:
            i = self._pending.pop(0)
            self.runs[i] = RunView(str(i), RunState.FINISHED, params, done.metric)
        else:
            self.runs.append(done)


class SweepkitAhead(SweepkitMethod):
    """sweepkit's bayes as the service runs it when agents claim at once: each suggestion is computed
    before the claim takes the sweep's lock (``bayes.prepare``), and meanwhile the ``agents // 4``
    latest asks (at least one) took the lock first; under it the suggestion is checked
    (``bayes.complete``) with those pending too."""

    def ask(self) -> dict[str, Any]:
        from dataclasses import replace

        from sweepkit.search import bayes
        from sweepkit.search.sweep_runs import SweepRuns

        if self.agents == 1 or not self._pending:
            return super().ask()
        rng = random.Random(f"{self.seed}:{len(self.runs)}")
        views = [replace(view, number=i) for i, view in enumerate(self.runs)]
        late = set(self._pending[-max(1, self.agents // 4) :])
        earlier = SweepRuns.of(
            [v for v in views if v.number not in late], bayes.digests(self.cfg, self.space)
        )
        prepared = bayes.prepare(self.cfg, self.space, earlier, rng)
        done = bayes.complete(prepared, SweepRuns.of(views, bayes.digests(self.cfg, self.space)))
        if done is None:
            done = bayes.suggest_bayes(self.cfg, self.space, views, rng)
        params = dict(done.params)
        self._pending.append(len(self.runs))
        self.runs.append(RunView(str(len(self.runs)), RunState.RUNNING, params))
        return params


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
    parallel = False

    def __init__(self, problem: Problem, seed: int, agents: int = 1):
        super().__init__(problem, seed, agents)
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

    def __init__(self, problem: Problem, seed: int, agents: int = 1):
        super().__init__(problem, seed, agents)
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
        self._asked: list[Any] = []  # trials asked for and not told yet, oldest first

    def make_sampler(self, seed: int) -> Any:
        # The constant liar: running trials count as bad ones, so parallel asks spread out.
        return self.optuna.samplers.TPESampler(seed=seed, constant_liar=self.agents > 1)

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
            trial = self.study.ask(self.dists)
        self._asked.append(trial)
        return self._decode(trial.params)

    def tell(self, params: dict[str, Any], value: float) -> None:
        self.study.tell(self._asked.pop(0), self.problem.sign * value)

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
    "sweepkit-bayes-ahead": SweepkitAhead,
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


def run_one(problem: Problem, method: str, seed: int, budget: int, agents: int = 1) -> list[list[float]]:
    """Observed values, true values (both signed: lower is better) and seconds per suggestion, in
    the order the evaluations end. With ``agents`` > 1, each point is asked for while the
    ``agents - 1`` asked before it are still pending (each agent asks as soon as its run ends; runs
    end in the order they were asked for)."""
    m = METHODS[method](problem, seed, agents)
    noise = np.random.default_rng([seed, zlib.crc32(problem.name.encode())])
    observed, true, times = [], [], []
    pending: list[dict[str, Any]] = []
    asked = 0
    while len(observed) < budget:
        while len(pending) < agents and asked < budget:
            t = time.perf_counter()
            pending.append(m.ask())
            times.append(time.perf_counter() - t)
            asked += 1
        params = pending.pop(0)
        v = problem.observe(params, noise)
        m.tell(params, v)
        observed.append(problem.sign * v)
        true.append(problem.sign * problem(params))
    return [observed, true, times]


_PROBLEMS: dict[str, Problem] = {}


def _key(name: str, method: str, seed: int, budget: int, agents: int) -> str:
    """A run's key in the cache (the sequential runs keep their old keys)."""
    return f"{name}|{method}|{seed}|{budget}" + (f"|q{agents}" if agents > 1 else "")


def _run_by_name(
    name: str, method: str, seed: int, budget: int, agents: int = 1
) -> tuple[str, list[list[float]]]:
    """run_one in a worker process: problems are rebuilt there (their objectives hold closures)."""
    if name not in _PROBLEMS:
        _quiet()
        try:
            from threadpoolctl import threadpool_limits

            threadpool_limits(1, user_api="blas")
        except ImportError:
            pass
        _PROBLEMS.update({p.name: p for p in all_problems([name])})
    return _key(name, method, seed, budget, agents), run_one(_PROBLEMS[name], method, seed, budget, agents)


def _run_star(args: tuple[str, str, int, int, int]) -> tuple[str, list[list[float]]]:
    return _run_by_name(*args)


def random_reference(problem: Problem, n: int, seed: int = 12345) -> list[float]:
    space = SearchSpace.from_parameters(_sweepkit_config(problem, "random").parameters)
    rng = random.Random(seed)
    return [problem.sign * problem(space.draw(rng)) for _ in range(n)]


def regret_at(observed: list[float], true: list[float], n: int, opt: float, scale: float) -> float:
    """Normalised regret of the point with the best observed value among the first ``n``."""
    i = int(np.argmin(observed[:n]))
    return max(0.0, (true[i] - opt) / scale)


def latency(
    method: str, sizes: list[int], repeats: int, problem_name: str = "levy-mixed"
) -> dict[int, tuple[float, float]]:
    """Median wall and CPU seconds per suggestion with about n finished runs, as in a live sweep.

    The runs are random points of `problem_name` (by default `levy-mixed`, 7 parameters of mixed
    kinds). For each n the method first sees n - repeats runs (one untimed suggestion, as a sweep
    would have made), then one more finished run before each of `repeats` timed suggestions, the
    last one with exactly n runs. CPU time is the process's: on a loaded machine the wall time
    also counts the waits for a core, the CPU time does not.
    """
    (problem,) = all_problems([problem_name])
    space = SearchSpace.from_parameters(_sweepkit_config(problem, "random").parameters)
    out = {}
    for n in sizes:
        rng = random.Random(n)
        points = [space.draw(rng) for _ in range(n)]
        values = [problem(p) for p in points]
        m = METHODS[method](problem, seed=n)
        start = max(0, n - repeats)
        walls, cpus = [], []
        for count in range(start, n + 1):
            _feed(m, points[:count], values[:count])
            t, c = time.perf_counter(), time.process_time()
            m.ask()
            if count > start or start == n:
                walls.append(time.perf_counter() - t)
                cpus.append(time.process_time() - c)
        out[n] = (statistics.median(walls), statistics.median(cpus))
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
    ap.add_argument("--problems", default="", help="comma-separated problem names (default: all of --set)")
    ap.add_argument(
        "--set",
        choices=("all", "tuning", "held-out"),
        default="all",
        help="held-out problems are run only to judge a finished change (docs/bayes.md)",
    )
    ap.add_argument(
        "--seeds",
        type=int,
        default=20,
        help="seeds per (problem, method); fewer cannot separate the methods on the real tasks",
    )
    ap.add_argument(
        "--method-seeds",
        default="",
        help="fewer seeds for some methods, e.g. optuna-gp=5 (Optuna's GP costs about a minute per run)",
    )
    ap.add_argument("--jobs", type=int, default=1, help="worker processes for the runs")
    ap.add_argument("--budget", type=int, default=100, help="evaluations per run")
    ap.add_argument("--checkpoints", default="50,100", help="evaluation counts to judge the runs at")
    ap.add_argument("--quick", action="store_true", help="2 seeds, 3 problems, 20 evaluations, small latency")
    ap.add_argument("--latency-sizes", default="10,100,300,1000")
    ap.add_argument("--latency-repeats", type=int, default=5)
    ap.add_argument("--latency-problem", default="levy-mixed", help="the problem whose random runs are fed")
    ap.add_argument("--no-latency", action="store_true")
    ap.add_argument("--json", default="", help="also write raw results to this file")
    ap.add_argument(
        "--cache",
        default="",
        help="JSON file keeping finished runs of the methods not named in --refresh (and the random "
        "references) between invocations, to iterate on one method without rerunning the others",
    )
    ap.add_argument("--refresh", default="sweepkit-bayes", help="methods never taken from --cache")
    ap.add_argument(
        "--agents",
        default="1",
        help="comma-separated numbers q of agents asking at once: each point is asked for while q-1 "
        "are pending (the parallel mode; e.g. 1,4,16); each q gets its own tables",
    )
    args = ap.parse_args(argv)
    agent_counts = [int(q) for q in args.agents.split(",") if q]
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
    seeds, budget = args.seeds, args.budget
    sizes = [int(s) for s in args.latency_sizes.split(",") if s]
    wanted = [n for n in args.problems.split(",") if n] or None
    if args.quick:
        wanted = wanted or ["branin", "branches", "kridge-diabetes"]
        seeds, budget, sizes = 2, 20, [10, 100]
        args.latency_repeats = 3
    problems = all_problems(wanted) if wanted != ["none"] else []
    if args.set != "all":
        problems = [p for p in problems if p.held_out == (args.set == "held-out")]
    n_seeds = {m: seeds for m in methods}
    for item in (s for s in args.method_seeds.split(",") if s):
        name, _, count = item.partition("=")
        if name in n_seeds:
            n_seeds[name] = min(seeds, int(count))
    checkpoints = sorted({min(int(c), budget) for c in args.checkpoints.split(",") if c} | {budget})
    if args.quick:
        checkpoints = [budget]

    fewer = ", ".join(f"{m} {n}" for m, n in n_seeds.items() if n < seeds)
    print(
        f"# search quality: {len(problems)} problems, {seeds} seeds{f' ({fewer})' if fewer else ''}, "
        f"{budget} evaluations (judged at {', '.join(map(str, checkpoints))})",
        flush=True,
    )
    if skipped:
        print(f"# skipped (not installed): {', '.join(skipped)}", flush=True)
    raw: dict[str, Any] = {"problems": {}, "latency": {}}
    cache: dict[str, Any] = {}
    if args.cache and Path(args.cache).exists():
        cache = json.loads(Path(args.cache).read_text())
    refresh = {m for m in args.refresh.split(",") if m}

    def save() -> None:
        if args.cache:
            tmp = Path(args.cache + ".tmp")
            tmp.write_text(json.dumps(cache))
            tmp.replace(args.cache)

    # Seed by seed, so that an interrupted run leaves whole seeds of every problem in the cache.
    todo = [
        (problem.name, m, seed, budget, q)
        for q in agent_counts
        for seed in range(seeds)
        for problem in problems
        for m in methods
        if seed < n_seeds[m]
        and (q == 1 or METHODS[m].parallel)
        and (m in refresh or _key(problem.name, m, seed, budget, q) not in cache)
    ]
    started, last_save = time.perf_counter(), time.perf_counter()
    if args.jobs > 1 and todo:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(args.jobs) as pool:
            for k, (key, result) in enumerate(pool.imap_unordered(_run_star, todo, chunksize=1), 1):
                cache[key] = result
                if time.perf_counter() - last_save > 30:
                    save()
                    last_save = time.perf_counter()
                    print(f"# {k}/{len(todo)} runs ({time.perf_counter() - started:.0f}s)", flush=True)
    else:
        by_name = {p.name: p for p in problems}
        for k, (name, m, seed, _, q) in enumerate(todo, 1):
            cache[_key(name, m, seed, budget, q)] = run_one(by_name[name], m, seed, budget, q)
            if time.perf_counter() - last_save > 30:
                save()
                last_save = time.perf_counter()
                print(f"# {k}/{len(todo)} runs ({time.perf_counter() - started:.0f}s)", flush=True)
    save()

    for q in agent_counts:
        q_methods = [m for m in methods if q == 1 or METHODS[m].parallel]
        if len(agent_counts) > 1 or q > 1:
            print(
                f"\n## {q} agent{'s' if q > 1 else ''} at once ({q - 1} runs pending at each ask)", flush=True
            )
        _report(problems, q_methods, n_seeds, budget, q, checkpoints, cache, save, raw)
    if not args.no_latency and sizes:
        print()
        lat = {m: latency(m, sizes, args.latency_repeats, args.latency_problem) for m in methods}
        raw["latency"] = {m: {str(k): v for k, v in d.items()} for m, d in lat.items()}
        print_latency_table(lat, sizes, args.latency_problem)
    if args.json:
        Path(args.json).write_text(json.dumps(raw, indent=1))
    return 0


def _report(
    problems: list[Problem],
    methods: list[str],
    n_seeds: dict[str, int],
    budget: int,
    q: int,
    checkpoints: list[int],
    cache: dict[str, Any],
    save: Any,
    raw: dict[str, Any],
) -> None:
    """The quality tables and verdicts of the runs with ``q`` agents at once."""
    regrets: dict[int, dict[str, dict[str, list[float]]]] = {c: {} for c in checkpoints}
    seconds: dict[str, list[float]] = {m: [] for m in methods}
    raw.setdefault("regrets", {})[q] = regrets
    for problem in problems:
        ref_key = f"{problem.name}|reference"
        if ref_key not in cache:
            cache[ref_key] = random_reference(problem, 300 if problem.real else 2000)
            save()
        ref = cache[ref_key]
        results = {
            m: [cache[_key(problem.name, m, seed, budget, q)] for seed in range(n_seeds[m])] for m in methods
        }
        best_seen = min(min(ref), *(min(true) for runs in results.values() for _, true, _ in runs))
        opt = problem.sign * problem.optimum if problem.optimum is not None else best_seen
        median = statistics.median(ref)
        scale = median - opt if median > opt else 1.0
        for c in checkpoints:
            regrets[c][problem.name] = {
                m: [regret_at(obs, true, c, opt, scale) for obs, true, _ in runs]
                for m, runs in results.items()
            }
        for m, runs in results.items():
            seconds[m].extend(t for _, _, ts in runs for t in ts)
        raw["problems"][f"{problem.name}|q{q}"] = {
            "optimum": opt,
            "random_median": median,
            "held_out": problem.held_out,
            "observed": {m: [obs for obs, _, _ in runs] for m, runs in results.items()},
            "true": {m: [true for _, true, _ in runs] for m, runs in results.items()},
        }

    held_out = {p.name for p in problems if p.held_out}
    for c in checkpoints:
        if not regrets[c]:
            continue
        print()
        title = f"after {c} evaluations" + (f", {q} agents at once" if q > 1 else "")
        print_quality_table(regrets[c], methods, title=title, held_out=held_out)
        for other in ("random", "optuna-gp"):
            if other in methods and SUBJECT in methods:
                print()
                print_verdicts(regrets[c], SUBJECT, other)
    if any(seconds.values()):
        print()
        print(
            "mean seconds per suggestion during the runs: "
            + ", ".join(f"{m} {statistics.mean(s) * 1000:.0f} ms" for m, s in seconds.items() if s)
        )


def _standard_error(values: list[float]) -> float:
    """The standard error of the mean (NaN for a single value: it has none)."""
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else math.nan


def _cell(mean: float, error: float) -> str:
    return f"{mean:.3f} +- {error:.3f}" if math.isfinite(error) else f"{mean:.3f} +-   n/a"


def _mean_row(regrets: dict[str, dict[str, list[float]]], names: list[str], m: str) -> tuple[float, float]:
    """Mean over problems of the per-problem means, and its standard error (problems independent)."""
    means = [statistics.mean(regrets[n][m]) for n in names]
    errors = [_standard_error(regrets[n][m]) for n in names]
    return statistics.mean(means), math.sqrt(sum(e * e for e in errors)) / len(names)


def print_quality_table(
    regrets: dict[str, dict[str, list[float]]],
    methods: list[str],
    title: str = "after the budget",
    held_out: set[str] | frozenset[str] = frozenset(),
) -> None:
    names = list(regrets)
    width = max([22] + [len(p) + 4 for p in names])
    cell = 19
    print(
        f"Normalised regret {title} (mean over seeds +- standard error; "
        "0 = optimum, 1 = median random draw; * = held out)"
    )
    print(f"| {'problem':<{width}} | " + " | ".join(f"{m:>{cell}}" for m in methods) + " |")
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (cell + 1) + ":" for _ in methods) + "|")
    ranks: dict[str, list[float]] = {m: [] for m in methods}
    for name, by_method in regrets.items():
        row = {m: statistics.mean(by_method[m]) for m in methods}
        order = sorted(methods, key=lambda m: row[m])
        for m in methods:
            tied = [i for i, o in enumerate(order) if abs(row[o] - row[m]) < 1e-12]
            ranks[m].append(1 + statistics.mean(tied))
        best = min(row.values())
        cells = []
        for m in methods:
            text = _cell(row[m], _standard_error(by_method[m]))
            cells.append(f"**{text}**" if row[m] == best else text)
        label = name + (" *" if name in held_out else "")
        print(f"| {label:<{width}} | " + " | ".join(f"{c:>{cell}}" for c in cells) + " |")
    groups = [("**mean**", names)]
    tuned = [n for n in names if n not in held_out]
    if held_out and tuned and len(tuned) < len(names):
        groups += [("mean, tuning set", tuned), ("mean, held out *", [n for n in names if n in held_out])]
    for label, group in groups:
        cells = []
        stats = {m: _mean_row(regrets, group, m) for m in methods}
        best = min(v for v, _ in stats.values())
        for m in methods:
            text = _cell(*stats[m])
            cells.append(f"**{text}**" if stats[m][0] == best else text)
        print(f"| {label:<{width}} | " + " | ".join(f"{c:>{cell}}" for c in cells) + " |")
    rank_row = {m: statistics.mean(v) for m, v in ranks.items()}
    print(f"| {'**avg rank**':<{width}} | " + " | ".join(f"{rank_row[m]:>{cell}.2f}" for m in methods) + " |")
    if SUBJECT in methods and "optuna-gp" in methods:
        a, b = _mean_row(regrets, names, SUBJECT)[0], _mean_row(regrets, names, "optuna-gp")[0]
        if b > 0:
            print(f"{SUBJECT} mean / optuna-gp mean: {a / b:.2f}")


def print_verdicts(
    regrets: dict[str, dict[str, list[float]]], method: str = SUBJECT, other: str = "random"
) -> None:
    """Per problem: is ``method`` better than ``other``, worse, or apart by less than the seeds' noise?

    "Within noise" means the two means differ by less than twice the standard error of their
    difference (about a 95% interval).
    """
    if not regrets or any(method not in r or other not in r for r in regrets.values()):
        return
    verdicts: dict[str, list[str]] = {"better": [], "within noise": [], "worse": [], "not judged": []}
    for name, by_method in regrets.items():
        a, b = by_method[method], by_method[other]
        diff = statistics.mean(a) - statistics.mean(b)
        if min(len(a), len(b)) < 2:  # no standard error: no verdict
            verdicts["not judged"].append(f"{name} ({diff:+.3f}, one seed)")
            continue
        noise = 2.0 * math.hypot(_standard_error(a), _standard_error(b))
        if abs(diff) <= noise:
            kind = "within noise"
        else:
            kind = "better" if diff < 0 else "worse"
        verdicts[kind].append(f"{name} ({diff:+.3f} +- {noise / 2:.3f})")
    print(f"{method} against {other} (difference of mean regret +- its standard error; noise = 2 of them):")
    for kind, names in verdicts.items():
        if names or kind != "not judged":
            print(f"  {kind}: {len(names)}" + (f" - {', '.join(names)}" if names else ""))


def print_against_random(regrets: dict[str, dict[str, list[float]]], method: str = SUBJECT) -> None:
    print_verdicts(regrets, method, "random")


def print_latency_table(
    lat: dict[str, dict[int, tuple[float, float]]], sizes: list[int], problem: str
) -> None:
    print(f"Median milliseconds per suggestion with n finished runs of {problem} (wall / CPU)")
    print("| method         | " + " | ".join(f"{'n=' + str(n):>15}" for n in sizes) + " |")
    print("|----------------|" + "|".join("-" * 16 + ":" for _ in sizes) + "|")
    for m, d in lat.items():
        cells = [f"{d[n][0] * 1000:.1f} / {d[n][1] * 1000:.1f}" for n in sizes]
        print(f"| {m:<14} | " + " | ".join(f"{c:>15}" for c in cells) + " |")


if __name__ == "__main__":
    sys.exit(main())
