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
from typing import TYPE_CHECKING, Any

from .. import privacy, scoring, text, validation
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
    Decision,
    Filters,
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

if TYPE_CHECKING:  # imported when first used: `import persona_memory` stays quick
    from ..providers._async.remote import AsyncRemoteMemories
    from .bridge import Evolution
    from .extractors import AsyncExtractor

logger = logging.getLogger("persona_memory")

#: Full-text candidates fetched per requested result, before ranking.
CANDIDATES_PER_RESULT = 5
MIN_CANDIDATES = 50
#: Default floor of ``matching`` / ``forget_matching``: at least half of what the query says.
FORGET_MIN_SCORE = 0.5
#: Store-wide settings (``get_meta``) naming the embedder the stored vectors came from.
#: One value (``<id> <dimension>``), so another process never reads half of a claim.
META_EMBEDDER = "embedder"
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
    returns "now" (aware UTC); tests pass a fixed one. ``extractor`` decides what
    :meth:`observe` keeps (default: the offline rules; see :mod:`persona_memory._async.extractors`).

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
        mem0_config: dict[str, Any] | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
        extractor: AsyncExtractor | None = None,
        embedder: Embedder | str | bool | None = None,
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
        self.clock = clock
        self._extractor = extractor
        #: None when the backend keeps no vectors or embedding is switched off.
        self.embedder: Embedder | None = resolve(embedder) if backend.supports_vectors else None
        self._space_checked = False
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

        Raises :class:`~persona_memory.errors.SecretRefusedError` (naming the kind of secret,
        never the secret) if the content, tags or metadata hold a password, API key, token,
        private key or card number.
        """
        now = self.clock()
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
        _refuse_secrets(record)
        if self.remote is not None:
            return await self.remote.store(record)
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
            new = old.superseded_with(final, new_memory_id(), self.clock())
            _refuse_secrets(new)
            return new

        if importance is not UNSET:  # validate now, not only when the old record is known
            validation.importance(importance, changes.get("type", MemoryType.GENERAL))
        if self.remote is not None:
            return await self.remote.update(id, build)
        old = await self.get(id)
        if not old.active:
            raise MemoryNotFoundError(id, self.persona)
        new = build(old)
        return await self.backend.supersede(self.persona, old.id, new, await self._document_vector(new.content))

    async def forget(self, id: str) -> list[str]:
        """Delete a memory and all its versions, for good. Returns the ids deleted.

        Forgotten means gone: the content leaves the full-text index, the vector cache and the
        subject counts of :meth:`observe`, and the store's maintenance (``compact``, run after
        every forget) purges it from the database file's bytes.
        Raises :class:`~persona_memory.errors.MemoryNotFoundError` for an unknown id.
        """
        memory_id = validation.memory_id(id)
        if self.remote is not None:
            return await self.remote.forget(memory_id)
        forgotten = await self._forget_ids([memory_id])
        if not forgotten:
            raise MemoryNotFoundError(id, self.persona)
        return forgotten

    async def forget_tagged(self, tags: Iterable[str] | str, *, match: str = "any") -> list[str]:
        """Forget every memory with any of ``tags`` (``match="all"``: all of them). Returns the ids."""
        filters = validation.filters(tags, match=match)
        if not filters.tags:
            raise InvalidInputError("tags", tags, "give at least one tag")
        found = await self.backend.candidates(self.persona, Query(filters=filters))
        return await self._forget_ids([c.id for c in found])

    async def matching(
        self, query: str, *, min_score: float | None = FORGET_MIN_SCORE, limit: int = 100
    ) -> list[SearchHit]:
        """What ``forget_matching(query)`` would delete, best match first. Counts no access.

        ``min_score`` (0-1) is the share of the query a memory must match (see :meth:`search`).
        """
        return await self._find(query, limit, Filters(), min_score, self.clock())

    async def forget_matching(self, query: str, *, min_score: float | None = FORGET_MIN_SCORE) -> list[str]:
        """Forget every memory :meth:`matching` lists for ``query`` ("forget what I said about my ex").

        Confirm with the user first: show them :meth:`matching`. Returns the ids deleted.
        """
        hits = await self.matching(query, min_score=min_score, limit=validation.MAX_LIMIT)
        return await self._forget_ids([hit.id for hit in hits])

    async def forget_everything(self) -> list[str]:
        """Forget every memory of this persona, and all the bridge derived from them.

        Also removes the subject counts, the event log and the handoff files this persona
        wrote; ``state.json`` keeps the persona's own fields. Returns the ids deleted.
        """
        from . import bridge, capture

        ids = [record.id for record in await self.backend.export(self.persona)]
        forgotten = await self.backend.forget(self.persona, ids) if ids else []
        await capture.forget_topics(self, None)
        await bridge.forget_bridge(self)
        await self.backend.compact()
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
        min_score: float | None = None,
    ) -> list[MemoryRecord]:
        """The memories that should surface now, best first.

        Filters: ``tags`` (any of them; ``match="all"`` for all), ``type``, ``since`` (inclusive)
        and ``until`` (exclusive), each a datetime, ISO date or age like ``7d``. Order: importance
        weighted by time decay (see :mod:`persona_memory.scoring`). Each returned memory counts
        as accessed, which reinforces it a little. ``min_score`` (0-1) leaves out memories whose
        retrieval score (importance x retention x reinforcement) is below it: faded ones.
        """
        now = self.clock()
        filters = validation.filters(tags, type, since, until, match, now=now)
        limit = validation.limit(limit)
        floor = validation.min_score(min_score)
        if self.remote is not None:
            remote = await self.remote.retrieve(filters, limit, now)
            if remote is not None:
                return remote
        candidates = await self.backend.candidates(self.persona, Query(filters=filters))
        ranked = scoring.rank_for_retrieve(candidates, now.timestamp(), limit)
        if floor is not None:
            ranked = [(c, score) for c, score in ranked if score >= floor]
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
        min_score: float | None = None,
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

        ``min_score`` (0-1) is a relevance floor: hits whose absolute match (``SearchHit.match``:
        the IDF-weighted share of the query's words the memory contains, or the cosine
        similarity when it is higher) is below it are left out, so a question about something
        never said returns nothing rather than the least bad guess.
        """
        now = self.clock()
        filters = validation.filters(tags, type, since, until, match, now=now)
        hits = await self._find(query, limit, filters, min_score, now, mode=mode, context=context, weighted=weighted)
        if not await self._touch([hit.id for hit in hits], now):
            return hits
        return [replace(hit, record=hit.record.accessed(now)) for hit in hits]

    async def _find(
        self,
        query: str,
        limit: int,
        filters: Filters,
        min_score: float | None,
        now: dt.datetime,
        *,
        mode: str = "hybrid",
        context: bool = True,
        weighted: bool = True,
    ) -> list[SearchHit]:
        """Ranked hits above the floor, without counting an access."""
        if not isinstance(query, str):
            raise InvalidInputError("query", query, "must be a string")
        validation.unicode_text(query, "query")
        if mode not in SEARCH_MODES:
            raise InvalidInputError("mode", mode, f"expected one of {', '.join(SEARCH_MODES)}")
        limit = validation.limit(limit)
        floor = validation.min_score(min_score)
        if self.remote is not None:
            hits = await self.remote.search(query, filters, limit, now)
            if hits is not None:  # the service's relevance is the absolute match here
                return [h for h in hits if floor is None or (h.vector_score or 0.0) >= floor]
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
                match_terms=floor is not None,
            ),
        )
        if floor is not None:  # the absolute match costs extra queries: only for a floor
            candidates = await self._with_text_match(candidates, query)
            candidates = [c for c in candidates if scoring.absolute_relevance(c) >= floor]
        similarity_floor = float(getattr(self.embedder, "min_similarity", 0.0))
        ranked = scoring.rank_for_search(
            candidates, now.timestamp(), limit, min_similarity=similarity_floor, k=k, weigh=weighted
        )
        records = await self.backend.get_records(self.persona, [c.id for c, _s, _r in ranked])
        by_id = {r.id: r for r in records}
        return [
            SearchHit(by_id[c.id], score, relevance, text_score=c.text_score, vector_score=c.vector_score,
                      match=scoring.absolute_relevance(c) if floor is not None else None)
            for c, score, relevance in ranked
            if c.id in by_id
        ]

    async def _with_text_match(self, candidates: list[Candidate], query: str) -> list[Candidate]:
        """Fill ``text_match`` where the backend left it out, from the memories' content."""
        missing = [c.id for c in candidates if c.text_match is None and c.text_score is not None]
        if not missing:
            return candidates
        content = {r.id: r.content for r in await self.backend.get_records(self.persona, missing)}
        return [
            replace(c, text_match=text.coverage(query, content[c.id])) if c.id in content and c.text_match is None else c
            for c in candidates
        ]

    # ---- the persona faculty: capture, evolution, handoff ----

    @property
    def extractor(self) -> AsyncExtractor:
        """What :meth:`observe` asks for the memories in a turn (default: the offline rules)."""
        if self._extractor is None:
            from .extractors import AsyncRuleExtractor

            self._extractor = AsyncRuleExtractor()
        return self._extractor

    async def observe(
        self,
        text: str,
        speaker: str = "user",
        at: dt.datetime | dt.date | str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
    ) -> Decision:
        """Decide whether a conversation turn is worth remembering, and if so remember it.

        Call it once per turn. It stores preferences, personal facts, recurring subjects,
        emotional moments, milestones and explicit "remember that..." requests, with a type,
        importance and tags; it stores nothing for filler, turns marked private, forget
        requests and secrets. The :class:`~persona_memory.models.Decision` says what was stored
        or why nothing was. ``speaker``: ``"user"`` (stored as said) or a name (stored as
        ``"<name>: <text>"``); the persona's own turns (``"assistant"``...) are never stored.
        """
        from . import capture

        return await capture.observe(self, text, speaker, at, metadata=metadata)

    async def evolve(self, *, interest_threshold: int = 3) -> Evolution:
        """Run the evolution bridge: turn patterns in the memories into events and state.

        Emits ``interest_discovery`` (``interest_threshold`` memories share a subject tag),
        ``mood_shift`` and ``relationship_stage`` events, appends them to
        ``<persona dir>/events.jsonl``, applies them to ``state.json`` (atomically) and stores
        stage and interest milestones back as ``milestone`` memories. Idempotent: a second run
        on the same memories emits nothing. A damaged ``state.json`` raises
        :class:`~persona_memory.errors.CorruptStateError` and is left untouched.
        """
        from .. import evolution
        from . import bridge

        if isinstance(interest_threshold, bool) or not isinstance(interest_threshold, int) or interest_threshold < 1:
            raise InvalidInputError("interest_threshold", interest_threshold, "must be an integer >= 1")
        return await bridge.evolve(self, evolution.BridgeConfig(interest_threshold=interest_threshold))

    async def events(self) -> list[dict[str, Any]]:
        """The persona's evolution events, oldest first (``seq``, ``type``, ``key``, ``at``, ``data``)."""
        from . import bridge

        return await bridge.events(self)

    async def handoff(self, to_persona: str) -> dict[str, Any]:
        """Write ``<base>/persona-<to_persona>/handoff.json`` for a persona switch; returns its content.

        Holds the memory count, the top 5 tags and the last memory's time, plus the
        relationship stage and mood from ``state.json`` when there is one. The format is the
        JSON schema ``persona_memory/schemas/handoff.schema.json``.
        """
        from . import bridge

        return await bridge.handoff(self, to_persona)

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

    async def check(self) -> list[str]:
        """Verify the store's files (slow: reads everything); returns the problems found.

        Each problem names the file and how to recover it. Empty: the store is sound.
        """
        return await self.backend.check()

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
            clock=self.clock,
        )
        self.remote = AsyncRemoteMemories(provider, fallback, self.clock)

    async def _forget_ids(self, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        from . import bridge, capture

        contents = [r.content for r in await self.backend.get_records(self.persona, ids)]
        forgotten = await self.backend.forget(self.persona, ids)
        if not forgotten:
            return forgotten
        derived = await bridge.after_forget(self, set(forgotten))
        if derived:
            forgotten += await self.backend.forget(self.persona, derived)
        await capture.forget_topics(self, contents)
        await self.backend.compact()
        await bridge.refresh_handoffs(self)
        return forgotten

    async def _claim_space(self) -> None:
        """Record this store's embedder as the one its vectors come from."""
        assert self.embedder is not None
        await self.backend.set_meta(META_EMBEDDER, f"{self.embedder.id} {self.embedder.dimension}")
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
        stored_id, _, dimension = stored.rpartition(" ")
        if stored_id != self.embedder.id or dimension != str(self.embedder.dimension):
            raise EmbedderMismatchError(stored_id, dimension, self.embedder.id, self.embedder.dimension)
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
        records = await self.backend.get_records(self.persona, [c.id for c in chosen])
        if not await self._touch([r.id for r in records], now):
            return records
        return [record.accessed(now) for record in records]

    async def _touch(self, ids: Sequence[str], now: dt.datetime) -> bool:
        """Count an access to each memory; False if that could not be recorded."""
        try:
            await self.backend.touch(self.persona, ids, now)
        except BackendError as exc:
            # Counting an access must not make a read fail (e.g. on a read-only or full store).
            logger.debug("could not record access to %d memories: %s", len(ids), exc)
            return False
        return True


def _refuse_secrets(record: MemoryRecord) -> None:
    privacy.refuse_secrets(record.content, "content")
    if record.tags:
        privacy.refuse_secrets(" ".join(record.tags), "tags")
    for value in _strings(record.metadata):
        privacy.refuse_secrets(value, "metadata")


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
