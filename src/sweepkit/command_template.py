"""Render a sweep's `command` template and one run's parameters into the argv list the agent runs.

Pure: no subprocess, no shell, no network; the only I/O is `write_args_json_file`, which the agent
calls when the command uses ``${args_json_file}``. It imports nothing heavy (``yaml`` only inside
`param_file_text`), so the config checker can reuse `uses_args_macro`.

W&B behaviour reproduced (wandb ``wandb_agent.py`` and ``sdk/launch/sweeps/utils.py``):

* An element that is exactly a macro is replaced by zero or more arguments: ``${env}``,
  ``${interpreter}``, ``${program}``, ``${args}`` (``--k=v``), ``${args_no_equals}`` (``--k``, ``v``),
  ``${args_no_hyphens}`` (``k=v``), ``${args_no_boolean_flags}`` (``--k`` for True, nothing for
  False, ``--k=v`` otherwise), ``${args_append_hydra}`` (``+k=v``), ``${args_override_hydra}``
  (``++k=v``), ``${args_json}`` (one JSON argument), ``${args_json_file}`` (a path).
* ``${envvar:NAME}`` is replaced inside any element.
* Values are rendered with ``str()``: ``0.001``, ``1e-07``, ``True``, ``None``, ``[64, 32]``, and a
  nested group as one ``{'lr': 0.01}``. Every other element is passed as it is (trailing spaces
  included: W&B does not strip them, and the argv never goes through a shell). Elements that YAML
  read as numbers or booleans are turned into text with ``str()``, as W&B does.
* An empty or missing command means the default ``${env} ${interpreter} ${program} ${args}``.

Where sweepkit differs on purpose:

* Arguments come in sorted parameter-name order (W&B uses the server's order).
* The Hydra macros (``${args_no_hyphens}``, ``${args_append_hydra}``, ``${args_override_hydra}``)
  pass a nested group as one dotted override per value (``optimizer.lr=0.01``), which Hydra
  accepts; W&B passes ``optimizer={'lr': 0.01}``, which Hydra's override grammar refuses.
* Inline per-parameter macros (**better**; shown in W&B's docs, never implemented there):
  ``--lr=${lr}`` becomes ``--lr=0.001``; ``${optimizer.lr}`` reaches into nested groups (a flat
  top-level name ``optimizer.lr`` is tried first). Single-valued macros (``${program}``,
  ``${interpreter}``, ``${env}``, ``${args_json}``, ``${args_json_file}``) also work inline; the
  list-valued ``${args*}`` macros must stand alone. Macro names win over parameters of the same name.
* Errors instead of silent surprises: an unset ``${envvar:NAME}`` (W&B substitutes the bare name
  ``NAME``), ``${program}`` without a program (W&B hands ``None`` to the OS), and a ``${name}``
  that looks like a parameter name but is neither a parameter nor a macro (W&B drops such an
  element, or passes it on literally inside a longer one) raise `CommandError` with a
  did-you-mean hint. ``${...}`` whose content does not look like a name (``${}``, ``${a b}``) is
  kept as text, and ``$${x}`` is the escape for a literal ``${x}``.
* An empty item in the command list (YAML ``-`` with nothing after it) is an error, not ``"None"``.
* Shell-quoted forms (**new**; W&B's macros stay exactly as W&B renders them): ``${quoted:NAME}``
  is ``${NAME}`` quoted for a POSIX shell (``shlex.quote``), for a command that is itself a shell
  string, e.g. ``[bash, -c, "python train.py ${quoted:args} && ..."]``. NAME is any macro or
  parameter: a list-valued ``${args...}`` macro becomes its arguments each quoted, joined by spaces
  (so it may stand inside a longer element); ``${quoted:args_json}`` is the JSON as one quoted
  word; ``${quoted:lr}``, ``${quoted:envvar:NAME}``, ``${quoted:args_json_file}`` likewise. Write
  it bare in the shell string, not inside the shell's own quotes. A plain ``${args_json}`` inside a
  shell string is not quoted (as in W&B): a value with a quote or ``$(...)`` then reaches the
  shell as code.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import shlex
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sweepkit.errors import SweepkitError

__all__ = [
    "ARGS_MACROS",
    "DEFAULT_COMMAND",
    "MACROS",
    "CommandError",
    "localize",
    "param_file_text",
    "reference_problems",
    "render_command",
    "render_parts",
    "typed_args_json",
    "uses_args_json_file",
    "uses_args_macro",
    "write_args_json_file",
]

#: The command W&B runs when a sweep config has no (or an empty) `command`.
DEFAULT_COMMAND: tuple[str, ...] = ("${env}", "${interpreter}", "${program}", "${args}")

#: Macros that hand the run's parameters to the program.
ARGS_MACROS: frozenset[str] = frozenset(
    {
        "args",
        "args_no_equals",
        "args_no_hyphens",
        "args_no_boolean_flags",
        "args_append_hydra",
        "args_override_hydra",
        "args_json",
        "args_json_file",
    }
)
#: Macros that expand to several arguments, so they must be a command element on their own.
_LIST_MACROS: frozenset[str] = ARGS_MACROS - {"args_json", "args_json_file"}
#: Every macro name (``${envvar:NAME}`` aside).
MACROS: frozenset[str] = ARGS_MACROS | {"env", "interpreter", "program"}

#: `${...}` references, and the `$${` escape for a literal `${`.
_REFERENCE = re.compile(r"\$\$\{|\$\{([^{}]*)\}")
#: A whole element that is one reference.
_WHOLE_REFERENCE = re.compile(r"\$\{([^{}]*)\}")
#: What a parameter reference looks like (the sweep config's parameter-name rule).
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_ENVVAR_PREFIX = "envvar:"
_QUOTED_PREFIX = "quoted:"
_MISSING = object()
_MAX_LISTED_NAMES = 20
#: Characters YAML reads as line breaks inside a scalar.
_YAML_LINE_BREAKS = ("\x85", "\u2028", "\u2029")


class CommandError(SweepkitError):
    """A sweep `command` that cannot be rendered for a run; the message says which element and why."""


# --------------------------------------------------------------------------- value rendering


def _sorted_names(params: Mapping[Any, Any]) -> list[Any]:
    return sorted(params, key=str)


def _args(params: Mapping[Any, Any], prefix: str) -> list[str]:
    return [f"{prefix}{name}={params[name]}" for name in _sorted_names(params)]


def _dotted(params: Mapping[Any, Any], path: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted name, value)`` of every leaf, nested groups walked (names sorted at each level)."""
    for name in _sorted_names(params):
        value = params[name]
        if isinstance(value, Mapping) and value:
            yield from _dotted(value, f"{path}{name}.")
        else:
            yield f"{path}{name}", value


def _hydra_args(params: Mapping[Any, Any], prefix: str) -> list[str]:
    """Hydra overrides: a nested group becomes one dotted override per value (``opt.lr=0.01``),
    which Hydra accepts, where W&B's ``opt={'lr': 0.01}`` is refused by Hydra's grammar."""
    return [f"{prefix}{name}={value}" for name, value in _dotted(params)]


def _args_no_equals(params: Mapping[Any, Any]) -> list[str]:
    out: list[str] = []
    for name in _sorted_names(params):
        out += [f"--{name}", str(params[name])]
    return out


def _args_no_boolean_flags(params: Mapping[Any, Any]) -> list[str]:
    out: list[str] = []
    for name in _sorted_names(params):
        value = params[name]
        if value is True:
            out.append(f"--{name}")
        elif value is not False:
            out.append(f"--{name}={value}")
    return out


def typed_args_json(params: Mapping[Any, Any]) -> str:
    """The parameters as one JSON object (top-level names sorted), keeping their types.

    This is what ``${args_json}`` expands to and what the ``${args_json_file}`` file holds.
    """
    try:
        return json.dumps({name: params[name] for name in _sorted_names(params)})
    except (TypeError, ValueError) as err:
        raise CommandError(f"the run's parameters cannot be written as JSON: {err}") from None


_LIST_RENDERERS: dict[str, Callable[[Mapping[Any, Any]], list[str]]] = {
    "args": lambda params: _args(params, "--"),
    "args_no_equals": _args_no_equals,
    "args_no_hyphens": lambda params: _hydra_args(params, ""),
    "args_no_boolean_flags": _args_no_boolean_flags,
    "args_append_hydra": lambda params: _hydra_args(params, "+"),
    "args_override_hydra": lambda params: _hydra_args(params, "++"),
}


# --------------------------------------------------------------------------- parameter lookup


def _lookup(params: Mapping[Any, Any], name: str) -> Any:
    """The value `name` refers to: a top-level key first, else a dotted path into nested groups."""
    if name in params:
        return params[name]
    for index, char in enumerate(name):
        if char != ".":
            continue
        head = params.get(name[:index], _MISSING)
        if isinstance(head, Mapping):
            found = _lookup(head, name[index + 1 :])
            if found is not _MISSING:
                return found
    return _MISSING


def _reference_names(params: Mapping[Any, Any], prefix: str = "") -> Iterator[str]:
    for name in _sorted_names(params):
        full = f"{prefix}{name}"
        yield full
        value = params[name]
        if isinstance(value, Mapping):
            yield from _reference_names(value, f"{full}.")


def unknown_reference_message(name: str, known: Sequence[str]) -> str:
    """Why ``${name}`` cannot be rendered, given the parameter names a run has (``known``).

    The one wording of this verdict: the renderer raises it for a run, and the config check
    (``sweepkit validate``) reports it as an error before any run starts.
    """
    hint = ""
    close = difflib.get_close_matches(name, list(known) + sorted(MACROS), n=1)
    if close:
        hint = f" (did you mean ${{{close[0]}}}?)"
    listed = ", ".join(known[:_MAX_LISTED_NAMES]) or "none"
    if len(known) > _MAX_LISTED_NAMES:
        listed += f", ... ({len(known)} in all)"
    return (
        f"${{{name}}} is neither a macro nor a sweep parameter{hint}; "
        f"parameters: {listed}; write $${{{name}}} to pass the text literally"
    )


def _unknown_reference(element: str, name: str, params: Mapping[Any, Any]) -> CommandError:
    known = list(_reference_names(params))
    return CommandError(f"command element {element!r}: {unknown_reference_message(name, known)}")


def reference_problems(command: Sequence[object] | None, names: Collection[str]) -> list[tuple[int, str]]:
    """``(element index, message)`` for each reference that no run of a sweep can render.

    ``names`` holds the sweep's parameter names, nested groups both as the group and as dotted
    paths (``opt`` and ``opt.lr``). Checked: ``${name}`` that is neither a macro nor a parameter,
    and a list-valued ``${args...}`` macro inside a longer element. ``${envvar:NAME}`` depends on
    the agent's environment and is checked when a run starts.
    """
    problems: list[tuple[int, str]] = []
    known = sorted(names)
    for index, raw in enumerate(command or ()):
        if raw is None:
            continue
        text = raw if isinstance(raw, str) else str(raw)
        whole = _WHOLE_REFERENCE.fullmatch(text)
        if whole is not None and whole.group(1) in MACROS:
            continue
        for match in _REFERENCE.finditer(text):
            name = match.group(1)
            if name is not None and name.startswith(_QUOTED_PREFIX):
                name = name[len(_QUOTED_PREFIX) :]
                if name in MACROS:  # every macro, the list-valued ones too, may stand inside an element
                    continue
                if not name.startswith(_ENVVAR_PREFIX) and not _NAME.fullmatch(name):
                    problems.append((index, f"${{quoted:{name}}} names no macro and no parameter"))
                    continue
            if name is None or name.startswith(_ENVVAR_PREFIX) or name in names:
                continue
            if name in _LIST_MACROS:
                problems.append(
                    (
                        index,
                        f"${{{name}}} expands to several arguments, so it must be an element of the "
                        "command list on its own",
                    )
                )
            elif name not in MACROS and _NAME.fullmatch(name):
                problems.append((index, unknown_reference_message(name, known)))
    return problems


# --------------------------------------------------------------------------- rendering


#: Macros only the agent can fill, because they depend on its machine (``${envvar:NAME}`` too).
AGENT_MACROS: frozenset[str] = frozenset({"env", "interpreter", "args_json_file"})

#: A rendered command element is a list of parts: literal text, or ``{"agent": NAME, ...}`` for a
#: reference the agent fills (NAME is a macro of ``AGENT_MACROS`` or ``envvar:VARIABLE``).
Part = Any


class _Renderer:
    """One rendering of a command template with a run's values, leaving the agent's macros open."""

    def __init__(self, params: Mapping[Any, Any], *, program: str | None) -> None:
        self.params = params
        self.program = program

    def single_macro(self, name: str) -> str:
        """The one value of ``${program}`` or ``${args_json}``."""
        if name == "program":
            if self.program is None:
                raise CommandError(
                    "command uses ${program} but the sweep config has no program; "
                    "add a top-level `program` key or remove ${program} from `command`"
                )
            return str(self.program)
        if name == "args_json":
            return typed_args_json(self.params)
        raise AssertionError(f"not a single-valued macro: {name}")  # pragma: no cover

    def quoted(self, element: str, name: str) -> Part:
        """``${quoted:NAME}``: NAME's value quoted for a POSIX shell (a list macro: each argument)."""
        if name.startswith(_ENVVAR_PREFIX) or name in AGENT_MACROS:
            return {"agent": name, "element": element, "quoted": True}
        if name in _LIST_RENDERERS:
            return " ".join(shlex.quote(arg) for arg in _LIST_RENDERERS[name](self.params))
        if name in MACROS:
            return shlex.quote(self.single_macro(name))
        if (value := _lookup(self.params, name)) is not _MISSING:
            return shlex.quote(str(value))
        if _NAME.fullmatch(name):
            raise _unknown_reference(element, name, self.params)
        raise CommandError(f"command element {element!r}: ${{quoted:{name}}} names no macro and no parameter")

    def inline(self, element: str) -> list[Part]:
        """`element` as parts, every ``${...}`` reference in it replaced by one value."""
        parts: list[Part] = []
        position = 0
        for match in _REFERENCE.finditer(element):
            parts.append(element[position : match.start()])
            position = match.end()
            name = match.group(1)
            if name is None:  # the `$${` escape
                parts.append("${")
            elif name.startswith(_QUOTED_PREFIX):
                parts.append(self.quoted(element, name[len(_QUOTED_PREFIX) :]))
            elif name.startswith(_ENVVAR_PREFIX) or name in AGENT_MACROS:
                parts.append({"agent": name, "element": element})
            elif name in _LIST_MACROS:
                raise CommandError(
                    f"command element {element!r}: ${{{name}}} expands to several arguments, "
                    "so it must be an element of the command list on its own"
                )
            elif name in MACROS:
                parts.append(self.single_macro(name))
            elif (value := _lookup(self.params, name)) is not _MISSING:
                parts.append(str(value))
            elif _NAME.fullmatch(name):
                raise _unknown_reference(element, name, self.params)
            else:
                parts.append(match.group(0))  # not a reference to anything: keep the text
        parts.append(element[position:])
        return _joined(parts)

    def element(self, index: int, raw: object) -> list[list[Part]]:
        if raw is None:
            raise CommandError(f"command[{index}]: expected a string, got an empty item")
        text = raw if isinstance(raw, str) else str(raw)
        whole = _WHOLE_REFERENCE.fullmatch(text)
        if whole is not None and whole.group(1) in MACROS:
            name = whole.group(1)
            if name in _LIST_RENDERERS:
                return [[arg] for arg in _LIST_RENDERERS[name](self.params)]
            if name in AGENT_MACROS:
                return [[{"agent": name, "element": text, "whole": True}]]
            return [[self.single_macro(name)]]
        return [self.inline(text)]


def _joined(parts: list[Part]) -> list[Part]:
    """Adjacent text parts merged, empty ones dropped (an element of no parts is the empty string)."""
    out: list[Part] = []
    for part in parts:
        if isinstance(part, str):
            if not part:
                continue
            if out and isinstance(out[-1], str):
                out[-1] += part
                continue
        out.append(part)
    return out or [""]


def _command_elements(command: Sequence[object] | None) -> Sequence[object]:
    if isinstance(command, (str, bytes)) or (command is not None and not isinstance(command, Sequence)):
        raise CommandError(f"command: expected a list of strings, got {type(command).__name__} {command!r}")
    return command or DEFAULT_COMMAND


def render_parts(
    command: Sequence[object] | None, params: Mapping[Any, Any], *, program: str | None
) -> list[list[Part]]:
    """The service's half of rendering: every element of the argv as parts (see ``Part``).

    Parameters, ``${program}`` and the ``${args...}`` macros are filled in; the macros that depend
    on the agent's machine stay open for :func:`localize`. JSON-able, so it travels in a claim.
    Raises `CommandError` with one clear sentence when the template cannot be rendered.
    """
    renderer = _Renderer(params, program=program)
    elements: list[list[Part]] = []
    for index, raw in enumerate(_command_elements(command)):
        elements += renderer.element(index, raw)
    return elements


def localize(
    elements: Sequence[Sequence[Part]],
    *,
    interpreter: str = "python",
    env_path: str | None = "/usr/bin/env",
    args_json_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The agent's half of rendering: fill the agent's macros and return the argv list.

    ``env_path`` is what ``${env}`` becomes (None: an element that is exactly ``${env}`` is left out,
    as W&B does on Windows); ``args_json_file`` the path of the parameters' JSON file;
    ``${envvar:NAME}`` reads ``environ`` (default ``os.environ``).
    """
    environ = os.environ if environ is None else environ
    argv: list[str] = []
    for parts in elements:
        whole = parts[0] if len(parts) == 1 and isinstance(parts[0], dict) and parts[0].get("whole") else None
        if whole is not None and whole["agent"] == "env" and env_path is None:
            continue  # W&B on Windows: an element that is exactly ${env} is left out
        text = []
        for part in parts:
            if isinstance(part, str):
                text.append(part)
                continue
            name, element = part["agent"], part.get("element", "")
            if name.startswith(_ENVVAR_PREFIX):
                value = _envvar(element, name[len(_ENVVAR_PREFIX) :], environ)
            elif name == "env":
                value = env_path or ""
            elif name == "interpreter":
                value = interpreter
            elif name == "args_json_file":
                if args_json_file is None:
                    raise CommandError(
                        "command uses ${args_json_file} but no path for the parameters' JSON file was given"
                    )
                value = str(args_json_file)
            else:  # pragma: no cover - render_parts makes no other part
                raise CommandError(f"command element {element!r}: unknown agent macro ${{{name}}}")
            text.append(shlex.quote(value) if part.get("quoted") else value)
        argv.append("".join(text))
    if not argv:
        raise CommandError("command renders to no arguments at all, so there is no program to run")
    return argv


def _envvar(element: str, variable: str, environ: Mapping[str, str]) -> str:
    if not variable:
        raise CommandError(f"command element {element!r}: ${{envvar:}} names no environment variable")
    value = environ.get(variable)
    if value is None:
        raise CommandError(
            f"command element {element!r} uses ${{envvar:{variable}}}, "
            f"but the environment variable {variable} is not set"
        )
    return value


def render_command(
    command: Sequence[object] | None,
    params: Mapping[Any, Any],
    *,
    program: str | None,
    interpreter: str = "python",
    env_path: str | None = "/usr/bin/env",
    args_json_file: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> list[str]:
    """The argv list for one run: :func:`render_parts` then :func:`localize` in one go.

    `command` is the sweep's template (None or empty: `DEFAULT_COMMAND`); `params` the run's nested
    config (top-level keys are parameter names, a nested group is a dict); `program` the sweep's
    program; the other arguments are those of :func:`localize`.
    """
    parts = render_parts(command, params, program=program)
    return localize(
        parts, interpreter=interpreter, env_path=env_path, args_json_file=args_json_file, environ=environ
    )


def display_line(elements: Sequence[Sequence[Part]]) -> str:
    """:func:`render_parts`' elements as one shell-quoted line for people (a run's page, ``runs``), the
    agent's macros left as written (``${interpreter}``, ``${env}``, ``${args_json_file}``, ...)."""

    def macro(part: dict) -> str:
        return "${" + (_QUOTED_PREFIX if part.get("quoted") else "") + str(part.get("agent")) + "}"

    shown = []
    for parts in elements:
        if len(parts) == 1 and isinstance(parts[0], dict):
            shown.append(macro(parts[0]))  # a macro the agent fills in
            continue
        shown.append(shlex.quote("".join(p if isinstance(p, str) else macro(p) for p in parts)))
    return " ".join(shown)


# --------------------------------------------------------------------------- inspection


def _references(command: Sequence[object] | None) -> Iterator[str]:
    for raw in command or DEFAULT_COMMAND:
        if raw is None:
            continue
        text = raw if isinstance(raw, str) else str(raw)
        for match in _REFERENCE.finditer(text):
            if match.group(1) is not None:
                name = match.group(1)
                yield name[len(_QUOTED_PREFIX) :] if name.startswith(_QUOTED_PREFIX) else name


def uses_args_macro(command: Sequence[object] | None) -> bool:
    """Whether the command hands parameters to the program: an ``${args...}`` macro or a ``${param}``.

    None or an empty list is the default command, which uses ``${args}``. Without one, parameters
    reach the program only through its run config.
    """
    for name in _references(command):
        if name in ARGS_MACROS:
            return True
        if name not in MACROS and _NAME.fullmatch(name):
            return True
    return False


#: Shells whose ``-c`` argument is a script (``[bash, -c, "..."]``, also after ``${env}`` or ``env``).
_SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh"})


def unquoted_in_shell(command: Sequence[object] | None) -> list[tuple[int, str]]:
    """``(element index, name)`` of each value reference written unquoted inside a shell script
    (the argument after ``-c`` of a shell): a value with a space, a quote or ``$(...)`` breaks the
    script there or runs as code; ``${quoted:NAME}`` is the safe form. ``${env}``,
    ``${interpreter}`` and ``${envvar:NAME}`` come from the agent's machine and are not listed."""
    items = ["" if raw is None else str(raw) for raw in command or ()]
    start = 1 if items and (items[0] == "${env}" or os.path.basename(items[0]) == "env") else 0
    if len(items) <= start or os.path.basename(items[start]) not in _SHELLS:
        return []
    for index in range(start + 1, len(items) - 1):
        flag = items[index]
        if flag.startswith("-") and not flag.startswith("--") and flag.endswith("c"):  # -c, -lc, -ec
            found = []
            for match in _REFERENCE.finditer(items[index + 1]):
                name = match.group(1)
                if (
                    name is None
                    or name.startswith((_QUOTED_PREFIX, _ENVVAR_PREFIX))
                    or name in ("env", "interpreter")
                ):
                    continue
                if name in MACROS or _NAME.fullmatch(name):
                    found.append((index + 1, name))
            return found
    return []


def uses_args_json_file(command: Sequence[object] | None) -> bool:
    """Whether the command refers to ``${args_json_file}``, so the agent must write that file."""
    return any(name == "args_json_file" for name in _references(command))


# --------------------------------------------------------------------------- files for the run


def write_args_json_file(path: str | os.PathLike[str], params: Mapping[Any, Any]) -> Path:
    """Write `typed_args_json` of the parameters to `path` (parents created); return the path."""
    target = Path(path)
    text = typed_args_json(params)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    return target


def param_file_text(params: Mapping[Any, Any]) -> str:
    """The text of the file ``WANDB_SWEEP_PARAM_PATH`` points to, as W&B writes it.

    ``wandb_version: 1``, a blank line, then one ``name:`` / ``  value: v`` block per top-level
    parameter (sorted; a nested group's value is its dict). With no parameters, only the first line.
    """
    text = "wandb_version: 1"
    if not params:
        return text
    import yaml  # lazily: the renderer itself needs no YAML

    body = {name: {"value": params[name]} for name in _sorted_names(params)}
    try:
        dumped = yaml.safe_dump(body, default_flow_style=False, allow_unicode=True, sort_keys=False)
        if any(char in dumped for char in _YAML_LINE_BREAKS):
            # PyYAML writes these raw when allow_unicode is on and then reads them back as line
            # breaks (W&B has this bug); escaping every non-ASCII character keeps the value exact.
            dumped = yaml.safe_dump(body, default_flow_style=False, allow_unicode=False, sort_keys=False)
    except yaml.YAMLError as err:
        raise CommandError(f"the run's parameters cannot be written as YAML: {err}") from None
    return f"{text}\n\n{dumped}"
