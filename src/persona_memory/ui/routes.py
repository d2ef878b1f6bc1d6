"""The browser's page and the two read-only routes it needs beyond the operations.

``GET /v1/personas`` lists the personas a token may see; ``GET /v1/personas/{persona}/evolution``
returns the persona's ``state.json`` and evolution events. Both sit behind the same token check as
every other route and are in the OpenAPI document (so the fuzzer covers them too).
"""

# No ``from __future__ import annotations`` here: FastAPI must see the real annotations of the
# route functions below, which refer to names local to ``install``.
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI
from fastapi import Path as PathParam
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from .. import validation
from ..config import Settings
from ..errors import ConfigError
from ..operations import PERSONA, StorePool
from .evolution import read_evolution

STATIC = Path(__file__).parent / "static"
EVERYTHING = "*"


def install(
    app: FastAPI, pool: StorePool, authorize: Callable[..., Any], identify: Callable[..., Any],
    responses: dict[int | str, Any],
) -> None:
    """Serve the page at ``/ui/`` and add its routes to ``app`` (``authorize``/``identify``: token checks)."""
    settings = Settings.resolve(url=pool.url, base_path=pool.base_path)
    persona_path = Annotated[
        str, PathParam(description=PERSONA.description, json_schema_extra=dict(PERSONA.schema))
    ]

    @app.get(
        "/v1/personas", tags=["browser"], operation_id="personas", responses=responses,
        summary="The personas this store holds memories for (those the token may see).",
    )
    async def personas(grant: Annotated[str, Depends(identify)]) -> dict[str, list[str]]:
        found = _persona_dirs(settings.base_path)
        if pool.url is not None:  # one shared backend: it knows its personas
            async with pool.open("persona", settings.persona) as store:
                found.update(await store.backend.personas())
        return {"personas": sorted(p for p in found if grant in (EVERYTHING, p))}

    @app.get(
        "/v1/personas/{persona}/evolution", tags=["browser"], operation_id="evolution", responses=responses,
        summary="The persona's state.json and its evolution events, newest first (none yet: null and []).",
        dependencies=[Depends(authorize)],
    )
    async def evolution(persona: persona_path) -> dict[str, Any]:
        return read_evolution(settings.persona_dir(validation.slug(persona)))

    @app.get("/", include_in_schema=False)
    async def home() -> RedirectResponse:
        return RedirectResponse("/ui/")

    app.mount("/ui", StaticFiles(directory=STATIC, html=True), name="ui")


def _persona_dirs(base: Path) -> set[str]:
    found: set[str] = set()
    try:
        entries = list(base.iterdir())
    except OSError:  # no store yet
        return found
    for entry in entries:
        slug = entry.name.removeprefix("persona-")
        if entry.name.startswith("persona-") and entry.is_dir():
            try:
                found.add(validation.slug(slug))
            except ConfigError:
                continue
    return found
