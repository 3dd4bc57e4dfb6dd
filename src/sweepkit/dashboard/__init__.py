"""The dashboard: every sweep, live, in the browser (sweeps list, sweep page, run page).

``create_app(service_factory, authorize)`` builds the web application that ``sweepkit server``
mounts and ``sweepkit ui`` serves on loopback (``serve``). Only this package and the server import
FastAPI; nothing on an agent's or a run's path imports it. See docs/dashboard.md.
"""

from __future__ import annotations

from sweepkit.dashboard.app import API, create_app
from sweepkit.dashboard.auth import ADMIN, READ, Authorize, loopback_only

__all__ = ["ADMIN", "API", "READ", "Authorize", "create_app", "loopback_only"]
