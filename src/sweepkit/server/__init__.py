"""The sweepkit server: the sweep service as a versioned JSON API over HTTP (``sweepkit server``).

Agents, the CLI, the Python API and runs on other machines reach it through the HTTP client
(``sweepkit.service.http``), which implements the same ``SweepService`` calls. Only this package
imports the web stack (FastAPI, Starlette, uvicorn, pydantic): install it with ``sweepkit[server]``.

- ``app.py``: the routes under ``/api/v1``, one per service call, and the one error shape;
- ``body.py``: request bodies read with a size limit, and text a store cannot hold refused;
- ``auth.py``: tokens, scopes and the brake on failed attempts;
- ``serve.py``: binding (loopback only while no token exists), TLS, uvicorn.
"""
