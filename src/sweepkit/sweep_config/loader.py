"""``load_config``: a file, text or dict in, a validated and filled-in :class:`SweepConfig` out, or a
:class:`ConfigError` listing every problem at once; ``read_config``: the same config only read (as
JSON data, with its text and the line of every key), for a service that validates it."""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

from sweepkit.sweep_config.jsonsafe import json_safe_copy
from sweepkit.sweep_config.model import SweepConfig, SweepSource
from sweepkit.sweep_config.parameters import ParameterChecker
from sweepkit.sweep_config.problems import Collector, ConfigError, Problem, found
from sweepkit.sweep_config.reader import Document, read_json, read_yaml
from sweepkit.sweep_config.rules import (
    check_command,
    check_early_terminate,
    check_grid_size,
    check_metric_needed,
    check_objectives,
    check_runnable_by_program_agents,
    check_scheduler,
)
from sweepkit.sweep_config.schema import check_top_level, definition

MAX_FILE_BYTES = 10 * 1024 * 1024


def load_config(
    source: str | os.PathLike[str] | Mapping[str, Any], *, filename: str | None = None
) -> SweepConfig:
    """Load and validate a sweep config from a YAML/JSON file path or a dict.

    ``filename`` is the name problems cite (default: the path as given; for a dict, none).
    Raises :class:`ConfigError` with every problem found; warnings are kept on the result.
    """
    doc, report, name, text = _document(source, filename)
    return _finish(doc, report, name, text)


def load_config_text(text: str, *, filename: str = "<string>", as_json: bool = False) -> SweepConfig:
    """Load and validate a sweep config from YAML (or, with ``as_json``, JSON) text."""
    report = Collector(filename)
    return _finish(_parsed(text, report, as_json=as_json), report, filename, text)


def read_config(
    source: str | os.PathLike[str] | Mapping[str, Any], *, filename: str | None = None
) -> SweepSource:
    """Read a sweep config from a YAML/JSON file path or a dict, without validating it.

    Raises :class:`ConfigError` for what keeps it from being a config at all: a file that cannot
    be read, text that is not YAML or JSON, a key written twice, a value JSON cannot hold.
    """
    doc, report, name, text = _document(source, filename)
    data = _json_data(doc, report)
    if report.errors:
        _raise(report)
    return SweepSource(None if text is None and filename is None else name, data, report.lines, text)


def read_config_text(text: str, *, filename: str = "config") -> SweepSource:
    """:func:`read_config` of YAML (or JSON) text given as it is, its problems citing ``filename``."""
    report = Collector(filename)
    data = _json_data(_parsed(text, report, as_json=False), report)
    if report.errors:
        _raise(report)
    return SweepSource(filename, data, report.lines, text)


def _document(
    source: str | os.PathLike[str] | Mapping[str, Any], filename: str | None
) -> tuple[Document, Collector, str, str | None]:
    """The document ``source`` holds, the collector of its problems, the name they cite and the text
    it was read from (None for a dict)."""
    if isinstance(source, Mapping):
        return Document(source), Collector(filename), filename or "<dict>", None
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        name = filename if filename is not None else os.fspath(source)
        report = Collector(name)
        text = _read_file(path, report)
        if text is None:
            _raise(report)
        return _parsed(text, report, as_json=path.suffix.lower() == ".json"), report, name, text
    raise ConfigError(
        [Problem("error", "", f"expected a file path or a mapping, got {found(source)}", filename)]
    )


def _raise(report: Collector) -> NoReturn:
    raise ConfigError(report.finished(report.errors, "error"), report.finished(report.warnings, "warning"))


def _read_file(path: Path, report: Collector) -> str | None:
    """The file's text, or None after reporting why it cannot be read."""
    try:
        if path.is_dir():
            report.error((), "cannot read: it is a directory, not a config file")
            return None
        with path.open("rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        report.error((), "cannot read: no such file")
        return None
    except OSError as exc:
        report.error((), f"cannot read: {exc.strerror or exc}")
        return None
    if len(raw) > MAX_FILE_BYTES:
        report.error(
            (), f"cannot read: larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB, not a sweep config"
        )
        return None
    return _decode(raw, report)


def _decode(raw: bytes, report: Collector) -> str | None:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        encoding = "utf-16"
    else:
        encoding = "utf-8-sig"
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        shown = "UTF-16" if encoding == "utf-16" else "UTF-8"
        report.error((), f"not {shown} text (byte {raw[exc.start]:#04x} at offset {exc.start})", line=line)
        return None


def _parsed(text: str, report: Collector, *, as_json: bool) -> Document:
    doc = read_json(text, report) if as_json else read_yaml(text, report)
    if doc is None:
        _raise(report)
    return doc


def _json_data(doc: Document, report: Collector) -> dict[str, Any]:
    """The document's mapping as JSON data, each command element written as a plain scalar taken as
    written (``1e-5`` stays ``1e-5``); what JSON cannot hold is reported (and raised when nothing
    is usable)."""
    if doc.data is None:
        report.error((), "the config is empty: expected a mapping with method, parameters, ...")
        _raise(report)
    if not isinstance(doc.data, Mapping):
        report.error((), f"expected a mapping of sweep settings at the top level, got {found(doc.data)}")
        _raise(report)
    data, usable = json_safe_copy(doc.data, report)
    if not usable:
        _raise(report)
    command = data.get("command")
    if isinstance(command, list) and doc.texts:
        data["command"] = [doc.texts.get(("command", index), item) for index, item in enumerate(command)]
    return data


def _finish(doc: Document, report: Collector, source_name: str, text: str | None) -> SweepConfig:
    """Validate the loaded document and build the config (or raise with every problem).

    ``raw`` is the document itself when it was read from text (nothing else holds it), and a deep
    copy of a caller's mapping (so later changes to the caller's mapping do not reach it)."""
    data = _json_data(doc, report)
    check_top_level(data, report)
    method = data.get("method")
    parameters = data.get("parameters")
    normalized_parameters = None
    if isinstance(parameters, dict) and parameters:
        normalized_parameters = ParameterChecker(report, method).check(parameters)
    check_metric_needed(data, report)
    check_objectives(data, report)
    check_scheduler(data, report)
    check_runnable_by_program_agents(data, report)
    check_early_terminate(data, report)
    check_command(data, report)
    check_grid_size(data, normalized_parameters, report)
    if report.errors:
        _raise(report)
    normalized = _normalize(data, normalized_parameters or {})
    if text is not None:
        raw = doc.data
    else:
        raw = copy.deepcopy(dict(doc.data)) if isinstance(doc.data, dict) else data
    return SweepConfig(source_name, raw, normalized, report.finished(report.warnings, "warning"))


def _filled(section: dict[str, Any], name: str) -> dict[str, Any]:
    """``section`` with the schema defaults of ``$defs/name`` filled in, in the schema's key order."""
    properties = definition(name)["properties"]
    out = {}
    for key, spec in properties.items():
        if key in section:
            out[key] = section[key]
        elif "default" in spec:
            out[key] = spec["default"]
    return out


#: What W&B's engine fills into each entry of ``metrics`` beyond the metric's own defaults.
_W_AND_B_METRICS_DEFAULTS = {"impute_while_running": "false"}


def _normalize(data: dict[str, Any], parameters: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key == "parameters":
            out[key] = parameters
        elif key == "metric":
            out[key] = _filled(value, "metric")
        elif key == "metrics":
            # W&B fills every entry of metrics with its defaults, impute_while_running too.
            out[key] = [{**_filled(entry, "metric"), **_W_AND_B_METRICS_DEFAULTS, **entry} for entry in value]
        elif key == "early_terminate":
            out[key] = _filled(value, "early_terminate")
        elif key == "command":
            out[key] = [item if isinstance(item, str) else str(item) for item in value]
        else:
            out[key] = value
    return out
