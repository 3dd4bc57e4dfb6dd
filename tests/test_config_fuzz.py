"""Fuzzing the loader: whatever comes in, load_config returns a SweepConfig or raises ConfigError."""

from __future__ import annotations

import json
import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpus_dir import CORPUS_DIR as CORPUS
from sweepkit.sweep_config import ConfigError, SweepConfig, kinds, load_config, load_config_text

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# a small built-in sample, so the mutation fuzz runs even without the corpus
BUILTIN = [
    "method: bayes\nmetric:\n  name: loss\n  goal: minimize\nparameters:\n  lr:\n    min: 1e-5\n    max: 0.1\n"
    "  opt:\n    parameters:\n      kind:\n        values: [adam, sgd]\nearly_terminate:\n  type: hyperband\n"
    "  min_iter: 3\ncommand:\n  - ${env}\n  - ${interpreter}\n  - ${program}\n  - ${args}\n",
    "method: grid\nparameters:\n  a: &v\n    values: [1, 2, 3.0]\n  b: *v\n  c:\n    distribution: q_uniform\n"
    "    min: 0\n    max: 1\n    q: 0.25\n",
]


def _samples() -> list[str]:
    texts = list(BUILTIN)
    if CORPUS.is_dir():
        for path in sorted(CORPUS.iterdir()):
            if path.suffix in (".yaml", ".json"):
                texts.append(path.read_text(encoding="utf-8"))
    return texts


SAMPLES = _samples()


def check(source, **kwargs) -> SweepConfig | None:
    """The property: a SweepConfig whose normalized form is JSON and loads again unchanged, or a
    ConfigError with at least one error problem and a printable message."""
    try:
        cfg = load_config_text(source, **kwargs) if isinstance(source, str) else load_config(source, **kwargs)
    except ConfigError as err:
        assert err.problems
        assert all(p.severity == "error" for p in err.problems)
        assert str(err)
        return None
    assert isinstance(cfg, SweepConfig)
    assert json.loads(json.dumps(cfg.data, allow_nan=False)) == cfg.data
    assert load_config(cfg.data).data == cfg.data
    return cfg


@FUZZ
@given(st.text(max_size=400))
def test_random_text(text):
    check(text)


@FUZZ
@given(
    st.text(
        alphabet=st.sampled_from(list("{}[]:,-?&*!|>'\"#%@`\n\t .0123456789eE+abmnpqrstv_")), max_size=200
    )
)
def test_yamlish_text(text):
    check(text)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["x.yaml", "x.json", "x"]))
def test_random_bytes(tmp_path_factory, data, name):
    path = tmp_path_factory.mktemp("fuzz") / name
    path.write_bytes(data)
    check(path)


def _mutate(text: str, ops: list[tuple[int, int, int, str]]) -> str:
    lines = text.splitlines(keepends=True) or [""]
    for op, i, j, chars in ops:
        i %= max(len(lines), 1)
        j %= max(len(lines), 1)
        if op == 0 and len(lines) > 1:  # delete a line
            del lines[i]
        elif op == 1:  # duplicate a line
            lines.insert(i, lines[i])
        elif op == 2:  # swap two lines
            lines[i], lines[j] = lines[j], lines[i]
        elif op == 3:  # change characters
            line = lines[i]
            k = j % max(len(line), 1)
            lines[i] = line[:k] + chars + line[k + 1 :]
        else:  # re-indent a line
            lines[i] = " " * (j % 6) + lines[i].lstrip(" ")
    return "".join(lines)


@FUZZ
@given(
    st.sampled_from(range(len(SAMPLES))),
    st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 10_000), st.integers(0, 10_000), st.text(max_size=3)),
        min_size=1,
        max_size=6,
    ),
)
def test_mutated_configs(index, ops):
    check(_mutate(SAMPLES[index], ops))


KEYS = st.sampled_from(
    [
        "method",
        "parameters",
        "metric",
        "early_terminate",
        "command",
        "program",
        "run_cap",
        "seed",
        "name",
        "value",
        "values",
        "probabilities",
        "min",
        "max",
        "q",
        "mu",
        "sigma",
        "a",
        "b",
        "distribution",
        "goal",
        "impute",
        "target",
        "type",
        "min_iter",
        "max_iter",
        "s",
        "eta",
        "strict",
        "lr",
        "x.y",
        "bad key",
    ]
)
LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(-10, 10),
    st.text(max_size=10),
    st.sampled_from(["grid", "random", "bayes", "minimize", "maximize", "hyperband", "worst", "${args}"]),
    st.sampled_from(list(kinds())),
    st.binary(max_size=3),
)
TREES = st.recursive(
    LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=3).map(tuple),
        st.dictionaries(st.one_of(KEYS, st.integers(0, 3)), inner, max_size=5),
    ),
    max_leaves=12,
)


@FUZZ
@given(st.dictionaries(KEYS, TREES, max_size=6))
def test_random_nested_dicts(data):
    check(data)


NUMBER = st.sampled_from([-1, 0, 1, 2, 8, 256, -0.5, 0.0, 1e-5, 0.5, 1.0, 2.5, 1e3])
VALUES = st.lists(st.sampled_from([1, 1.0, "a", None, True, [1], 0.25]), max_size=4)
PROBABILITIES = st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0, -0.1]), max_size=4)
SPEC_KEYS = st.sampled_from(
    ["distribution", "min", "max", "q", "mu", "sigma", "a", "b", "value", "values", "zz"]
)
LEAF_SPECS = st.one_of(
    st.fixed_dictionaries(
        {"distribution": st.sampled_from(list(kinds())), "min": NUMBER, "max": NUMBER}, optional={"q": NUMBER}
    ),
    st.fixed_dictionaries({"min": NUMBER, "max": NUMBER}),
    st.fixed_dictionaries({"values": VALUES}, optional={"probabilities": PROBABILITIES}),
    st.fixed_dictionaries({"value": NUMBER}),
    st.fixed_dictionaries(
        {
            "distribution": st.sampled_from(
                ["normal", "q_normal", "log_normal", "q_log_normal", "beta", "q_beta"]
            )
        },
        optional={"mu": NUMBER, "sigma": NUMBER, "a": NUMBER, "b": NUMBER, "q": NUMBER},
    ),
    st.dictionaries(SPEC_KEYS, NUMBER, max_size=3),
)
SPECS = st.recursive(
    LEAF_SPECS,
    lambda inner: st.dictionaries(st.sampled_from(["p", "q", "r.s", "t"]), inner, min_size=1, max_size=3).map(
        lambda group: {"parameters": group}
    ),
    max_leaves=4,
)


@FUZZ
@given(
    st.sampled_from(["grid", "random", "bayes"]),
    st.dictionaries(st.sampled_from(["lr", "bs", "opt", "opt.lr"]), SPECS, min_size=1, max_size=4),
    st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"name": st.just("loss")}, optional={"goal": st.sampled_from(["minimize", "maximize", "max"])}
        ),
    ),
    st.one_of(
        st.none(),
        st.fixed_dictionaries(
            {"type": st.just("hyperband")},
            optional={
                "min_iter": st.integers(-1, 10),
                "max_iter": st.integers(-1, 100),
                "s": st.integers(-1, 5),
                "eta": NUMBER,
            },
        ),
    ),
)
def test_plausible_configs(method, parameters, metric, early_terminate):
    config = {"method": method, "parameters": parameters}
    if metric is not None:
        config["metric"] = metric
    if early_terminate is not None:
        config["early_terminate"] = early_terminate
    cfg = check(config)
    if cfg is None:
        return
    # every leaf of a valid config has its distribution, and grid only holds grid kinds
    for spec in _leaves(cfg.parameters):
        assert spec["distribution"] in kinds()
        if method == "grid":
            assert spec["distribution"] in ("constant", "categorical", "int_uniform", "q_uniform")
        if "min" in spec and "max" in spec:
            assert spec["min"] < spec["max"]
        if "probabilities" in spec:
            assert math.isclose(sum(spec["probabilities"]), 1.0, abs_tol=1e-6)


def _leaves(parameters: dict):
    for spec in parameters.values():
        if "parameters" in spec:
            yield from _leaves(spec["parameters"])
        else:
            yield spec
