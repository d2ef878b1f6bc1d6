"""The MCP server (``pmem mcp``): one tool per operation, for agents.

Tools, their argument schemas and descriptions are generated from
:data:`persona_memory.operations.OPERATIONS`. A library error comes back as a tool error whose
text starts with the error's name (``InvalidInputError: invalid importance=2: ...``); the server
keeps running. Needs the ``mcp`` extra: ``pip install 'persona-memory[mcp]'`` (the official SDK,
2.x, whose server class is ``MCPServer``).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from . import __version__
from .config import Settings
from .errors import ConfigError, PersonaMemoryError
from .operations import OPERATIONS, Operation, StorePool
from .schemas import field_annotation

DEFAULT_PORT = 8766
INSTRUCTIONS = (
    "Long-term memory about the user, kept across conversations. Store what you learn that will "
    "matter later (preferences, personal facts, milestones, emotional moments) with tags and an "
    "importance; search before answering questions about the user; forget anything the user asks "
    "you to forget. Never store secrets (passwords, keys, tokens): they are refused. The kv_* tools "
    "are a plain key-value store for the bot's own state."
)


def create_server(
    *, persona: str | None = None, url: str | None = None, base_path: str | None = None
) -> MCPServer[Any]:
    """An MCP server over the store at ``url`` / ``base_path``; ``persona`` is the tools' default."""
    settings = Settings.resolve(persona=persona, url=url, base_path=base_path)
    pool = StorePool(url=url, base_path=base_path)

    @asynccontextmanager
    async def lifespan(_server: MCPServer[Any]) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:
            await pool.aclose()

    server: MCPServer[Any] = MCPServer(
        "persona-memory", version=__version__, instructions=INSTRUCTIONS, lifespan=lifespan,
        log_level="WARNING",
    )
    for op in OPERATIONS:
        server.add_tool(
            _tool(op, pool, settings.persona),
            name=op.name,
            description=op.summary,
            annotations=ToolAnnotations(
                read_only_hint=op.read_only, destructive_hint=op.destructive, open_world_hint=False
            ),
            structured_output=True,
        )
    return server


def _tool(op: Operation, pool: StorePool, default_persona: str) -> Callable[..., Awaitable[dict[str, Any]]]:
    scope = op.scope_param
    if op.scope == "persona":
        scope = replace(scope, description=f"{scope.description} Default: {default_persona!r}.")
    defaults = {"persona": default_persona, "namespace": scope.default}
    parameters = [
        inspect.Parameter(
            scope.name, inspect.Parameter.KEYWORD_ONLY,
            annotation=field_annotation(scope, required=True), default=defaults[scope.name],
        )
    ]
    for param in op.params:
        parameters.append(inspect.Parameter(
            param.name, inspect.Parameter.KEYWORD_ONLY, annotation=field_annotation(param),
            default=inspect.Parameter.empty if param.required else None,
        ))

    async def tool(**arguments: Any) -> dict[str, Any]:
        try:
            return await pool.execute(op, arguments)
        except PersonaMemoryError as exc:
            raise ToolError(f"{type(exc).__name__}: {exc}") from exc

    tool.__name__ = op.name
    tool.__signature__ = inspect.Signature(parameters, return_annotation=dict[str, Any])  # type: ignore[attr-defined]
    return tool


def run(server: MCPServer[Any], *, http: bool = False, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    """Serve over stdio, or over streamable HTTP at ``http://host:port/mcp`` (loopback only)."""
    if not http:
        server.run("stdio")
        return
    from .api.auth import is_loopback

    if not is_loopback(host):
        raise ConfigError(f"pmem mcp --http serves on loopback only (127.0.0.1, ::1); got host={host!r}")
    server.run("streamable-http", host=host, port=port)
