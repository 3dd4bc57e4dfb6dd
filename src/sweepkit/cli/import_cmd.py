"""``sweepkit import ID FILE``: add finished results made elsewhere (CSV or JSON lines) to a sweep."""

from __future__ import annotations

from pathlib import Path

import click

from sweepkit.cli.common import db_option, friendly_errors, open_service, say


@click.command("import")
@click.argument("sweep_ref", metavar="ID")
@click.argument("path", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@db_option
@friendly_errors
def import_results(sweep_ref, path, db):
    """Add the results in FILE (CSV or JSON lines: parameters and metric values, a W&B runs export
    too) to sweep ID as finished runs marked imported: the search learns from them, none is run.
    Each row is checked against the sweep's space; a row that does not fit is named and left out."""
    from sweepkit.api import SweepRef
    from sweepkit.errors import SweepkitError
    from sweepkit.results_file import read_results

    ref = SweepRef.parse(sweep_ref)
    service = open_service(db)
    info = service.get_sweep(ref.id, project=ref.project, entity=ref.entity)
    rows = read_results(path, [p.name for p in info.plan.parameters])
    if not rows:
        raise SweepkitError(f"{path}: no rows to import")
    result = service.import_runs(info.id, rows, source=path.name)
    for refused in result.refused:
        say(f"{path}: {refused}")
    say(
        f"Imported {len(result.imported)} of {len(rows)} rows of {path} into sweep {info.id} as finished runs"
    )
    if not result.imported:
        raise SystemExit(1)
