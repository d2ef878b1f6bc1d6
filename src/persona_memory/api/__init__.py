"""The HTTP API (``pmem serve``): REST routes for every operation, OpenAPI at ``/openapi.json``.

Needs the ``server`` extra: ``pip install 'persona-memory[server]'``.
"""

from __future__ import annotations

from .app import DEFAULT_HOST, DEFAULT_MAX_BODY_BYTES, DEFAULT_PORT, ServerConfig, create_app
from .auth import AccessPolicy

__all__ = ["DEFAULT_HOST", "DEFAULT_MAX_BODY_BYTES", "DEFAULT_PORT", "AccessPolicy", "ServerConfig", "create_app", "serve"]


def serve(config: ServerConfig) -> None:
    """Run the API with uvicorn until interrupted."""
    import uvicorn

    app = create_app(config)
    uvicorn.run(app, host=config.host, port=config.port, log_level="warning", server_header=False)
