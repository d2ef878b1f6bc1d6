"""Zep Cloud (``[zep]`` extra, the ``zep-cloud`` SDK): one Zep graph per persona, one episode per memory.

Zep extracts facts from episodes with its own LLM in the background; we store and search the
episodes themselves (``graph.episode.add`` / ``graph.search_episodes``), so what comes back is
what was stored. Tags, type, importance and time travel in the episode's metadata
(:mod:`persona_memory.providers.metadata`); adds carry an ``Idempotency-Key`` (our memory id),
so a write replayed after an outage is stored once.

Limits (documented in the README): Zep's metadata holds at most 10 keys of scalars; episode
search ranks by Zep's own relevance; Zep's extracted facts and graph are not used.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any

from ...config import Settings
from ...errors import BackendUnavailableError, ConfigError, ProviderError, ProviderUnavailableError
from ..metadata import RemoteMemory
from .base import AsyncProvider

try:
    import httpx
    from zep_cloud.client import AsyncZep
    from zep_cloud.core.api_error import ApiError
    from zep_cloud.types import EpisodeListFilters, MetadataFilter, MetadataFilterGroup
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test in a subprocess
    raise BackendUnavailableError(
        f"MEMORY_PROVIDER=zep needs pip install 'persona-memory[zep]' ({exc})"
    ) from exc

# 401/403: the key is rejected; 408/429/5xx: the service is in trouble. Both mean "fall back".
_UNAVAILABLE_STATUS = {401, 403, 408, 425, 429, 500, 502, 503, 504}


@contextlib.contextmanager
def _translate(operation: str) -> Iterator[None]:
    try:
        yield
    except ApiError as exc:
        if exc.status_code == 404:
            raise
        message = f"zep {operation} failed with HTTP {exc.status_code}: {exc.body}"
        if exc.status_code in _UNAVAILABLE_STATUS or exc.status_code is None:
            raise ProviderUnavailableError(message) from exc
        raise ProviderError(message) from exc
    except (httpx.TransportError, OSError) as exc:  # refused, reset, DNS, timeouts
        raise ProviderUnavailableError(f"zep {operation} failed: {type(exc).__name__}: {exc}") from exc


class AsyncZepProvider(AsyncProvider):
    name = "zep"

    @classmethod
    def from_settings(cls, settings: Settings, **_options: Any) -> AsyncZepProvider:
        if not settings.api_key:
            raise ConfigError("MEMORY_PROVIDER=zep needs MEMORY_API_KEY (your Zep project key)")
        return cls(settings.api_key, base_url=settings.provider_url, timeout=settings.provider_timeout)

    def __init__(self, api_key: str, *, base_url: str | None = None, timeout: float = 10.0) -> None:
        # max_retries=0: an outage is handled by our fallback, not by retrying for minutes
        self.client = AsyncZep(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self._graphs: dict[str, str] = {}

    async def _graph(self, persona: str) -> str:
        """The uuid of the persona's graph (named ``persona-<slug>``), created on first use."""
        if persona in self._graphs:
            return self._graphs[persona]
        name = f"persona-{persona}"
        with _translate("graph lookup"):
            pager = await self.client.graph.list(page_size=100, search=name)
            found = [g for g in (pager.items or []) if g.name == name]
            if found:
                uuid = str(found[0].uuid_)
            else:
                graph = await self.client.graph.create(name=name, idempotency_key=f"pmem-graph-{persona}")
                uuid = str(graph.uuid_)
        self._graphs[persona] = uuid
        return uuid

    async def add(self, persona: str, content: str, metadata: dict[str, Any], key: str) -> str:
        graph = await self._graph(persona)
        with _translate("add"):
            result = await self.client.graph.episode.add(
                graph, data=content, metadata=metadata, type="text", idempotency_key=key,
                reference_time=metadata.get("pm_at"),
            )
        if result.episode is None or result.episode.uuid_ is None:
            raise ProviderError("zep add returned no episode")
        return str(result.episode.uuid_)

    async def search(self, persona: str, query: str, limit: int) -> list[RemoteMemory]:
        graph = await self._graph(persona)
        with _translate("search"):
            pager = await self.client.graph.search_episodes(graph, query=query, page_size=limit)
        return [_remote(e) for e in (pager.items or [])][:limit]

    async def list_all(self, persona: str, limit: int) -> list[RemoteMemory]:
        graph = await self._graph(persona)
        with _translate("list"):
            pager = await self.client.graph.episode.list(graph, page_size=limit)
        return [_remote(e) for e in (pager.items or [])]

    async def find(self, persona: str, memory_id: str) -> RemoteMemory | None:
        graph = await self._graph(persona)
        match = MetadataFilterGroup(
            type="and", filters=[MetadataFilter(property_name="pm_id", operator="eq", value=memory_id)]
        )
        with _translate("find"):
            pager = await self.client.graph.episode.list(
                graph, page_size=2, filters=EpisodeListFilters(metadata_filters=match)
            )
            if pager.items:
                return _remote(pager.items[0])
            try:  # not one of ours: maybe a Zep episode id
                return _remote(await self.client.graph.episode.get(graph, memory_id))
            except ApiError as exc:
                if exc.status_code in (400, 404):
                    return None
                raise

    async def update(self, persona: str, remote_id: str, content: str, metadata: dict[str, Any]) -> None:
        graph = await self._graph(persona)
        with _translate("update"):
            # Zep episodes are immutable text: an update is a new episode replacing the old one
            await self.client.graph.episode.add(
                graph, data=content, metadata=metadata, type="text",
                idempotency_key=f"{metadata.get('pm_id', remote_id)}-update", reference_time=metadata.get("pm_at"),
            )
            await self._delete(graph, remote_id)

    async def delete(self, persona: str, remote_id: str) -> None:
        graph = await self._graph(persona)
        with _translate("delete"):
            await self._delete(graph, remote_id)

    async def _delete(self, graph: str, remote_id: str) -> None:
        try:
            await self.client.graph.episode.delete(graph, remote_id)
        except ApiError as exc:
            if exc.status_code != 404:
                raise

    async def aclose(self) -> None:
        wrapper = getattr(self.client, "_client_wrapper", None)
        http = getattr(getattr(wrapper, "httpx_client", None), "httpx_client", None)
        if http is not None:
            await http.aclose()


def _remote(episode: Any) -> RemoteMemory:
    created = None
    if episode.created_at:
        with contextlib.suppress(ValueError):
            created = dt.datetime.fromisoformat(str(episode.created_at).replace("Z", "+00:00"))
    return RemoteMemory(
        remote_id=str(episode.uuid_),
        content=episode.content or "",
        metadata=dict(episode.metadata or {}),
        created_at=created,
        score=episode.score if episode.score is not None else episode.relevance,
    )
