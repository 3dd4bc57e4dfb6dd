"""The one-pass YAML builder against PyYAML's own loading: same data, same errors, right lines.

PyYAML's safe loading with sweepkit's resolvers (``get_single_data`` on the same loader class) is
the oracle for the data and for whether a text loads at all; the lines are checked against the
nodes PyYAML composes. The builder runs on both parsers, libyaml's and the pure-Python one.
"""

from __future__ import annotations

import math
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sweepkit.sweep_config import reader
from sweepkit.sweep_config.jsonsafe import MAX_DEPTH
from sweepkit.sweep_config.lines import LineMap
from sweepkit.sweep_config.yaml_builder import build

PROPERTY = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _loader_on(base: type) -> type:
    """sweepkit's loader class, on the parser of ``base``."""
    ours = reader.yaml_loader_class()

    class Loader(base):  # type: ignore[misc, valid-type]
        yaml_implicit_resolvers = ours.yaml_implicit_resolvers

    return Loader


PARSERS = [pytest.param(yaml.SafeLoader, id="python")]
if yaml.__with_libyaml__:
    PARSERS.append(pytest.param(yaml.CSafeLoader, id="libyaml"))


def oracle(loader_class: type, text: str):
    """PyYAML's own loading: the data, or the error it raises (`!!float abc` raises ValueError)."""
    try:
        return loader_class(text).get_single_data(), None
    except Exception as exc:
        return None, exc


def ours(loader_class: type, text: str):
    try:
        return build(loader_class(text)), None
    except yaml.YAMLError as exc:
        return None, exc


def shape(value, seen=()):
    """A comparable form of loaded data: order kept, NaN equal to NaN, cycles marked."""
    if isinstance(value, (dict, list, tuple, set)):
        if id(value) in seen:
            return "<cycle>"
        seen = (*seen, id(value))
    if isinstance(value, dict):
        return ("map", [(shape(k, seen), shape(v, seen)) for k, v in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [shape(v, seen) for v in value])
    if isinstance(value, set):
        return ("set", sorted(map(repr, value)))
    if isinstance(value, float) and math.isnan(value):
        return ("float", "nan")
    return (type(value).__name__, repr(value))


def node_lines(node, path=(), out=None, seen=None):
    """Key path -> line of every key and item, from PyYAML's composed nodes (aliases not followed)."""
    out = {} if out is None else out
    seen = set() if seen is None else seen
    if id(node) in seen:
        return out
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[path + (index,)] = item.start_mark.line + 1
            node_lines(item, path + (index,), out, seen)
    elif isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            node_lines(value_node, path + (key,), out, seen)
    return out


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False),
    st.text(string.printable, max_size=12),
    st.sampled_from(["1e-5", "yes", "0x10", "010", "5_000", "1:30", ".inf", "~", "2024-01-01", "=", "<<"]),
)
documents = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=5),
        st.dictionaries(st.text(string.ascii_letters + "_.-", min_size=1, max_size=8), inner, max_size=5),
    ),
    max_leaves=30,
)


@pytest.mark.parametrize("base", PARSERS)
@PROPERTY
@given(data=documents, flow=st.sampled_from([None, False, True]))
def test_dumped_data_reads_back_with_the_lines_pyyaml_gives(base, data, flow):
    loader_class = _loader_on(base)
    text = yaml.safe_dump(data, default_flow_style=flow, sort_keys=False, width=40)
    expected, _ = oracle(loader_class, text)
    built, error = ours(loader_class, text)
    assert error is None
    assert shape(built.data) == shape(expected)
    node = loader_class(text).get_single_node()
    for path, line in node_lines(node).items():
        assert built.lines.nearest(path) == line, (path, text)


yamlish = st.text(alphabet=st.sampled_from(list("{}[]:,-?&*!|>'\"#<\n\t .0123456789eE+abxy_")), max_size=120)
snippets = st.lists(
    st.sampled_from(
        [
            "a: &x {k: 1}\n",
            "b: *x\n",
            "c:\n  <<: *x\n  k: 2\n",
            "d: !!set {p, q}\n",
            "e: !!omap [{o: 1}, {p: 2}]\n",
            "f: !!pairs [{o: 1}, {o: 2}]\n",
            "g: !!omap [{o: 1, p: 2}]\n",
            "h: !!str [1]\n",
            "i: !!seq {a: 1}\n",
            "j: !foo 1\n",
            "k: [&y 1, *y]\n",
            "l: *nope\n",
            "m: &x 2\n",
            "n: {[1]: 2}\n",
            "o: {=: 1}\n",
            "p: =\n",
            "q: !!binary aGk=\n",
            "r: !!float abc\n",
            "s: {<<: [{t: 1}, {u: 2}], v: 3}\n",
            "t: {<<: 1}\n",
            "u: &r [*r]\n",
            "v: 1\nv: 2\n",
            "w: !!timestamp 2024-01-01\n",
            "x: [a, b\n",
            "---\ny: 1\n",
        ]
    ),
    max_size=6,
)


def _agree(loader_class: type, text: str) -> None:
    expected, expected_error = oracle(loader_class, text)
    built, error = ours(loader_class, text)
    if built is not None and built.refused is not None:  # our limits, which PyYAML does not have
        assert f"{MAX_DEPTH} levels" in built.refused[2]
        return
    assert (error is None) == (expected_error is None), (text, error, expected_error)
    if error is None:
        assert shape(built.data) == shape(expected), text


@pytest.mark.parametrize("base", PARSERS)
@PROPERTY
@given(text=yamlish)
def test_yamlish_text_loads_as_pyyaml_loads_it(base, text):
    _agree(_loader_on(base), text)


@pytest.mark.parametrize("base", PARSERS)
@PROPERTY
@given(parts=snippets)
def test_anchors_merges_and_tags_load_as_pyyaml_loads_them(base, parts):
    _agree(_loader_on(base), "".join(parts))


def test_aliases_share_lines_with_what_they_name():
    text = "a: &x\n  k: 1\n  j:\n    - 2\nb: *x\nc: [*x]\nd:\n  <<: *x\n  k: 3\n"
    built = build(reader.yaml_loader_class()(text))
    lines: LineMap = built.lines
    assert lines.nearest(("b",)) == 5  # the alias's own key
    assert lines.nearest(("b", "j", 0)) == 4  # inside it: where the aliased mapping is written
    assert lines.nearest(("c", 0)) == 6
    assert lines.nearest(("d", "j")) == 3  # merged in: where it is written
    assert lines.nearest(("d", "k")) == 9  # the mapping's own key wins


def test_repeated_keys_are_listed_with_both_lines():
    built = build(reader.yaml_loader_class()("a:\n  k: 1\n  k: 2\n  k: 3\n"))
    assert built.duplicates == [(("a", "k"), "k", 2, 3), (("a", "k"), "k", 2, 4)]
    assert built.data == {"a": {"k": 3}}


def test_texts_kept_only_where_the_value_prints_differently():
    built = build(reader.yaml_loader_class()("c: [1e-5, 3, 0.5, yes, '1e-5', 0x10, ~]\n"))
    assert built.texts == {("c", 0): "1e-5", ("c", 3): "yes", ("c", 5): "0x10", ("c", 6): "~"}
