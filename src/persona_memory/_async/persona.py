"""Persona memories: the OpenPersona memory faculty.

The async module is the source; ``scripts/make_sync.py`` generates its sync twin. Decisions
(validation, ranking) live in pure modules both sides share.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from .. import scoring, validation
from ..backends._async.base import AsyncBackend
from ..config import Settings
from ..errors import BackendError, InvalidInputError, MemoryNotFoundError
from ..models import (
    UNSET,
    Candidate,
    MemoryRecord,
    MemoryType,
    Query,
    SearchHit,
    Stats,
    new_memory_id,
    utcnow,
)
from ..registry import open_backend

if TYPE_CHECKING:
    from ..providers._async.remote import AsyncRemoteMemories

logger = logging.getLogger("persona_memory")

#: Full-text candidates fetched per requested result, before ranking.
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50


class AsyncPersonaStore:
    """What one persona remembers about its user, across conversations and restarts.

    >>> store = AsyncPersonaStore("ada")   # ~/.openclaw/memory/persona-ada/memories.db
    >>> memory = await store.store("User is vegetarian and loves Italian food",
    ...                            tags=["preference", "food"], type="preference")
    >>> [hit.content for hit in await store.search("italian food")]
    ['User is vegetarian and loves Italian food']
    >>> await store.forget(memory.id)

    ``persona`` defaults to ``PERSONA_SLUG`` (then ``"default"``); the store defaults to the
    persona's SQLite file under ``MEMORY_BASE_PATH``, or ``url`` / ``PMEM_URL``. ``clock``
    returns "now" (aware UTC); tests pass a fixed one.
    """

    def __init__(
        self,
        persona: str | None = None,
        *,
        url: str | None = None,
        backend: AsyncBackend | None = None,
        base_path: str | None = None,
        durability: str | None = None,
        provider: str | None = None,
        mem0_config: dict[str, Any] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.settings = Settings.resolve(
            persona=persona, url=url, base_path=base_path, durability=durability, provider=provider
        )
        self.persona = self.settings.persona
        if backend is None:
            backend = open_backend(
                self.settings.persona_url() if self.settings.provider == "local"
                else self.settings.fallback_url(),
                AsyncBackend,
                durability=self.settings.durability,
                busy_timeout=self.settings.busy_timeout,
            )
        if not backend.supports_records:
            raise InvalidInputError(
                "backend", backend.url, f"the {backend.name} backend stores key-value data only"
            )
        self.backend = backend
        self._clock = clock
        self.remote: AsyncRemoteMemories | None = None
        if self.settings.provider != "local":
            self._use_provider(mem0_config)

    # ---- writing ----

    async def store(
        self,
        content: str,
        tags: Iterable[str] | str | None = (),
        importance: float | None = None,
        type: MemoryType | str = MemoryType.GENERAL,
        metadata: dict[str, Any] | None = None,
        at: dt.datetime | dt.date | str | None = None,
    ) -> MemoryRecord:
        """Remember ``content``; returns the stored record.

        ``importance`` (0.0-1.0) defaults by type (see ``models.DEFAULT_IMPORTANCE``); ``at`` is
        when it was said (default now). Storing the same content again (ignoring case, spacing
        and final punctuation) reinforces the existing memory instead of adding a copy.
        """
        now = self._clock()
        kind = validation.memory_type(type)
        record = MemoryRecord(
            id=new_memory_id(),
            persona=self.persona,
            content=validation.content(content),
            type=kind,
            tags=validation.tags(tags),
            importance=validation.importance(importance, kind),
            created_at=now if at is None else validation.moment(at, "at", now=now),
            metadata=validation.metadata(metadata),
        )
        if self.remote is not None:
            return await self.remote.store(record)
        stored, _created = await self.backend.add(record)
        return stored

    async def update(
        self,
        id: str,
        content: str = UNSET,
        tags: Iterable[str] | str | None = UNSET,
        importance: float | None = UNSET,
        type: MemoryType | str = UNSET,
        metadata: dict[str, Any] | None = UNSET,
    ) -> MemoryRecord:
        """Replace a memory with a corrected version; returns the new record.

        The old record is kept, marked ``superseded_by`` the new one, and is no longer returned
        by ``retrieve`` or ``search``. Arguments not given are carried over.
        """
        if all(v is UNSET for v in (content, tags, importance, type, metadata)):
            raise InvalidInputError("update", id, "give at least one of content, tags, importance, type, metadata")
        validation.memory_id(id)
        changes: dict[str, Any] = {}
        if content is not UNSET:
            changes["content"] = validation.content(content)
        if tags is not UNSET:
            changes["tags"] = validation.tags(tags)
        if type is not UNSET:
            changes["type"] = validation.memory_type(type)
        if metadata is not UNSET:
            changes["metadata"] = validation.metadata(metadata)
        if importance is not UNSET:  # None means the (new) type's default
            changes["importance"] = importance

        def build(old: MemoryRecord) -> MemoryRecord:
            final = dict(changes)
            if "importance" in final:
                final["importance"] = validation.importance(final["importance"], final.get("type", old.type))
            return old.superseded_with(final, new_memory_id(), self._clock())

        if importance is not UNSET:  # validate now, not only when the old record is known
            validation.importance(importance, changes.get("type", MemoryType.GENERAL))
        if self.remote is not None:
            return await self.remote.update(id, build)
        old = await self.get(id)
        if not old.active:
            raise MemoryNotFoundError(id, self.persona)
        return await self.backend.supersede(self.persona, old.id, build(old))

    async def forget(self, id: str) -> list[str]:
        """Delete a memory and all its versions, for good. Returns the ids deleted.

        Raises :class:`~persona_memory.errors.MemoryNotFoundError` for an unknown id.
        """
        if self.remote is not None:
            return await self.remote.forget(validation.memory_id(id))
        forgotten = await self.backend.forget(self.persona, [validation.memory_id(id)])
        if not forgotten:
            raise MemoryNotFoundError(id, self.persona)
        return forgotten

    # ---- reading ----

    async def get(self, id: str) -> MemoryRecord:
        """One memory by id (superseded ones too), without counting an access."""
        if self.remote is not None:
            return await self.remote.get(validation.memory_id(id))
        records = await self.backend.get_records(self.persona, [validation.memory_id(id)])
        if not records:
            raise MemoryNotFoundError(id, self.persona)
        return records[0]

    async def retrieve(
        self,
        tags: Iterable[str] | str | None = None,
        type: MemoryType | str | None = None,
        since: dt.datetime | dt.date | str | None = None,
        until: dt.datetime | dt.date | str | None = None,
        limit: int = 10,
        *,
        match: str = "any",
    ) -> list[MemoryRecord]:
        """The memories that should surface now, best first.

        Filters: ``tags`` (any of them; ``match="all"`` for all), ``type``, ``since`` (inclusive)
        and ``until`` (exclusive), each a datetime, ISO date or age like ``7d``. Order: importance
        weighted by time decay (see :mod:`persona_memory.scoring`). Each returned memory counts
        as accessed, which reinforces it a little.
        """
        now = self._clock()
        filters = validation.filters(tags, type, since, until, match, now=now)
        limit = validation.limit(limit)
        if self.remote is not None:
            remote = await self.remote.retrieve(filters, limit, now)
            if remote is not None:
                return remote
        candidates = await self.backend.candidates(self.persona, Query(filters=filters))
        ranked = scoring.rank_for_retrieve(candidates, now.timestamp(), limit)
        return await self._load_and_touch([c for c, _score in ranked], now)

    async def search(
        self,
        query: str,
        limit: int = 10,
        tags: Iterable[str] | str | None = None,
        type: MemoryType | str | None = None,
        *,
        since: dt.datetime | dt.date | str | None = None,
        until: dt.datetime | dt.date | str | None = None,
        match: str = "any",
    ) -> list[SearchHit]:
        """Memories relevant to ``query`` (plain words, not query syntax), best first.

        Ranked by full-text relevance (BM25 with stemming: "eating" finds "eat"), then weighted
        by importance and time decay. Filters as in :meth:`retrieve`. Each hit counts as accessed.
        """
        if not isinstance(query, str):
            raise InvalidInputError("query", query, "must be a string")
        now = self._clock()
        filters = validation.filters(tags, type, since, until, match, now=now)
        limit = validation.limit(limit)
        if self.remote is not None:
            hits = await self.remote.search(query, filters, limit, now)
            if hits is not None:
                return hits
        k = max(MIN_CANDIDATES, limit * CANDIDATES_PER_RESULT)
        candidates = await self.backend.candidates(
            self.persona, Query(filters=filters, text=query, k=k)
        )
        ranked = scoring.rank_for_search(candidates, now.timestamp(), limit)
        records = await self._load_and_touch([c for c, _s, _r in ranked], now)
        by_id = {r.id: r for r in records}
        return [
            SearchHit(by_id[c.id], score, relevance, text_score=c.text_score)
            for c, score, relevance in ranked
            if c.id in by_id
        ]

    async def stats(self) -> Stats:
        """``total``, ``superseded``, ``top_tags`` (5), ``oldest``, ``newest``, ``avg_importance``, ``by_type``."""
        if self.remote is not None:
            remote = await self.remote.stats()
            if remote is not None:
                return remote
        return await self.backend.stats(self.persona)

    async def export(self) -> list[MemoryRecord]:
        """Everything stored for this persona, superseded versions included, oldest first."""
        if self.remote is not None:
            remote = await self.remote.export()
            if remote is not None:
                return remote
        return await self.backend.export(self.persona)

    async def sync(self) -> int:
        """Replay writes made while the provider was down; returns how many reached it.

        Happens automatically on the next call that reaches the provider; 0 for the local store.
        """
        return 0 if self.remote is None else await self.remote.sync()

    async def pending(self) -> int:
        """Writes made during a provider outage that are not yet replayed (0 for the local store)."""
        return 0 if self.remote is None else await self.remote.pending()

    # ---- lifecycle ----

    async def aclose(self) -> None:
        if self.remote is not None:
            await self.remote.provider.aclose()
        await self.backend.aclose()

    async def __aenter__(self) -> AsyncPersonaStore:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        where = self.backend.url if self.remote is None else f"{self.settings.provider} (fallback {self.backend.url})"
        return f"<{type(self).__name__} persona={self.persona!r} {where}>"

    def _use_provider(self, mem0_config: dict[str, Any] | None) -> None:
        from ..providers import open_provider
        from ..providers._async.base import AsyncProvider
        from ..providers._async.remote import AsyncRemoteMemories

        provider = open_provider(self.settings, AsyncProvider, mem0_config=mem0_config)
        # the fallback store: same persona, local provider, this store's (fallback) backend
        fallback = AsyncPersonaStore(
            self.persona, backend=self.backend, provider="local", base_path=str(self.settings.base_path),
            clock=self._clock,
        )
        self.remote = AsyncRemoteMemories(provider, fallback, self._clock)

    async def _load_and_touch(self, chosen: Sequence[Candidate], now: dt.datetime) -> list[MemoryRecord]:
        ids = [c.id for c in chosen]
        records = await self.backend.get_records(self.persona, ids)
        try:
            await self.backend.touch(self.persona, ids, now)
        except BackendError as exc:
            # Counting an access must not make a read fail (e.g. on a read-only or full store).
            logger.debug("could not record access to %d memories: %s", len(ids), exc)
            return records
        return [record.accessed(now) for record in records]
