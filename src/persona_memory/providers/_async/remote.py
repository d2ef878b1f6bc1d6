"""Persona operations on an external provider, with a local fallback that loses nothing.

The provider is the store of record. When it is unreachable, times out or rejects the key:

1. the operation runs on a local SQLite store instead (``persona-<slug>/fallback-<provider>.db``),
   the caller gets a :class:`~persona_memory.errors.FallbackWarning` carrying the faculty's note,
   and the ``provider_unavailable`` signal is emitted;
2. each write is also appended to a durable outbox (key-value entries in that same local file,
   in time order), in the same call;
3. on the next call that reaches the provider, and on ``sync()`` / ``pmem sync``, the outbox is
   replayed in order, each entry removed only after the provider acknowledged it; adds are
   idempotent (the provider is asked for the memory id first, and Zep also gets an
   idempotency key), so a replay interrupted half-way never stores anything twice. Replayed
   memories then leave the local fallback store, and ``provider_restored`` is emitted.

While the provider is down, reads see the memories written locally during the outage; once it
answers again (and the outbox is replayed) they see the provider's memories. Importance, decay,
filters and stats are computed here with the same pure code the local store uses, from the
metadata each memory carries (:mod:`persona_memory.providers.metadata`).

Limits, by design: access counts are not written back to the provider (no reinforcement
remotely); exact-duplicate detection is local-only; updating a memory that lives only in the
provider while it is down raises ``ProviderUnavailableError`` (its old fields are not known).
"""

from __future__ import annotations

import datetime as dt
import os
import time
import warnings
from collections.abc import Callable
from typing import Any

from ... import codec, scoring, signals
from ..._async.persona import AsyncPersonaStore
from ...errors import FallbackWarning, MemoryNotFoundError, ProviderUnavailableError
from ...models import Filters, MemoryRecord, SearchHit, Stats
from ...recordset import candidate, matches, stats
from ..metadata import to_metadata, to_record
from .base import AsyncProvider

#: The faculty's words for an outage (seed 003, "Error Handling").
OFFLINE_NOTE = "My long-term memory service is offline — I'll remember this locally for now."
#: How many of the provider's memories retrieve/stats/export look at.
LIST_LIMIT = 1000
#: Remote search results fetched per requested result, before filtering and ranking.
SEARCH_FACTOR = 4


class AsyncRemoteMemories:
    """The persona operations of :class:`AsyncPersonaStore` for ``MEMORY_PROVIDER=mem0|zep``."""

    def __init__(
        self, provider: AsyncProvider, fallback: AsyncPersonaStore, clock: Callable[[], dt.datetime]
    ) -> None:
        self.provider = provider
        self.fallback = fallback
        self.persona = fallback.persona
        self._clock = clock
        self._outbox = f"pmem-outbox/{provider.name}/{self.persona}"
        self._last_key = 0

    # ---- writes ----

    async def store(self, record: MemoryRecord) -> MemoryRecord:
        if await self._reachable("store"):
            try:
                await self.provider.add(self.persona, record.content, to_metadata(record), record.id)
                return record
            except ProviderUnavailableError as exc:
                self._fell_back(exc, "store")
        stored, _created = await self.fallback.backend.add(record)
        await self._enqueue({"op": "add", "record": stored.to_dict()})
        return stored

    async def update(self, old_id: str, build: Callable[[MemoryRecord], MemoryRecord]) -> MemoryRecord:
        """Replace ``old_id`` with ``build(old record)``."""
        if await self._reachable("update"):
            try:
                remote = await self.provider.find(self.persona, old_id)
                if remote is None:
                    raise MemoryNotFoundError(old_id, self.persona)
                new = build(to_record(remote, self.persona, self._clock()))
                await self.provider.update(self.persona, remote.remote_id, new.content, to_metadata(new))
                return new
            except ProviderUnavailableError as exc:
                self._fell_back(exc, "update")
        try:
            old = await self.fallback.get(old_id)
        except MemoryNotFoundError:
            raise ProviderUnavailableError(
                f"cannot update {old_id} now: it lives in {self.provider.name}, which is unreachable; "
                "retry when it is back"
            ) from None
        new = await self.fallback.backend.supersede(self.persona, old.id, build(old))
        await self._enqueue({"op": "update", "id": old_id, "record": new.to_dict()})
        return new

    async def forget(self, memory_id: str) -> list[str]:
        if await self._reachable("forget"):
            try:
                remote = await self.provider.find(self.persona, memory_id)
                if remote is None:
                    raise MemoryNotFoundError(memory_id, self.persona)
                await self.provider.delete(self.persona, remote.remote_id)
                return [memory_id]
            except ProviderUnavailableError as exc:
                self._fell_back(exc, "forget")
        forgotten = await self.fallback.backend.forget(self.persona, [memory_id])
        await self._enqueue({"op": "delete", "id": memory_id})
        return forgotten or [memory_id]

    # ---- reads ----

    async def get(self, memory_id: str) -> MemoryRecord:
        if await self._reachable("get"):
            try:
                remote = await self.provider.find(self.persona, memory_id)
                if remote is None:
                    raise MemoryNotFoundError(memory_id, self.persona)
                return to_record(remote, self.persona, self._clock())
            except ProviderUnavailableError as exc:
                self._fell_back(exc, "get")
        return await self.fallback.get(memory_id)

    async def retrieve(self, filters: Filters, limit: int, now: dt.datetime) -> list[MemoryRecord] | None:
        """Ranked records from the provider, or None when the local fallback must answer."""
        records = await self._all("retrieve")
        if records is None:
            return None
        chosen = {r.id: r for r in records if matches(r, filters)}
        ranked = scoring.rank_for_retrieve([candidate(r) for r in chosen.values()], now.timestamp(), limit)
        return [chosen[c.id] for c, _score in ranked]

    async def search(self, query: str, filters: Filters, limit: int, now: dt.datetime) -> list[SearchHit] | None:
        """The provider's matches ranked like local ones, or None when the fallback must answer."""
        if not await self._reachable("search"):
            return None
        try:
            found = await self.provider.search(self.persona, query, limit * SEARCH_FACTOR)
        except ProviderUnavailableError as exc:
            self._fell_back(exc, "search")
            return None
        records: dict[str, MemoryRecord] = {}
        candidates = []
        for remote in found:
            record = to_record(remote, self.persona, now)
            if matches(record, filters) and record.id not in records:
                records[record.id] = record
                # the service's relevance (cosine-like, 0..1) plays the part of the vector score
                candidates.append(candidate(record, vector_score=max(0.0, min(1.0, remote.score or 0.0))))
        ranked = scoring.rank_for_search(candidates, now.timestamp(), limit)
        return [SearchHit(records[c.id], score, relevance, vector_score=c.vector_score) for c, score, relevance in ranked]

    async def stats(self) -> Stats | None:
        records = await self._all("stats")
        return None if records is None else stats(records)

    async def export(self) -> list[MemoryRecord] | None:
        records = await self._all("export")
        return None if records is None else sorted(records, key=lambda r: r.created_at)

    async def _all(self, operation: str) -> list[MemoryRecord] | None:
        if not await self._reachable(operation):
            return None
        try:
            found = await self.provider.list_all(self.persona, LIST_LIMIT)
        except ProviderUnavailableError as exc:
            self._fell_back(exc, operation)
            return None
        now = self._clock()
        return [to_record(remote, self.persona, now) for remote in found]

    # ---- the outbox ----

    async def pending(self) -> int:
        """Writes made during an outage that the provider has not acknowledged yet."""
        return len(await self.fallback.backend.kv_keys(self._outbox))

    async def sync(self) -> int:
        """Replay the outbox in order; returns how many writes reached the provider.

        Raises :class:`~persona_memory.errors.ProviderUnavailableError` if the provider is still
        unreachable (whatever was replayed before that stays replayed).
        """
        backend = self.fallback.backend
        replayed: list[str] = []
        try:
            for key in await backend.kv_keys(self._outbox):
                text = await backend.kv_get(self._outbox, key)
                if text is None:  # another process replayed it meanwhile
                    continue
                entry = codec.loads(text)
                await self._apply(entry)
                await backend.kv_delete(self._outbox, key)
                if entry["op"] in ("add", "update"):
                    replayed.append(entry["record"]["id"])
        finally:
            if replayed:
                # they live in the provider now; the local copies were only for the outage
                await backend.forget(self.persona, replayed)
                signals.emit(signals.PROVIDER_RESTORED, provider=self.provider.name, replayed=len(replayed))
        return len(replayed)

    async def _apply(self, entry: dict[str, Any]) -> None:
        if entry["op"] == "add":
            record = MemoryRecord.from_dict(entry["record"])
            await self.provider.add(self.persona, record.content, to_metadata(record), record.id)
        elif entry["op"] == "update":
            new = MemoryRecord.from_dict(entry["record"])
            if await self.provider.find(self.persona, new.id) is not None:
                return  # applied before an interruption
            old = await self.provider.find(self.persona, entry["id"])
            if old is None:  # the old version never reached the provider, or was deleted there
                await self.provider.add(self.persona, new.content, to_metadata(new), new.id)
            else:
                await self.provider.update(self.persona, old.remote_id, new.content, to_metadata(new))
        elif entry["op"] == "delete":
            remote = await self.provider.find(self.persona, entry["id"])
            if remote is not None:
                await self.provider.delete(self.persona, remote.remote_id)

    async def _enqueue(self, entry: dict[str, Any]) -> None:
        await self.fallback.backend.kv_put(self._outbox, self._next_key(), codec.dumps(entry))

    def _next_key(self) -> str:
        # time order across processes; strictly increasing within this one
        self._last_key = max(self._last_key + 1, time.time_ns())
        return f"{self._last_key:020d}-{os.getpid():07d}"

    async def _reachable(self, operation: str) -> bool:
        """Replay any pending writes first (order matters); False if the provider is down."""
        if not await self.fallback.backend.kv_keys(self._outbox):
            return True
        try:
            await self.sync()
        except ProviderUnavailableError as exc:
            self._fell_back(exc, operation)
            return False
        return True

    def _fell_back(self, error: Exception, operation: str) -> None:
        warnings.warn(
            FallbackWarning(f"{OFFLINE_NOTE} ({self.provider.name} {operation}: {error})"), stacklevel=4
        )
        signals.emit(signals.PROVIDER_UNAVAILABLE, provider=self.provider.name, error=error, operation=operation)

