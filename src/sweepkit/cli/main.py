"""The ``sweepkit`` command line: a click group whose subcommands load only what they use."""

from __future__ import annotations

import importlib
import sys

import click

# name -> (module, attribute): each subcommand is imported only when it runs, so that
# `sweepkit agent` never pays for what `sweepkit validate` or a server would import.
_COMMANDS: dict[str, tuple[str, str]] = {
    "validate": ("sweepkit.cli.validate_cmd", "validate"),
    "sweep": ("sweepkit.cli.sweep_cmd", "sweep"),
    "import": ("sweepkit.cli.import_cmd", "import_results"),
    "agent": ("sweepkit.cli.agent_cmd", "agent"),
    "scheduler": ("sweepkit.cli.scheduler_cmd", "scheduler"),
    "slurm": ("sweepkit.cli.launch_cmd", "slurm"),
    "k8s": ("sweepkit.cli.launch_cmd", "k8s"),
    "ray": ("sweepkit.cli.launch_cmd", "ray"),
    "run": ("sweepkit.cli.run_cmd", "run"),
    "sweeps": ("sweepkit.cli.query_cmd", "sweeps"),
    "runs": ("sweepkit.cli.query_cmd", "runs"),
    "best": ("sweepkit.cli.query_cmd", "best"),
    "watch": ("sweepkit.cli.watch_cmd", "watch"),
    "ui": ("sweepkit.cli.ui_cmd", "ui"),
    "server": ("sweepkit.cli.server_cmd", "server"),
    "token": ("sweepkit.cli.token_cmd", "token"),
}


class _LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = _COMMANDS.get(cmd_name)
        if target is None:
            return None
        module = importlib.import_module(target[0])
        return getattr(module, target[1])


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sweepkit")
def cli() -> None:
    """Self-hosted hyperparameter sweeps for W&B sweep configs."""


def main(argv: list[str] | None = None) -> None:
    from sweepkit.errors import SweepkitError

    try:
        cli.main(args=argv, prog_name="sweepkit", standalone_mode=True)
    except SweepkitError as err:  # pragma: no cover - subcommands catch their own
        from sweepkit.printable import printable

        click.echo(printable(f"error: {err}", newlines=True), err=True)
        sys.exit(1)
