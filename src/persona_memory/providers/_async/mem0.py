"""mem0 (``[mem0]`` extra, the ``mem0ai`` SDK): the hosted platform or a local mem0.

* ``MEMORY_API_KEY`` set: the hosted platform through ``mem0.AsyncMemoryClient``
  (``PMEM_PROVIDER_URL`` overrides its host).
* otherwise: a local ``mem0.AsyncMemory`` built from the config the user gives
  (``PMEM_MEM0_CONFIG``: a JSON file path, or ``mem0_config=`` as a dict).

Memories are added with ``infer=False``: the text is stored as it is and no LLM is called.
A persona is a mem0 ``user_id``; tags, type, importance and time travel in mem0's metadata.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ...config import Settings
from ...errors import BackendUnavailableError, ConfigError, ProviderError, ProviderUnavailableError
from ..metadata import RemoteMemory
from .base import AsyncProvider

try:
    import httpx
    import mem0
    import requests
    from mem0 import exceptions as mem0_errors
except ImportError as exc:  # pragma: no cover - exercised by the missing-extra test in a subprocess
    raise BackendUnavailableError(
        f"MEMORY_PROVIDER=mem0 needs pip install 'persona-memory[mem0]' ({exc})"
    ) from exc

_UNAVAILABLE = (
    mem0_errors.NetworkError,
    mem0_errors.AuthenticationError,
    mem0_errors.RateLimitError,
    httpx.TransportError,
    requests.RequestException,  # the hosted client pings with requests when it starts
    ConnectionError,
    TimeoutError,
)


@contextlib.contextmanager
def _translate(operation: str) -> Iterator[None]:
    try:
        yield
    except _UNAVAILABLE as exc:
        raise ProviderUnavailableError(f"mem0 {operation} failed: {type(exc).__name__}: {exc}") from exc
    except httpx.HTTPStatusError as exc:
        status = exc.response.status_code
        message = f"mem0 {operation} failed with HTTP {status}"
        if status in (401, 403, 408, 429) or status >= 500:
            raise ProviderUnavailableError(message) from exc
        raise ProviderError(message) from exc
    except mem0_errors.MemoryError as exc:  # mem0's own base class (it shadows the builtin)
        raise ProviderError(f"mem0 {operation} failed: {exc}") from exc


class AsyncMem0Provider(AsyncProvider):
    name = "mem0"

    @classmethod
    def from_settings(cls, settings: Settings, *, mem0_config: dict[str, Any] | None = None) -> AsyncMem0Provider:
        if settings.api_key:
            return cls(api_key=settings.api_key, host=settings.provider_url)
        if mem0_config is None and settings.mem0_config:
            path = Path(settings.mem0_config).expanduser()
            try:
                mem0_config = json.loads(path.read_text())
            except (OSError, ValueError) as exc:
                raise ConfigError(f"cannot read PMEM_MEM0_CONFIG={str(path)!r}: {exc}") from exc
        if mem0_config is None:
            raise ConfigError(
                "MEMORY_PROVIDER=mem0 needs MEMORY_API_KEY (the hosted platform) or a local mem0 "
                "config: PMEM_MEM0_CONFIG=<file.json> or PersonaStore(mem0_config={...})"
            )
        return cls(config=mem0_config)

    def __init__(
        self,
        *,
        api_key: str | None = None,
        host: str | None = None,
        config: dict[str, Any] | None = None,
    ) -> None:
        self.hosted = api_key is not None
        self._api_key, self._host, self._config = api_key, host, config
        self._client: Any = None

    @property
    def client(self) -> Any:
        """The mem0 client, made on first use: the hosted one checks the key over the network
        when it starts, so an outage at start-up must fall back like any other."""
        if self._client is None:
            with _translate("connect"):
                if self._api_key is not None:
                    try:
                        self._client = mem0.AsyncMemoryClient(api_key=self._api_key, host=self._host)
                    except ValueError as exc:  # the ping refused the key
                        raise ProviderUnavailableError(f"mem0 rejected the API key: {exc}") from exc
                else:
                    self._client = mem0.AsyncMemory.from_config(self._config or {})
        return self._client

    async def add(self, persona: str, content: str, metadata: dict[str, Any], key: str) -> str:
        existing = await self.find(persona, key)  # mem0 has no idempotency key: look first
        if existing is not None:
            return existing.remote_id
        with _translate("add"):
            result = await self.client.add(content, user_id=persona, metadata=metadata, infer=False)
        items = _results(result)
        if not items or "id" not in items[0]:
            raise ProviderError(f"mem0 add returned no memory id: {result!r}")
        return str(items[0]["id"])

    async def search(self, persona: str, query: str, limit: int) -> list[RemoteMemory]:
        with _translate("search"):
            if self.hosted:
                result = await self.client.search(query, filters={"user_id": persona}, top_k=limit)
            else:
                result = await self.client.search(query, filters={"user_id": persona}, top_k=limit, threshold=0.0)
        return [_remote(item) for item in _results(result)][:limit]

    async def list_all(self, persona: str, limit: int) -> list[RemoteMemory]:
        return await self._get_all({"user_id": persona}, limit)

    async def find(self, persona: str, memory_id: str) -> RemoteMemory | None:
        found = await self._get_all({"user_id": persona, "pm_id": memory_id}, 1)
        if found:
            return found[0]
        with _translate("get"):
            try:  # not one of ours: maybe a mem0 id
                item = await self.client.get(memory_id)
            except (ValueError, KeyError, mem0_errors.MemoryNotFoundError, mem0_errors.ValidationError):
                return None
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code in (400, 404):
                    return None
                raise
        if not item or (item.get("user_id") not in (None, persona)):
            return None
        return _remote(item)

    async def _get_all(self, filters: dict[str, Any], limit: int) -> list[RemoteMemory]:
        with _translate("list"):
            if self.hosted:
                result = await self.client.get_all(filters=filters, page_size=limit)
            else:
                result = await self.client.get_all(filters=filters, top_k=limit)
        return [_remote(item) for item in _results(result)]

    async def update(self, persona: str, remote_id: str, content: str, metadata: dict[str, Any]) -> None:
        with _translate("update"):
            await self.client.update(remote_id, text=content, metadata=metadata)

    async def delete(self, persona: str, remote_id: str) -> None:
        with _translate("delete"):
            try:
                await self.client.delete(remote_id)
            except (ValueError, mem0_errors.MemoryNotFoundError):
                pass  # already gone
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code != 404:
                    raise

    async def aclose(self) -> None:
        # the hosted clients keep their httpx client as .async_client (async) / .client (sync)
        if self._client is None:
            return
        http = getattr(self._client, "async_client", None) or getattr(self._client, "client", None)
        if http is not None:
            await http.aclose()


def _results(result: Any) -> list[dict[str, Any]]:
    items = result.get("results", []) if isinstance(result, dict) else result or []
    return [item for item in items if isinstance(item, dict)]


def _remote(item: dict[str, Any]) -> RemoteMemory:
    created = None
    if item.get("created_at"):
        with contextlib.suppress(ValueError, TypeError):
            created = dt.datetime.fromisoformat(str(item["created_at"]).replace("Z", "+00:00"))
            if created.tzinfo is None:
                created = created.replace(tzinfo=dt.UTC)
    return RemoteMemory(
        remote_id=str(item.get("id")),
        content=str(item.get("memory") or item.get("text") or ""),
        metadata=dict(item.get("metadata") or {}),
        created_at=created,
        score=item.get("score"),
    )
