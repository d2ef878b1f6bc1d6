"""Redis: the key-value ``Memory`` contract on a shared server (``[redis]`` extra, redis-py).

``redis://host:port/db`` (or ``rediss://`` for TLS), plus ``?prefix=`` (default ``pmem:``) to
share one Redis with other applications. A key is stored as one Redis string::

    <prefix>kv:<length of namespace>:<namespace>:<key>  ->  JSON text     (TTL: Redis's own PX)

The namespace's length makes the split unambiguous (``a:b``/``c`` and ``a``/``b:c`` are two keys).
Settings live in the hash ``<prefix>meta``. Persona memories are not stored here
(``supports_records`` is False): use Redis as a fast shared tier in front of a durable store,
``Memory(databases=["redis://...", "sqlite:///..."])``.

Durability is the server's: a write has returned once Redis acknowledged it; it survives a
Redis restart only with persistence configured there (AOF with ``appendfsync always`` to lose
nothing). ``version()`` is None, so ``Memory`` does not cache what it reads from Redis.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, NoReturn

import redis.exceptions
from redis.asyncio import Redis

from ... import signals
from ...errors import (
    BackendError,
    BackendUnavailableError,
    StorageFullError,
    StoreBusyError,
    StoreReadOnlyError,
)
from ...models import Candidate, MemoryRecord, Query, Stats, Vector
from ..process import ABANDONED, owner
from ..urls import positive_number, redacted, split_options
from .base import AsyncBackend

DEFAULT_PREFIX = "pmem:"
DEFAULT_TIMEOUT = 10.0
_GLOB_SPECIAL = str.maketrans({c: "\\" + c for c in "*?[]\\"})


class AsyncRedisBackend(AsyncBackend):
    """Key-value entries in Redis (no persona memories)."""

    name = "redis"
    supports_records = False
    url_options = ()

    def __init__(self, url: str, *, prefix: str = DEFAULT_PREFIX, timeout: float = DEFAULT_TIMEOUT) -> None:
        self._driver_url = url
        self.url = redacted(url) + ("" if prefix == DEFAULT_PREFIX else f" prefix={prefix}")
        self.prefix = prefix
        self.timeout = timeout
        self._client: Redis | None = None
        self._owner: tuple[int, int] | None = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> AsyncRedisBackend:
        """``redis://[:password@]host:port/db?prefix=pmem:&timeout=10``."""
        driver_url, ours = split_options(url, ("prefix", "timeout"))
        timeout = positive_number("timeout", ours["timeout"], url) if "timeout" in ours else DEFAULT_TIMEOUT
        return cls(driver_url, prefix=ours.get("prefix", DEFAULT_PREFIX), timeout=timeout)

    def _redis(self) -> Redis:
        current = owner()
        if self._client is None or self._owner != current:
            if self._client is not None:
                ABANDONED.append(self._client)  # another process or event loop owns it
            self._client = Redis.from_url(
                self._driver_url,
                decode_responses=True,
                socket_timeout=self.timeout,
                socket_connect_timeout=self.timeout,
            )
            self._owner = current
        return self._client

    async def aclose(self) -> None:
        client, self._client = self._client, None
        if client is not None and self._owner == owner():
            await client.aclose()

    def __getstate__(self) -> dict[str, Any]:
        return {"url": self._driver_url, "prefix": self.prefix, "timeout": self.timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["url"], prefix=state["prefix"], timeout=state["timeout"])  # type: ignore[misc]

    @contextmanager
    def _translate(self, operation: str) -> Iterator[None]:
        """Map redis-py errors to ours; a write refused for lack of memory emits ``resource_limit``."""
        try:
            yield
        except redis.exceptions.TimeoutError as exc:
            raise StoreBusyError(f"{operation} on {self.url}: no answer within {self.timeout:g} s") from exc
        except redis.exceptions.ConnectionError as exc:
            raise BackendUnavailableError(f"{operation}: cannot reach Redis at {self.url} ({exc})") from exc
        except redis.exceptions.ReadOnlyError as exc:
            error: BackendError = StoreReadOnlyError(f"{operation} on {self.url}: the server is read-only ({exc})")
            signals.emit(signals.RESOURCE_LIMIT, store=self.url, error=error, operation=operation)
            raise error from exc
        except redis.exceptions.ResponseError as exc:
            if str(exc).startswith("OOM"):
                error = StorageFullError(
                    f"{operation} on {self.url}: Redis is out of memory ({exc}); "
                    "everything stored before is intact"
                )
                signals.emit(signals.RESOURCE_LIMIT, store=self.url, error=error, operation=operation)
                raise error from exc
            raise BackendError(f"{operation} on {self.url} failed: {exc}") from exc
        except redis.exceptions.RedisError as exc:
            raise BackendError(f"{operation} on {self.url} failed: {exc}") from exc

    def _key(self, namespace: str, key: str) -> str:
        return f"{self._namespace_prefix(namespace)}{key}"

    def _namespace_prefix(self, namespace: str) -> str:
        return f"{self.prefix}kv:{len(namespace)}:{namespace}:"

    # ---- key-value ----

    async def kv_get(self, namespace: str, key: str) -> str | None:
        with self._translate("get"):
            value = await self._redis().get(self._key(namespace, key))
        return None if value is None else str(value)

    async def kv_put(self, namespace: str, key: str, value: str, ttl: float | None = None) -> None:
        # a new value without ttl replaces the old TTL too (SET drops it), as in the other backends
        milliseconds = None if ttl is None else max(1, round(ttl * 1000))
        with self._translate("put"):
            await self._redis().set(self._key(namespace, key), value, px=milliseconds)

    async def kv_delete(self, namespace: str, key: str) -> bool:
        with self._translate("delete"):
            return bool(await self._redis().delete(self._key(namespace, key)))

    async def kv_keys(self, namespace: str) -> list[str]:
        start = self._namespace_prefix(namespace)
        found = []
        with self._translate("keys"):
            async for name in self._redis().scan_iter(match=start.translate(_GLOB_SPECIAL) + "*", count=1000):
                found.append(str(name)[len(start) :])
        return sorted(found)

    # ---- settings ----

    async def get_meta(self, name: str) -> str | None:
        with self._translate("settings"):
            value = await self._redis().hget(f"{self.prefix}meta", name)  # type: ignore[misc]
        return None if value is None else str(value)

    async def set_meta(self, name: str, value: str) -> None:
        with self._translate("settings"):
            await self._redis().hset(f"{self.prefix}meta", name, value)  # type: ignore[misc]

    # ---- persona memories: not here ----

    def _no_records(self) -> NoReturn:
        raise BackendError(
            "the redis backend stores key-value data only; keep persona memories in "
            "sqlite://, jsonl:// or postgresql://"
        )

    async def add(self, record: MemoryRecord, vector: Vector | None = None) -> tuple[MemoryRecord, bool]:
        self._no_records()

    async def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        self._no_records()

    async def supersede(
        self, persona: str, old_id: str, new: MemoryRecord, vector: Vector | None = None
    ) -> MemoryRecord:
        self._no_records()

    async def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        self._no_records()

    async def candidates(self, persona: str, query: Query) -> list[Candidate]:
        self._no_records()

    async def touch(self, persona: str, ids: Sequence[str], at: dt.datetime) -> None:
        self._no_records()

    async def stats(self, persona: str) -> Stats:
        self._no_records()

    async def export(self, persona: str) -> list[MemoryRecord]:
        self._no_records()

    async def import_records(self, records: Sequence[MemoryRecord]) -> int:
        self._no_records()

    async def personas(self) -> list[str]:
        return []

    async def set_vectors(self, persona: str, vectors: Mapping[str, Vector]) -> None:
        self._no_records()
