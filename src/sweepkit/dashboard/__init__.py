"""The dashboard: every sweep, live, in the browser (sweeps list, sweep page, run page).

``create_app(service_factory, authorize)`` builds the web application that ``sweepkit server``
mounts and ``sweepkit ui`` serves on loopback (``sweepkit.dashboard.local``). Only this package and
the server import FastAPI, and only when these names are used: importing the package itself loads
nothing, so ``sweepkit ui --help`` works and explains what to install without the ``server`` extra.
Nothing on an agent's or a run's path imports it. See docs/dashboard.md.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ADMIN", "API", "READ", "Authorize", "create_app", "loopback_only"]

_WHERE = {
    "API": "sweepkit.dashboard.app",
    "create_app": "sweepkit.dashboard.app",
    "ADMIN": "sweepkit.dashboard.auth",
    "READ": "sweepkit.dashboard.auth",
    "Authorize": "sweepkit.dashboard.auth",
    "loopback_only": "sweepkit.dashboard.auth",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'sweepkit.dashboard' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_WHERE[name]), name)
