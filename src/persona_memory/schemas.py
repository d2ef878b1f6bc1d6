"""Pydantic annotations for operation parameters, shared by the HTTP API and the MCP server.

The JSON Schema keywords of a :class:`~persona_memory.operations.Param` (``enum``, ``minimum``...)
go into the published schema but are not enforced by pydantic: the library checks the values
itself, so a bad value gets the same message on every surface. Only the JSON type is enforced.
Needs pydantic, which both the ``server`` and the ``mcp`` extras bring.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from .operations import Param


def field_annotation(param: Param, *, required: bool | None = None, strict: bool = False) -> Any:
    """``param`` as an annotated type for a pydantic model field (an HTTP body, MCP arguments).

    Optional parameters accept null (meaning "not given"); their keywords stay on the non-null
    branch of the schema. ``strict`` refuses conversions (``false`` as a number, ``"1"`` as an
    integer), for JSON bodies whose types the client controls exactly.
    """
    extra = dict(param.schema) or None
    strictness = True if strict else None
    if param.required if required is None else required:
        return Annotated[param.type, Field(description=param.description, json_schema_extra=extra, strict=strictness)]
    inner = Annotated[param.type, Field(json_schema_extra=extra, strict=strictness)] if extra or strict else param.type
    return Annotated[inner | None, Field(description=param.description)]
