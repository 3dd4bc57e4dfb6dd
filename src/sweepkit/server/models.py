"""The HTTP API's bodies as pydantic models (for checking requests and for the OpenAPI document), made
from the declaration of the service's calls (``sweepkit.service.calls``).

A call's request body becomes a model named after it (``claim_run``: ``ClaimRun``) that refuses
unknown keys; an answer wrapped in an object (``{"agents": [...]}``) becomes ``<Name>Answer``; the
service's own dataclasses (``sweepkit.service.types``) are documented as they are and written by
``sweepkit.service.wire.dumps``. A ``Rule`` in a wire type becomes pydantic's ``Field`` with the same
limits. Also here: the one shape of every error answer, and the health answer.
"""

from __future__ import annotations

import functools
import operator
import types
import typing
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from sweepkit.service.calls import REQUIRED, Arg, Call, Rule


def pydantic_type(kind: Any) -> Any:
    """``kind`` with every ``Rule`` in it as pydantic's ``Field`` (the outer one too), and a tuple of
    fixed length as an array."""
    if typing.get_origin(kind) is Annotated:
        inner, *extras = typing.get_args(kind)
        rules = [Field(**e.options()) if isinstance(e, Rule) else e for e in extras]
        return Annotated[(pydantic_type(inner), *rules)]
    args = typing.get_args(kind)
    if not args or typing.get_origin(kind) is typing.Literal:
        return kind
    if typing.get_origin(kind) is tuple and Ellipsis not in args:
        return list[Any]  # [step, value]: an array (OpenAPI tools such as schemathesis read no prefixItems)
    converted = tuple(pydantic_type(a) for a in args)
    if converted == args:
        return kind
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        return functools.reduce(operator.or_, converted)
    return origin[converted if len(converted) > 1 else converted[0]]


def split_rule(kind: Any) -> tuple[Any, dict[str, Any]]:
    """``kind`` without its outer ``Rule``, and that rule's options (for ``Path`` and ``Query``)."""
    if typing.get_origin(kind) is Annotated:
        inner, *extras = typing.get_args(kind)
        options = {k: v for e in extras if isinstance(e, Rule) for k, v in e.options().items()}
        rest = [e for e in extras if not isinstance(e, Rule)]
        return (Annotated[(inner, *rest)] if rest else inner), options
    return kind, {}


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def body_model(call: Call) -> type[BaseModel] | None:
    """The model of ``call``'s JSON body (None for a call without one)."""
    body: list[Arg] = []
    for arg in call.args:
        if arg.where == "body":
            body += arg.spread or [arg]
    declared: dict[str, Any] = {}
    for arg in body:
        kind, options = split_rule(arg.type)
        kind = pydantic_type(kind)
        if arg.default is REQUIRED:
            declared[arg.name] = (kind, Field(**options))
        else:
            declared[arg.name] = (kind | None if arg.default is None else kind, Field(arg.default, **options))
    return create_model(_camel(call.name), __base__=_Body, **declared) if declared else None


def answer_model(call: Call) -> Any:
    """What ``call`` answers, for the OpenAPI document."""
    if call.answer is None:
        return Ok
    if call.key is None:
        return call.answer
    return create_model(f"{_camel(call.name)}Answer", **{call.key: (pydantic_type(call.answer), ...)})


class Health(BaseModel):
    status: str
    version: str


class Ok(BaseModel):
    ok: bool = True


class ErrorDetail(BaseModel):
    type: str = Field(
        description="The sweepkit error class (NotFoundError, ConflictError, ConfigError, ...)."
    )
    message: str = Field(description="One sentence for people.")
    status: int
    problems: list[dict[str, Any]] | None = Field(None, description="A ConfigError's problems.")
    warnings: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """The one shape of every error answer."""

    error: ErrorDetail
