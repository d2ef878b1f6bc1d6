"""Offer a backend built on a blocking driver (SQLite, files) to async code.

Each call runs in a worker thread (``asyncio.to_thread``), so a writer waiting for a lock or
an ``fsync`` never blocks the event loop. ``version()`` is the exception: the contract requires it
to be cheap and non-blocking, and a thread hop would cost more than the call itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from ..models import Candidate, MemoryRecord, Query, Stats, Vector
from ._async.base import AsyncBackend
from ._sync.base import Backend


class AsyncThreadedBackend(AsyncBackend):
    """The async face of a sync :class:`Backend`."""

    def __init__(self, backend: Backend) -> None:
        self.sync = backend
        self.url = backend.url
        self.name = backend.name  # type: ignore[misc]
        self.supports_records = backend.supports_records  # type: ignore[misc]
        self.supports_vectors = backend.supports_vectors  # type: ignore[misc]
        self.supports_context = backend.supports_context  # type: ignore[misc]

    async def kv_get(self, namespace: str, key: str) -> str | None:
        return await asyncio.to_thread(self.sync.kv_get, namespace, key)

    async def kv_put(self, namespace: str, key: str, value: str, ttl: float | None = None) -> None:
        await asyncio.to_thread(self.sync.kv_put, namespace, key, value, ttl)

    async def kv_delete(self, namespace: str, key: str) -> bool:
        return await asyncio.to_thread(self.sync.kv_delete, namespace, key)

    async def kv_keys(self, namespace: str) -> list[str]:
        return await asyncio.to_thread(self.sync.kv_keys, namespace)

    async def version(self) -> Hashable | None:
        return self.sync.version()

    async def add(self, record: MemoryRecord, vector: Vector | None = None) -> tuple[MemoryRecord, bool]:
        return await asyncio.to_thread(self.sync.add, record, vector)

    async def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        return await asyncio.to_thread(self.sync.get_records, persona, ids)

    async def supersede(
        self, persona: str, old_id: str, new: MemoryRecord, vector: Vector | None = None
    ) -> MemoryRecord:
        return await asyncio.to_thread(self.sync.supersede, persona, old_id, new, vector)

    async def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        return await asyncio.to_thread(self.sync.forget, persona, ids)

    async def check(self) -> list[str]:
        return await asyncio.to_thread(self.sync.check)

    async def compact(self) -> None:
        await asyncio.to_thread(self.sync.compact)

    async def candidates(self, persona: str, query: Query) -> list[Candidate]:
        return await asyncio.to_thread(self.sync.candidates, persona, query)

    async def touch(self, persona: str, ids: Sequence[str], at: dt.datetime) -> None:
        await asyncio.to_thread(self.sync.touch, persona, ids, at)

    async def stats(self, persona: str) -> Stats:
        return await asyncio.to_thread(self.sync.stats, persona)

    async def export(self, persona: str) -> list[MemoryRecord]:
        return await asyncio.to_thread(self.sync.export, persona)

    async def import_records(self, records: Sequence[MemoryRecord]) -> int:
        return await asyncio.to_thread(self.sync.import_records, records)

    async def personas(self) -> list[str]:
        return await asyncio.to_thread(self.sync.personas)

    async def set_vectors(self, persona: str, vectors: Mapping[str, Vector]) -> None:
        await asyncio.to_thread(self.sync.set_vectors, persona, vectors)

    async def missing_vectors(self, persona: str, limit: int) -> list[tuple[str, str]]:
        return await asyncio.to_thread(self.sync.missing_vectors, persona, limit)

    async def clear_vectors(self) -> None:
        await asyncio.to_thread(self.sync.clear_vectors)

    async def get_meta(self, name: str) -> str | None:
        return await asyncio.to_thread(self.sync.get_meta, name)

    async def set_meta(self, name: str, value: str) -> None:
        await asyncio.to_thread(self.sync.set_meta, name, value)

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)

    def __getattr__(self, name: str) -> Any:
        # backend-specific extras (e.g. SQLiteBackend.path) stay reachable
        if name == "sync":  # not set yet (unpickling): avoid recursing
            raise AttributeError(name)
        return getattr(self.sync, name)
