"""ASGI guards in front of the API: request body size and, on loopback, the Host header."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .auth import is_loopback


def error_response(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's one error shape: ``{"error": {"type": ..., "message": ...}}``."""
    return JSONResponse({"error": {"type": kind, "message": message}}, status_code=status, headers=headers)


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"request body larger than {limit} bytes")


class BodyLimit:
    """Answer 413 to a body over ``max_bytes``: by its Content-Length, or while it streams in."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            status, message = (413, f"request body larger than {self.max_bytes} bytes") if declared.isdigit() \
                else (400, "invalid Content-Length header")
            kind = "PayloadTooLarge" if status == 413 else "InvalidInputError"
            await error_response(status, kind, message)(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)  # the app's HTTPException handler answers 413
            return message

        await self.app(scope, limited, send)


def _hostname(host_header: str) -> str:
    if host_header.startswith("["):  # [::1]:8765
        return host_header[1:].partition("]")[0]
    return host_header.rpartition(":")[0] if host_header.count(":") == 1 else host_header


class LoopbackHostOnly:
    """On a loopback-bound server, refuse requests whose Host header names another machine.

    Without this, a web page could use DNS rebinding (its own name resolving to 127.0.0.1) to
    read a local server's memories from the user's browser.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
            if not is_loopback(_hostname(host)):
                response: Any = error_response(
                    403, "Forbidden", f"Host {host!r} is not allowed: this server only answers on loopback"
                )
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Headers that keep the browser page self-contained and unframeable.

    The Content-Security-Policy lets a page load scripts, styles and data from this server only,
    so the memory browser cannot reach (or be made to reach) anything on the network.
    """

    HEADERS = (
        (b"content-security-policy",
         b"default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *self.HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)
