"""The HTTP API, generated from :data:`persona_memory.operations.OPERATIONS`.

Each operation becomes one route: its path parameters come from the route template, the other
parameters are query parameters (GET, DELETE) or fields of a JSON body (POST, PUT, PATCH). Types
are checked by FastAPI; values (ranges, slugs, dates) by the library, so a bad value gets the
same message here as from Python, the CLI or MCP. Errors are JSON:
``{"error": {"type": "InvalidInputError", "message": "...", "argument": "limit"}}``.
"""

from __future__ import annotations

import inspect
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Body, Depends, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.security import HTTPBearer
from pydantic import BaseModel, ConfigDict, Field, create_model
from starlette.exceptions import HTTPException
from starlette.routing import Match

from .. import __version__
from ..errors import InvalidInputError, PersonaMemoryError
from ..operations import OPERATIONS, Operation, Param, StorePool, error_body, error_kind
from ..schemas import field_annotation
from ..ui import routes as ui_routes
from .auth import AccessDenied, AccessPolicy, check_bind, is_loopback
from .middleware import BodyLimit, LoopbackHostOnly, SecurityHeaders, error_response

logger = logging.getLogger("persona_memory.api")

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_MAX_BODY_BYTES = 1 << 20  # 1 MiB: a memory is at most 32k characters; kv values stay small
_BODY_METHODS = ("POST", "PUT", "PATCH")
_HTTP_ERRORS = {404: "NotFound", 405: "MethodNotAllowed", 413: "PayloadTooLarge"}


@dataclass(frozen=True)
class ServerConfig:
    """How ``pmem serve`` runs: where it listens, which store it serves, who may call it."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = None
    persona_tokens: dict[str, str] = field(default_factory=dict)
    url: str | None = None
    base_path: str | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES

    def policy(self) -> AccessPolicy:
        return AccessPolicy.from_tokens(self.token, self.persona_tokens)


class ErrorDetail(BaseModel):
    type: str = Field(description="The error's name, e.g. InvalidInputError, MemoryNotFoundError.")
    message: str = Field(description="What is wrong, naming the argument and the value.")
    argument: str | None = Field(None, description="The argument at fault, when there is one.")


class ErrorResponse(BaseModel):
    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Bad input: the message names the argument and the value."},
    401: {"model": ErrorResponse, "description": "Missing or invalid token (only when tokens are configured)."},
    403: {"model": ErrorResponse, "description": "The token is for another persona, or the Host is not loopback."},
    404: {"model": ErrorResponse, "description": "Unknown memory id or key."},
    413: {"model": ErrorResponse, "description": "Request body too large."},
    503: {"model": ErrorResponse, "description": "The store is busy, read-only or failing; nothing was lost."},
}


def create_app(config: ServerConfig | None = None, *, pool: StorePool | None = None) -> FastAPI:
    """The API as an ASGI app (serve it with uvicorn, or let ``pmem serve`` do it)."""
    config = config or ServerConfig()
    policy = config.policy()
    check_bind(config.host, policy)
    pool = pool or StorePool(url=config.url, base_path=config.base_path)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await pool.aclose()

    app = FastAPI(
        title="persona-memory",
        version=__version__,
        description="Persistent memory for chat bots and AI personas: persona memories and key-value memory.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load their code from a CDN; the API stays offline
        redoc_url=None,
    )
    app.state.config = config
    app.state.pool = pool
    app.state.policy = policy

    bearer = HTTPBearer(auto_error=False, description="MEMORY_API_KEY, or a persona's own token.")

    async def authorize(request: Request, _credentials: Any = Depends(bearer)) -> str:
        """The route's persona (or key-value memory) must be within the token's grant."""
        return policy.check(request.headers.get("authorization"), request.path_params.get("persona"))

    async def identify(request: Request, _credentials: Any = Depends(bearer)) -> str:
        """Any valid token: its grant (for routes that filter what they show by it)."""
        return policy.identify(request.headers.get("authorization"))

    for op in OPERATIONS:
        _add_route(app, op, pool, [Depends(authorize)])
    ui_routes.install(app, pool, authorize, identify, ERROR_RESPONSES)

    @app.get("/health", tags=["server"], summary="Liveness check (no token needed).")
    async def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    _install_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodyLimit, max_bytes=config.max_body_bytes)
    if is_loopback(config.host):
        app.add_middleware(LoopbackHostOnly)
    return app


# ---- routes from operations ----


def _add_route(app: FastAPI, op: Operation, pool: StorePool, dependencies: list[Any]) -> None:
    method, path = op.http
    in_path = set(re.findall(r"{(\w+)}", path))
    route_path = re.sub(r"{key}$", "{key:path}", path)  # keys may contain '/'
    parameters = []
    body_params: list[Param] = []
    for param in (op.scope_param, *op.params):
        extra = dict(param.schema) or None
        if param.name in in_path:
            annotation: Any = Annotated[str, Path(description=param.description, json_schema_extra=extra)]
            parameters.append(inspect.Parameter(param.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation))
        elif method in _BODY_METHODS:
            body_params.append(param)
        else:
            # not nullable: a query parameter is either given or left out
            annotation = Annotated[param.type, Query(description=param.description, json_schema_extra=extra)]
            parameters.append(inspect.Parameter(
                param.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation,
                default=inspect.Parameter.empty if param.required else None,
            ))
    if body_params:
        model = _body_model(op, body_params)
        parameters.append(inspect.Parameter(
            "body", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[model, Body()]
        ))
    parameters.append(inspect.Parameter("request", inspect.Parameter.KEYWORD_ONLY, annotation=Request))
    query = [] if body_params else [p.name for p in op.params if p.name not in in_path]
    endpoint = _endpoint(op, pool, query)
    endpoint.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    app.add_api_route(
        route_path, endpoint, methods=[method], operation_id=op.name, summary=op.summary,
        status_code=op.status, tags=["persona memories" if op.scope == "persona" else "key-value memory"],
        dependencies=dependencies, responses=ERROR_RESPONSES,
    )


def _body_model(op: Operation, params: list[Param]) -> type[BaseModel]:
    fields: dict[str, Any] = {
        p.name: (field_annotation(p, strict=p.type is not Any), ... if p.required else None) for p in params
    }
    name = "".join(part.capitalize() for part in op.name.split("_")) + "Request"
    # unknown fields are refused: a misspelt "tag" must not be silently ignored
    config = ConfigDict(extra="forbid")
    if op.at_least_one:  # update: at least one field to change
        config["json_schema_extra"] = {"minProperties": 1}
    model: type[BaseModel] = create_model(name, __config__=config, **fields)
    return model


def _endpoint(op: Operation, pool: StorePool, query: list[str]) -> Callable[..., Awaitable[JSONResponse]]:
    """The route's function; FastAPI reads its parameters from the ``__signature__`` set on it."""

    async def endpoint(**kwargs: Any) -> JSONResponse:
        unknown = set(kwargs.pop("request").query_params) - set(query)
        if unknown:  # a misspelt filter (?tag=food) must not silently return everything
            name = sorted(unknown)[0]
            raise InvalidInputError(name, name, f"unknown query parameter; {op.name} takes: {', '.join(query) or 'none'}")
        body = kwargs.pop("body", None)
        arguments = dict(kwargs)
        if body is not None:
            arguments.update(body.model_dump())
        elif isinstance(arguments.get("tags"), list):
            arguments["tags"] = ",".join(arguments["tags"])  # ?tags=a&tags=b and ?tags=a,b: two tags
        return JSONResponse(await pool.execute(op, arguments), status_code=op.status)

    endpoint.__name__ = op.name
    return endpoint


# ---- errors ----


def _install_error_handlers(app: FastAPI) -> None:
    async def library_error(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, PersonaMemoryError)
        kind = error_kind(exc)
        if kind.status >= 500:
            logger.warning("request failed: %s: %s", type(exc).__name__, exc)
        return JSONResponse({"error": error_body(exc)}, status_code=kind.status)

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        first = exc.errors()[0]
        where, *names = first.get("loc", ("body",))  # ("query", "limit"), ("body", "tags", 0)...
        argument = str(names[0]) if names else str(where)
        reason, value = first.get("msg", "invalid"), first.get("input")
        if first.get("type") == "json_invalid":  # its loc is a character position
            argument, reason = "body", "the body is not valid JSON"
        elif first.get("type") == "missing":
            reason, value = "is required", None
        elif argument == "body" and isinstance(value, bytes):
            # FastAPI parses JSON only when the client says so (a cross-site form cannot)
            value = request.headers.get("content-type")
            reason = "send a JSON object with the header 'Content-Type: application/json'"
        error = InvalidInputError(argument, value, reason)
        return JSONResponse({"error": error_body(error)}, status_code=400)

    async def access_denied(_request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AccessDenied)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        kind = "Unauthorized" if exc.status == 401 else "Forbidden"
        return error_response(exc.status, kind, exc.message, headers)

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, HTTPException)
        kind = _HTTP_ERRORS.get(exc.status_code, "HTTPError")
        headers = dict(exc.headers or {})
        if exc.status_code == 405:
            # Starlette names only the first matching route's methods; a path has one route per method
            headers["Allow"] = ", ".join(_allowed_methods(app, request))
        return error_response(exc.status_code, kind, str(exc.detail), headers)

    async def unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unexpected error", exc_info=exc)
        return error_response(500, "InternalError", "internal error; the server log has the details")

    app.add_exception_handler(PersonaMemoryError, library_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(AccessDenied, access_denied)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


def _allowed_methods(app: FastAPI, request: Request) -> list[str]:
    methods: set[str] = set()
    for route in app.router.routes:
        match, _child = route.matches(request.scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods - {"HEAD"})


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, without the 422 responses it adds by default: we answer 400."""
    if app.openapi_schema is None:
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        for path in schema.get("paths", {}).values():
            for operation in path.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            schema.get("components", {}).get("schemas", {}).pop(name, None)
        app.openapi_schema = schema
    return app.openapi_schema
