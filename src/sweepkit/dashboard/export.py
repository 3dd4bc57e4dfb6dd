"""A sweep's runs as a file to download: the CSV and JSON that ``sweepkit runs`` prints.

One format for the command line and the dashboard: ``sweepkit.run_export`` (``run_json`` for each
run, ``run_rows`` for the flattened CSV columns: config, summary, suggestion, stop reason).
"""

from __future__ import annotations

from sweepkit.run_export import csv_table, run_json, run_rows
from sweepkit.service import SweepInfo, SweepService
from sweepkit.values import dumps


def _runs(service: SweepService, sweep: SweepInfo) -> list[dict]:
    return [run_json(run) for run in service.all_runs(sweep.id)]


def as_json(service: SweepService, sweep: SweepInfo) -> bytes:
    """Every run of the sweep as ``sweepkit runs ID --format json`` prints it."""
    return dumps(_runs(service, sweep), indent=2).encode()


def as_csv(service: SweepService, sweep: SweepInfo) -> bytes:
    """Every run of the sweep as ``sweepkit runs ID --format csv`` prints it."""
    objective = sweep.plan.objective
    header, rows = run_rows(_runs(service, sweep), objective.name if objective else None)
    return csv_table(header, rows).encode()
