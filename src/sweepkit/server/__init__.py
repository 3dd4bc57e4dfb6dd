"""The sweepkit server: the sweep service as a versioned JSON API over HTTP (``sweepkit server``).

Agents, the CLI, the Python API and runs on other machines reach it through the HTTP client
(``sweepkit.service.http``), which implements the same ``SweepService`` calls. Only this package
imports the web stack (FastAPI, Starlette, uvicorn, pydantic): install it with ``sweepkit[server]``.

- ``app.py``: the application: its routes under ``/api/v1``, the one error shape, the dashboard;
- ``routes.py``: one route per call of the service, built from ``sweepkit.service.calls``;
- ``models.py``: the request and answer models of those routes, made from the same declaration;
- ``body.py``: request bodies read with a size limit, and text a store cannot hold refused;
- ``auth.py``: tokens, scopes and the brake on failed attempts;
- ``serve.py``: binding (loopback only while no token exists), TLS, uvicorn.
"""
