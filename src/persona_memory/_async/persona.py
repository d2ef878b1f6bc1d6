"""Persona memories: the OpenPersona memory faculty.

The async module is the source; ``scripts/make_sync.py`` generates its sync twin. Decisions
(validation, ranking) live in pure modules both sides share.
"""

from __future__ import annotations

import datetime as dt
import logging
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

from .. import scoring, validation
from ..backends._async.base import AsyncBackend
from ..config import Settings
from ..embedders import Embedder, aembed_documents, aembed_queries, resolve
from ..errors import (
    BackendError,
    EmbedderMismatchError,
    EmbedderWarning,
    InvalidInputError,
    MemoryNotFoundError,
)
from ..models import (
    UNSET,
    Candidate,
    MemoryRecord,
    MemoryType,
    Query,
    SearchHit,
    Stats,
    Vector,
    new_memory_id,
    utcnow,
)
from ..registry import open_backend

logger = logging.getLogger("persona_memory")

#: Full-text candidates fetched per requested result, before ranking.
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50
#: Store-wide settings (``get_meta``) naming the embedder the stored vectors came from.
META_EMBEDDER = "embedder"
META_DIMENSION = "embedder_dimension"
#: Memories embedded per batch by :meth:`AsyncPersonaStore.reindex`.
REINDEX_BATCH = 256
SEARCH_MODES = ("hybrid", "text", "vector")


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

    ``embedder`` makes the vectors for semantic search: an
    :class:`~persona_memory.embedders.Embedder`, a name (``"static"``, the offline default
    shipped with the package; ``"e5"``; ``"openai"``; ``"none"``), or ``None`` for
    ``PMEM_EMBEDDER``. The store remembers which embedder wrote its vectors and refuses to mix
    in another one (:class:`~persona_memory.errors.EmbedderMismatchError`) until
    :meth:`reindex` re-embeds everything.
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
        clock: Callable[[], dt.datetime] = utcnow,
        embedder: Embedder | str | bool | None = None,
    ) -> None:
        self.settings = Settings.resolve(
            persona=persona, url=url, base_path=base_path, durability=durability, provider=provider
        )
        self.persona = self.settings.persona
        if backend is None:
            backend = open_backend(
                self.settings.persona_url(),
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
        #: None when the backend keeps no vectors or embedding is switched off.
        self.embedder: Embedder | None = resolve(embedder) if backend.supports_vectors else None
        self._space_checked = False

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
        stored, _created = await self.backend.add(record, await self._document_vector(record.content))
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
        old = await self.get(id)
        if not old.active:
            raise MemoryNotFoundError(id, self.persona)
        kind = old.type if type is UNSET else validation.memory_type(type)
        new = replace(
            old,
            id=new_memory_id(),
            content=old.content if content is UNSET else validation.content(content),
            tags=old.tags if tags is UNSET else validation.tags(tags),
            importance=old.importance if importance is UNSET else validation.importance(importance, kind),
            type=kind,
            metadata=old.metadata if metadata is UNSET else validation.metadata(metadata),
            created_at=self._clock(),
            superseded_by=None,
            supersedes=old.id,
        )
        vector = await self._document_vector(new.content)
        return await self.backend.supersede(self.persona, old.id, new, vector)

    async def forget(self, id: str) -> list[str]:
        """Delete a memory and all its versions, for good. Returns the ids deleted.

        Raises :class:`~persona_memory.errors.MemoryNotFoundError` for an unknown id.
        """
        forgotten = await self.backend.forget(self.persona, [validation.memory_id(id)])
        if not forgotten:
            raise MemoryNotFoundError(id, self.persona)
        return forgotten

    # ---- reading ----

    async def get(self, id: str) -> MemoryRecord:
        """One memory by id (superseded ones too), without counting an access."""
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
        mode: str = "hybrid",
        context: bool = True,
        weighted: bool = True,
    ) -> list[SearchHit]:
        """Memories relevant to ``query`` (plain words, not query syntax), best first.

        ``mode="hybrid"`` (default) fuses full-text relevance (BM25 with stemming: "eating"
        finds "eat") with semantic similarity from the embedder ("what does the user like to
        eat" finds "User is vegetarian and loves Italian food"); ``"text"`` and ``"vector"``
        use one side only. With ``context`` (default) a memory also ranks by the memories
        stored just before and after it in the same conversation (within an hour): an answer
        is found through the question it answers. Relevance is then weighted by importance and
        time decay (see :mod:`persona_memory.scoring`) unless ``weighted`` is False. Filters as
        in :meth:`retrieve`. Each hit counts as accessed.
        """
        if not isinstance(query, str):
            raise InvalidInputError("query", query, "must be a string")
        if mode not in SEARCH_MODES:
            raise InvalidInputError("mode", mode, f"expected one of {', '.join(SEARCH_MODES)}")
        now = self._clock()
        filters = validation.filters(tags, type, since, until, match, now=now)
        limit = validation.limit(limit)
        k = max(MIN_CANDIDATES, limit * CANDIDATES_PER_RESULT)
        vector = await self._query_vector(query) if mode != "text" else None
        if mode == "vector" and vector is None:
            return []
        candidates = await self.backend.candidates(
            self.persona,
            Query(
                filters=filters, text=query if mode != "vector" else None, vector=vector, k=k,
                context=scoring.CONTEXT_RADIUS if context else 0, context_window=scoring.CONTEXT_WINDOW,
                # context around lower matches never reached the top 10 on LoCoMo
                context_anchors=max(10, limit),
            ),
        )
        floor = float(getattr(self.embedder, "min_similarity", 0.0))
        ranked = scoring.rank_for_search(
            candidates, now.timestamp(), limit, min_similarity=floor, k=k, weigh=weighted
        )
        records = await self._load_and_touch([c for c, _s, _r in ranked], now)
        by_id = {r.id: r for r in records}
        return [
            SearchHit(by_id[c.id], score, relevance, text_score=c.text_score, vector_score=c.vector_score)
            for c, score, relevance in ranked
            if c.id in by_id
        ]

    async def reindex(
        self,
        *,
        missing_only: bool = False,
        batch_size: int = REINDEX_BATCH,
        progress: Callable[[int, int], None] | None = None,
    ) -> int:
        """Embed the memories of every persona in this store with this store's embedder.

        By default every vector is dropped and recomputed (after switching embedders, or when
        the embedder's model changed); ``missing_only`` only embeds memories that have no
        vector yet (stored while the embedder was failing). ``progress(done, total)`` is called
        after each batch. Returns the number of memories embedded. An interrupted run leaves a
        consistent store: run it again with ``missing_only`` to finish.
        """
        if self.embedder is None:
            raise InvalidInputError(
                "embedder", None, f"this store has no embedder (backend {self.backend.name} or embedder 'none')"
            )
        batch_size = validation.limit(batch_size, "batch_size")
        personas = await self.backend.personas()
        if missing_only:
            await self._check_space(claim=True)  # never fill gaps with another model's vectors
            total = sum([len(await self.backend.missing_vectors(p, 2**62)) for p in personas])
        else:
            await self.backend.clear_vectors()
            await self._claim_space()
            total = sum([(await self.backend.stats(p)).total for p in personas])
        done = 0
        if progress is not None:
            progress(done, total)
        for persona in personas:
            previous: list[str] = []
            while batch := await self.backend.missing_vectors(persona, batch_size):
                ids = [memory_id for memory_id, _content in batch]
                if ids == previous:  # the backend did not keep them: stop rather than spin
                    raise BackendError(f"the {self.backend.name} backend did not store the vectors of {ids[:3]}")
                vectors = await aembed_documents(self.embedder, [content for _id, content in batch])
                await self.backend.set_vectors(persona, dict(zip(ids, vectors, strict=True)))
                previous = ids
                done += len(batch)
                if progress is not None:
                    progress(min(done, max(total, done)), max(total, done))
        return done

    async def stats(self) -> Stats:
        """``total``, ``superseded``, ``top_tags`` (5), ``oldest``, ``newest``, ``avg_importance``, ``by_type``."""
        return await self.backend.stats(self.persona)

    async def export(self) -> list[MemoryRecord]:
        """Everything stored for this persona, superseded versions included, oldest first."""
        return await self.backend.export(self.persona)

    # ---- lifecycle ----

    async def aclose(self) -> None:
        await self.backend.aclose()

    async def __aenter__(self) -> AsyncPersonaStore:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} persona={self.persona!r} {self.backend.url}>"

    async def _claim_space(self) -> None:
        """Record this store's embedder as the one its vectors come from."""
        assert self.embedder is not None
        await self.backend.set_meta(META_EMBEDDER, self.embedder.id)
        await self.backend.set_meta(META_DIMENSION, str(self.embedder.dimension))
        self._space_checked = True

    async def _check_space(self, *, claim: bool) -> bool:
        """Whether the store's vectors (if any) come from this embedder.

        Raises :class:`EmbedderMismatchError` if they come from another one. A store with no
        embedder recorded is claimed when ``claim`` (about to write a vector).
        """
        if self._space_checked:
            return True
        assert self.embedder is not None
        stored = await self.backend.get_meta(META_EMBEDDER)
        if stored is None:
            if not claim:
                return True
            await self._claim_space()
            return True
        dimension = await self.backend.get_meta(META_DIMENSION)
        if stored != self.embedder.id or dimension != str(self.embedder.dimension):
            raise EmbedderMismatchError(stored, dimension, self.embedder.id, self.embedder.dimension)
        self._space_checked = True
        return True

    async def _document_vector(self, content: str) -> Vector | None:
        """The vector to store with ``content``, or None when the embedder fails (warned)."""
        if self.embedder is None:
            return None
        await self._check_space(claim=True)
        try:
            vector: Vector = (await aembed_documents(self.embedder, [content]))[0]
            return vector
        except Exception as exc:  # any embedder failure: keep the memory, text-searchable
            warnings.warn(
                f"embedder {self.embedder.id} failed ({exc}); the memory is stored without a "
                "vector (found by full-text search only) until `pmem reindex --missing-only`",
                EmbedderWarning,
                stacklevel=3,
            )
            return None

    async def _query_vector(self, query: str) -> Vector | None:
        if self.embedder is None or not query.strip():
            return None
        await self._check_space(claim=False)
        try:
            vector: Vector = (await aembed_queries(self.embedder, [query]))[0]
            return vector
        except Exception as exc:  # search still works by full text
            warnings.warn(
                f"embedder {self.embedder.id} failed ({exc}); searching by full text only",
                EmbedderWarning,
                stacklevel=3,
            )
            return None

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
