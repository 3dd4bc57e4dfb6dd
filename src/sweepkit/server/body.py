"""Request bodies, read with a size limit and checked for text that no store can hold.

``CheckedRoute`` hands every route a ``CheckedRequest``: its body is read up to ``max_bytes`` (413
beyond, whether announced by Content-Length or streamed), and its JSON may not hold half of a
surrogate pair (``\\ud800``-``\\udfff`` alone: not Unicode, and no store can keep it): 422, with one
sentence. The look is cheap: only a body holding such an escape is walked. (NUL characters are fine
in JSON data; the models refuse them in labels and ids, and the service drops them from free text.)
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import HTTPException, Request
from fastapi.routing import APIRoute

from sweepkit.values import may_hold_nonfinite

DEFAULT_MAX_BYTES = 64 * 2**20
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class CheckedRequest(Request):
    max_bytes = DEFAULT_MAX_BYTES

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                raise _too_large(self.max_bytes)
            chunks, size = [], 0
            async for chunk in self.stream():
                size += len(chunk)
                if size > self.max_bytes:
                    raise _too_large(self.max_bytes)
                chunks.append(chunk)
            self._body = b"".join(chunks)
        return self._body

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            raw = await self.body()
            data = json.loads(raw)
            if _SURROGATE_ESCAPE.search(raw) and _holds(data, _lone_surrogate):
                raise HTTPException(
                    422, "text holds half of a surrogate pair (\\ud800-\\udfff): it is not Unicode"
                )
            #: Whether logged data in the body may hold "NaN"/"Infinity" texts standing for floats.
            self.state.nonfinite = may_hold_nonfinite(raw)
            self._json = data
        return self._json


class CheckedRoute(APIRoute):
    """An APIRoute whose requests are ``CheckedRequest``s limited to ``max_bytes``."""

    max_bytes = DEFAULT_MAX_BYTES

    def get_route_handler(self):
        handler = super().get_route_handler()
        limit = self.max_bytes

        async def route(request: Request):
            checked = CheckedRequest(request.scope, request.receive)
            checked.max_bytes = limit
            return await handler(checked)

        return route


def limited_route(max_bytes: int) -> type[CheckedRoute]:
    """A CheckedRoute class with its own body limit."""
    return type("LimitedRoute", (CheckedRoute,), {"max_bytes": int(max_bytes)})


def _too_large(limit: int) -> HTTPException:
    return HTTPException(
        413, f"the request body is larger than this server's limit of {limit / 2**20:.3g} MiB"
    )


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _holds(value: Any, bad) -> bool:
    """Whether any text (key or value) in ``value`` is ``bad``."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if bad(item):
                return True
        elif isinstance(item, dict):
            for key, inner in item.items():
                if bad(key):
                    return True
                stack.append(inner)
        elif isinstance(item, list):
            stack.extend(item)
    return False
