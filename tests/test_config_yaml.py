"""Reading config files: YAML 1.2 numbers, `!!float`, duplicate keys, CRLF, anchors, JSON, bad files."""

from __future__ import annotations

import json
import time

import pytest

from sweepkit.sweep_config import ConfigError, load_config, load_config_text
from sweepkit.sweep_config.problems import Collector
from sweepkit.sweep_config.reader import read_yaml


def read(text: str):
    report = Collector("t.yaml")
    doc = read_yaml(text, report)
    assert doc is not None, report.errors
    return doc.data, report


def value(scalar: str):
    data, _ = read(f"v: {scalar}\n")
    return data["v"]


@pytest.mark.parametrize(
    "scalar, expected",
    [
        ("1e-5", 1e-5),
        ("-2E3", -2000.0),
        (".5e-3", 0.0005),
        ("+1.0e5", 100000.0),
        ("1.e3", 1000.0),
        ("9e-6", 9e-6),
        ("1.0e-1", 0.1),
        ("-.5", -0.5),
        ("1_000.5", 1000.5),
        ("!!float 1e-5", 1e-5),
        ("!!float 3", 3.0),
        ("!!float 0.00001", 1e-5),
    ],
)
def test_floats_yaml_1_2(scalar, expected):
    got = value(scalar)
    assert isinstance(got, float) and got == expected


@pytest.mark.parametrize(
    "scalar, expected",
    [
        ("3", 3),
        ("-7", -7),
        ("5_000", 5000),  # YAML 1.1 as W&B reads it
        ("0x10", 16),
        ("'1e-5'", "1e-5"),
        ('"3"', "3"),
        ("1e5e", "1e5e"),
        ("1.2.3", "1.2.3"),
        ("e5", "e5"),
        ("2024-01-01", "2024-01-01"),  # dates stay strings
        ("yes", True),  # YAML 1.1 booleans, as W&B reads them
        ("no", False),
        ("on", True),
        ("Off", False),
        ("~", None),
        ("null", None),
    ],
)
def test_other_scalars(scalar, expected):
    got = value(scalar)
    assert got == expected and type(got) is type(expected)


def test_bad_explicit_tags_are_clear_errors():
    for text in ("v: !!float abc\n", "v: !!int x\n", "v: !!bool maybe\n", "v: !!timestamp nope\n"):
        report = Collector("t.yaml")
        assert read_yaml(text, report) is None
        assert len(report.errors) == 1
        assert str(report.errors[0]).startswith("t.yaml:1: not valid YAML: cannot read")


def test_duplicate_keys_name_key_and_both_lines():
    text = "method: grid\nparameters:\n  x:\n    values: [1]\n    values: [2]\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, filename="sweep.yaml")
    assert str(caught.value) == (
        "sweep.yaml:5: parameters.x.values: key 'values' appears twice in one mapping (lines 4 and 5); "
        "YAML keeps only the last, so remove one"
    )


def test_duplicate_top_level_keys_and_several_at_once():
    text = "method: grid\nmethod: random\nparameters:\n  x: {value: 1, value: 2}\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text, filename="s.yaml")
    assert [p.path for p in caught.value.problems] == ["method", "parameters.x.value"]
    assert "lines 1 and 2" in str(caught.value)


def test_merge_keys_are_not_duplicates():
    text = "base: &b {min: 1, max: 5}\n"
    cfg_text = "method: random\nparameters:\n  a:\n    <<: &b {min: 1, max: 5}\n    max: 9\n"
    assert read(text)[0] == {"base": {"min": 1, "max": 5}}
    cfg = load_config_text(cfg_text)
    assert cfg.parameters["a"] == {"distribution": "int_uniform", "min": 1, "max": 9}


def test_anchors_and_aliases_load():
    text = """\
method: grid
parameters:
  a: &choice
    values: [1, 2]
  b: *choice
  c:
    values: &vals [x, y]
  d:
    values: *vals
"""
    cfg = load_config_text(text)
    assert cfg.parameters["b"] == cfg.parameters["a"] == {"distribution": "categorical", "values": [1, 2]}
    assert cfg.parameters["d"]["values"] == ["x", "y"]


def test_crlf_files_load_with_right_lines(tmp_path):
    path = tmp_path / "win.yaml"
    path.write_bytes(b"method: random\r\nparameters:\r\n  lr:\r\n    min: 1e-5\r\n    max: abc\r\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:5: parameters.lr.max: expected a number, got 'abc'"
    path.write_bytes(b"method: random\r\nparameters:\r\n  lr:\r\n    min: 1e-5\r\n    max: 1e-3\r\n")
    assert load_config(path).parameters["lr"] == {"distribution": "uniform", "min": 1e-5, "max": 1e-3}


def test_bom_and_utf16(tmp_path):
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfmethod: grid\nparameters:\n  x: {value: 1}\n")
    assert load_config(path).method == "grid"
    path.write_bytes("method: grid\nparameters:\n  x: {value: 1}\n".encode("utf-16"))
    assert load_config(path).method == "grid"


def test_recursive_alias_is_an_error():
    with pytest.raises(ConfigError) as caught:
        load_config_text("method: grid\nparameters:\n  x: &a\n    values: [*a]\n")
    assert "refers to itself" in str(caught.value)


def test_alias_bomb_is_refused_quickly():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append("method: grid\nparameters:\n  p:\n    values: *a9")
    start = time.perf_counter()
    with pytest.raises(ConfigError) as caught:
        load_config_text("\n".join(lines) + "\n")
    assert "too large" in str(caught.value)
    assert time.perf_counter() - start < 30  # generous: a hang is the failure this guards against


def test_json_files_have_lines(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text(json.dumps({"method": "grid", "parameters": {"x": {"values": 3}}}, indent=2))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:5: parameters.x.values: expected a list, got 3")


def test_json_with_tabs_falls_back_to_json(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text('{\n\t"method": "grid",\n\t"parameters": {"x": {"values": [1e-5, 2]}}\n}\n')
    assert load_config(path).parameters["x"]["values"] == [1e-5, 2]
    path.write_text('{\n\t"method": "grid",\n\t"method": "random"\n}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "'method' appears twice" in str(caught.value)


def test_broken_json_names_the_line(tmp_path):
    path = tmp_path / "sweep.json"
    path.write_text('{\n\t"method": "grid",\n\t"parameters": \n}\n')
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:4: not valid JSON")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "the config is empty"),
        (b"# only a comment\n", "the config is empty"),
        (b"- a\n- b\n", "expected a mapping of sweep settings at the top level, got a list"),
        (b"just text\n", "expected a mapping of sweep settings at the top level, got 'just text'"),
        (b"\x00\x01\x02", "not valid YAML"),
        (b"\xff\xfe\xfd\x80garbage", "not UTF-16 text"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\xff\xff", "not UTF-8 text"),
        (b"a: [1, 2\n", "not valid YAML"),
        (b"a: b: c\n", "not valid YAML"),
        (b"---\na: 1\n---\nb: 2\n", "not valid YAML: expected a single document"),
        (b"\t- x\n", "not valid YAML"),
        (b"? [a, b]\n: 1\n", "not valid YAML"),
        (b"x: !!python/object:os.system {}\n", "not valid YAML"),
        (b"[" * 5000, "not valid YAML"),
    ],
)
def test_unusable_files_are_one_clear_error(tmp_path, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert len(caught.value.problems) == 1
    assert expected in str(caught.value)
    assert str(caught.value).startswith(str(path))


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "nope.yaml")
    assert str(caught.value) == f"{tmp_path / 'nope.yaml'}: cannot read: no such file"
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert "it is a directory" in str(caught.value)


def test_filename_overrides_the_cited_name(tmp_path):
    path = tmp_path / "x.yaml"
    path.write_text("method: nope\nparameters:\n  x: {value: 1}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(str(path), filename="sweep.yaml")
    assert str(caught.value).startswith("sweep.yaml:1: method: 'nope'")
    path.write_text("method: grid\nparameters:\n  x: {value: 1}\n")
    assert load_config(str(path), filename="sweep.yaml").source == "sweep.yaml"
    assert load_config(path).source == str(path)


def test_a_long_written_out_list_is_not_an_alias_bomb():
    values = ", ".join(str(i) for i in range(1_000_001))
    cfg = load_config_text(f"method: grid\nparameters:\n  p:\n    values: [{values}]\n")
    assert len(cfg.parameters["p"]["values"]) == 1_000_001
    assert cfg.parameters["p"]["values"][-1] == 1_000_000


def test_alias_bomb_names_where_it_grows_too_large():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    with pytest.raises(ConfigError) as caught:
        load_config_text("\n".join(lines) + "\nmethod: grid\nparameters:\n  p: {values: *a7}\n")
    [problem] = caught.value.problems
    assert problem.message == "too large: expanding its YAML aliases adds more than 1000000 values"
    assert problem.path == "a5[7]" and problem.line == 6  # where the growth passes the limit


def test_aliases_used_a_few_times_are_fine():
    # Random, not grid: 1,000 parameters of 3 values are a grid too large to enumerate.
    text = "method: random\nparameters:\n" + "".join(
        f"  p{i}: {{values: *v}}\n" if i else "  p0: {values: &v [1, 2, 3]}\n" for i in range(1000)
    )
    assert load_config_text(text).parameters["p999"]["values"] == [1, 2, 3]


def test_merge_key_bomb_is_refused():
    lines = ["b0: &b0 {" + ", ".join(f"k{j}: 0" for j in range(100)) + "}"]
    for i in range(1, 12_000):
        lines.append(f"b{i}: &b{i} {{<<: *b{i - 1}, x{i}: 0}}")
    with pytest.raises(ConfigError) as caught:
        load_config_text("\n".join(lines) + "\n")
    [problem] = caught.value.problems
    assert problem.message == "too large: merge keys (<<) copy more than 1000000 values"


def test_too_deep_nesting_is_one_error_with_its_path():
    text = "method: grid\nparameters:\n  p:\n    values:\n      - " + "[" * 120 + "]" * 120 + "\n"
    with pytest.raises(ConfigError) as caught:
        load_config_text(text)
    [problem] = caught.value.problems
    assert problem.message == "nested more than 100 levels deep"
    assert problem.path.startswith("parameters.p.values[0][0][0]")
    assert problem.line == 5


def test_raw_is_the_config_as_read_and_apart_from_a_callers_dict():
    cfg = load_config_text("method: grid\nparameters:\n  x: {values: &v [1, 2]}\n  y: {values: *v}\n")
    assert cfg.raw == {"method": "grid", "parameters": {"x": {"values": [1, 2]}, "y": {"values": [1, 2]}}}
    source = {"method": "grid", "parameters": {"x": {"values": [1, 2]}}}
    cfg = load_config(source)
    source["parameters"]["x"]["values"].append(3)
    assert cfg.raw["parameters"]["x"]["values"] == [1, 2]
