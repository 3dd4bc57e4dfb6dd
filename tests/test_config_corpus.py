"""The real-world corpus: every config INDEX.md calls valid loads, every INVALID one is rejected
with a message naming the offending key, and the caveats that are warned traps are warned."""

from __future__ import annotations

import re

import pytest

from corpus_dir import CORPUS_DIR as CORPUS
from sweepkit.sweep_config import ConfigError, load_config
from sweepkit.sweep_config.schema import full_validator


def _rows() -> list[dict[str, str]]:
    index = CORPUS / "INDEX.md"
    if not index.is_file():
        return []
    rows = []
    for line in index.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or not cells[0].isdigit():
            continue
        rows.append(
            {"file": cells[1].strip("`"), "features": cells[5], "validity": cells[6], "note": cells[7]}
        )
    return rows


ROWS = _rows()
needs_corpus = pytest.mark.skipif(not ROWS, reason=f"corpus not found at {CORPUS} (set SWEEPKIT_CORPUS_DIR)")


def _ids(rows: list[dict[str, str]]) -> list[str]:
    return [r["file"].split("-")[0] for r in rows]


ACCEPTED = [r for r in ROWS if not r["validity"].startswith("INVALID")]
REJECTED = [r for r in ROWS if r["validity"].startswith("INVALID")]


def expected_keys(validity: str) -> list[str]:
    """The key paths an INVALID verdict names, skipping what only YAML 1.1 gets wrong."""
    reason = validity.split("—", 1)[1].strip()
    reason = re.sub(r"\([^)]*\)", lambda m: m.group(0).replace(";", ","), reason)  # no split inside (...)
    keys: list[str] = []
    for clause in reason.split("; "):
        if re.search(r"\(got '[^']*', str\)", clause):
            continue  # `1e-5` read as a string: sweepkit reads it as a number
        if m := re.match(r"(unknown top-level keys|duplicate YAML keys) \[(.*?)\]", clause):
            keys += re.findall(r"'([^']+)'", m.group(2))
        elif clause.startswith("missing "):
            keys.append(clause.split()[1])
        elif m := re.match(r"([A-Za-z_]\w*)\.[\w.]+ missing$", clause):
            keys.append(m.group(1))  # a key missing inside a section that is itself rejected
        elif m := re.match(r"([A-Za-z_][\w.-]*)(:| has | )", clause):
            keys.append(m.group(1))
    return keys


def test_corpus_index_parsed():
    if not ROWS:
        pytest.skip(f"corpus not found at {CORPUS}")
    assert len(ROWS) >= 60
    assert ACCEPTED and REJECTED
    assert {r["file"] for r in ROWS} <= {p.name for p in CORPUS.iterdir()}


def test_expected_keys_parser():
    v = "INVALID — unknown top-level keys ['config', 'num_trials']; missing method"
    assert expected_keys(v) == ["config", "num_trials", "method"]
    v = "INVALID — metric.goal 'maximum' not minimize/maximize; learning_rate: min must be a number (got '1e-6', str)"
    assert expected_keys(v) == ["metric.goal"]
    v = "INVALID — duplicate YAML keys ['values'] (PyYAML keeps last; strict parsers reject)"
    assert expected_keys(v) == ["values"]
    v = "INVALID — missing method; scheduler has unknown keys ['job']; scheduler.engine missing"
    assert expected_keys(v) == ["method", "scheduler", "scheduler"]


@needs_corpus
@pytest.mark.parametrize("row", ACCEPTED, ids=_ids(ACCEPTED))
def test_accepted_configs_load(row):
    cfg = load_config(CORPUS / row["file"], filename=row["file"])
    assert cfg.parameters
    assert cfg.method in ("grid", "random", "bayes")
    # the normalized form loads again, unchanged
    again = load_config(cfg.data)
    assert again.data == cfg.data
    # and it satisfies the published JSON Schema
    assert not list(full_validator().iter_errors(cfg.data))


@needs_corpus
@pytest.mark.parametrize("row", ACCEPTED, ids=_ids(ACCEPTED))
def test_accepted_raw_configs_satisfy_published_schema(row):
    cfg = load_config(CORPUS / row["file"])
    errors = [e.message for e in full_validator().iter_errors(cfg.raw)]
    assert errors == []


@needs_corpus
@pytest.mark.parametrize("row", REJECTED, ids=_ids(REJECTED))
def test_invalid_configs_rejected_naming_the_key(row):
    with pytest.raises(ConfigError) as caught:
        load_config(CORPUS / row["file"], filename=row["file"])
    message = str(caught.value)
    keys = expected_keys(row["validity"])
    assert keys, row["validity"]
    for key in keys:
        assert key in message, f"{key!r} not named in:\n{message}"
    for problem in caught.value.problems:
        assert problem.severity == "error"
        assert problem.file == row["file"]
        assert str(problem).startswith(row["file"])
        assert "Traceback" not in str(problem)


# caveats that sweepkit warns about: (text in the INDEX caveat, text expected in a warning)
WARNED_CAVEATS = {
    "duplicate entries in values": "duplicate value",
    "command has no ${args*} macro": "no ${args...} macro",
    "legacy log_uniform takes exponents": "look like raw values",
}


def _caveat_rows() -> list[dict[str, str]]:
    return [r for r in ROWS if "caveat" in r["validity"] and any(c in r["validity"] for c in WARNED_CAVEATS)]


CAVEATS = _caveat_rows()


@needs_corpus
@pytest.mark.parametrize("row", CAVEATS, ids=_ids(CAVEATS))
def test_caveats_that_are_traps_are_warned(row):
    cfg = load_config(CORPUS / row["file"])
    warnings = [str(w) for w in cfg.warnings]
    for caveat, expected in WARNED_CAVEATS.items():
        if caveat not in row["validity"]:
            continue
        assert any(expected in w for w in warnings), (caveat, warnings)
        # the parameter the caveat names is the one warned about
        for name in re.findall(r"([\w.]+): (?:duplicate entries|legacy log_uniform)", row["validity"]):
            if caveat in ("duplicate entries in values", "legacy log_uniform takes exponents"):
                assert any(name in w and expected in w for w in warnings), (name, warnings)


PLAIN_VALID = [r for r in ROWS if r["validity"] == "valid"]


@needs_corpus
@pytest.mark.parametrize("row", PLAIN_VALID, ids=_ids(PLAIN_VALID))
def test_plain_valid_configs_have_no_warnings(row):
    """...but the one for a config with neither program nor command (a function agent's)."""
    cfg = load_config(CORPUS / row["file"])
    expected = [] if "program" in cfg.data or "command" in cfg.data else ["program"]
    assert [w.path for w in cfg.warnings] == expected, [str(w) for w in cfg.warnings]
    if expected:
        assert "no-program" in row["features"]


@needs_corpus
def test_parser_dependent_configs_read_sci_notation_as_numbers():
    rows = [r for r in ROWS if r["validity"].startswith("PARSER-DEPENDENT")]
    assert rows
    for row in rows:
        cfg = load_config(CORPUS / row["file"])
        named = re.findall(r"([\w.]+): min must be a number \(got '([^']+)'", row["validity"])
        assert named, row["validity"]
        for name, text in named:
            leaf = _find_leaf(cfg.parameters, name)
            assert leaf["min"] == float(text)
            assert isinstance(leaf["min"], float)


def _find_leaf(parameters: dict, flat: str) -> dict:
    if flat in parameters:
        return parameters[flat]
    for name, spec in parameters.items():
        if "parameters" in spec and flat.startswith(name + "."):
            return _find_leaf(spec["parameters"], flat[len(name) + 1 :])
    raise KeyError(flat)


@needs_corpus
def test_source_sidecars_are_not_configs():
    sidecars = list(CORPUS.glob("*.source.txt"))
    assert sidecars
    for sidecar in sidecars:
        json_twin = CORPUS / sidecar.name.replace(".source.txt", ".json")
        assert json_twin.is_file()
