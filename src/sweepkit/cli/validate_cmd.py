"""``sweepkit validate FILE...``: check sweep configs and print their errors and warnings."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from sweepkit.printable import printable


def _check(file: str) -> dict[str, Any]:
    """Load one file; its verdict as plain data. Never raises for a bad file."""
    from sweepkit.sweep_config import ConfigError, Problem, load_config, load_config_text

    try:
        if file == "-":
            cfg = load_config_text(sys.stdin.read(), filename="<stdin>")
        else:
            cfg = load_config(file)
    except ConfigError as err:
        return {"file": file, "valid": False, "errors": err.problems, "warnings": err.warnings}
    except Exception as exc:  # a bug of ours must still not show a traceback to the user
        problem = Problem("error", "", f"internal error while checking: {type(exc).__name__}: {exc}", file)
        return {"file": file, "valid": False, "errors": [problem], "warnings": []}
    return {
        "file": file,
        "valid": True,
        "errors": [],
        "warnings": cfg.warnings + _program_warnings(file, cfg),
    }


def _program_warnings(file: str, cfg: Any) -> list[Any]:
    """The warning of ``sweepkit sweep`` about a ``program`` agents started here could not find,
    placed at its line."""
    from sweepkit.sweep_config import Problem, read_config
    from sweepkit.sweep_intake import program_warnings

    found = program_warnings(cfg.data)
    if not found:
        return []
    if file == "-":
        return [Problem("warning", w.path, w.message, "<stdin>") for w in found]
    return read_config(file).placed([Problem("warning", w.path, w.message) for w in found])


def _as_json(verdict: dict[str, Any]) -> dict[str, Any]:
    def item(p: Any) -> dict[str, Any]:
        return {"path": p.path, "line": p.line, "message": p.message}

    return {
        "file": verdict["file"],
        "valid": verdict["valid"],
        "errors": [item(p) for p in verdict["errors"]],
        "warnings": [item(p) for p in verdict["warnings"]],
    }


def _as_text(verdict: dict[str, Any]) -> list[str]:
    lines = [p.format(severity=True) for p in verdict["errors"] + verdict["warnings"]]
    errors, warnings = len(verdict["errors"]), len(verdict["warnings"])
    plural = {1: ""}
    status = "valid" if verdict["valid"] else f"invalid ({errors} error{plural.get(errors, 's')})"
    if warnings:
        status += f", {warnings} warning{plural.get(warnings, 's')}"
    lines.append(f"{verdict['file']}: {status}")
    return lines


@click.command("validate")
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people, json for tools",
)
def validate(files: tuple[str, ...], output_format: str) -> None:
    """Check sweep config files (YAML or JSON; - reads stdin).

    Prints every error and warning with its file, line and key. Exits 0 when every file is
    valid, 1 otherwise.
    """
    verdicts = [_check(file) for file in files]
    if output_format == "json":
        click.echo(json.dumps([_as_json(v) for v in verdicts], indent=2))
    else:
        for verdict in verdicts:
            for line in _as_text(verdict):
                click.echo(printable(line, newlines=True))
    sys.exit(0 if all(v["valid"] for v in verdicts) else 1)
