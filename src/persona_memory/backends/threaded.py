"""Offer a backend built on a blocking driver (SQLite, files) to async code.

Each call runs in a worker thread (``asyncio.to_thread``), so a writer waiting for a lock or
an ``fsync`` never blocks the event loop. ``version()`` is the exception: the contract requires it
to be cheap and non-blocking, and a thread hop would cost more than the call itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Hashable, Sequence
from typing import Any

from ..models import Candidate, MemoryRecord, Query, Stats
from ._async.base import AsyncBackend
from ._sync.base import Backend


class AsyncThreadedBackend(AsyncBackend):
    """The async face of a sync :class:`Backend`."""

    def __init__(self, backend: Backend) -> None:
        self.sync = backend
        self.url = backend.url
        self.name = backend.name  # type: ignore[misc]
        self.supports_records = backend.supports_records  # type: ignore[misc]

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

    async def add(self, record: MemoryRecord) -> tuple[MemoryRecord, bool]:
        return await asyncio.to_thread(self.sync.add, record)

    async def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        return await asyncio.to_thread(self.sync.get_records, persona, ids)

    async def supersede(self, persona: str, old_id: str, new: MemoryRecord) -> MemoryRecord:
        return await asyncio.to_thread(self.sync.supersede, persona, old_id, new)

    async def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        return await asyncio.to_thread(self.sync.forget, persona, ids)

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

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)

    def __getattr__(self, name: str) -> Any:
        # backend-specific extras (e.g. SQLiteBackend.path) stay reachable
        if name == "sync":  # not set yet (unpickling): avoid recursing
            raise AttributeError(name)
        return getattr(self.sync, name)
