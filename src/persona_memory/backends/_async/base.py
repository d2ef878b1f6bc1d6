"""The backend contract: what every storage engine implements.

A backend stores two things:

* **key-value entries**: ``(namespace, key) -> JSON text``, the opsdroid ``Memory`` contract;
* **persona memories**: :class:`~persona_memory.models.MemoryRecord` rows, keyed by persona.

Guarantees every implementation gives (the shared contract suite in
:mod:`persona_memory.testing` checks them):

* A write (``kv_put``, ``kv_delete``, ``add``, ``supersede``, ``forget``, ``import_records``)
  returns only once it is durable at the backend's configured durability; when it raises,
  nothing of it was applied and everything stored earlier is intact.
* Scores: higher is better. ``Candidate.text_score`` is the engine's full-text relevance (BM25
  in SQLite and the JSON-lines files, ``ts_rank`` in PostgreSQL): comparable within one result
  list only, never across backends or queries. ``Candidate.vector_score`` is the cosine
  similarity (-1..1) of the stored vector and the query vector. Ranking itself (importance,
  decay, fusion) happens above this layer, in :mod:`persona_memory.scoring`, identically for
  every backend.
* Key-value-only backends (``supports_records = False``, e.g. Redis) raise
  :class:`~persona_memory.errors.BackendError` from the persona methods; ``version()`` may be
  None (then ``Memory`` does not cache what it reads).
* Errors from the driver are translated to :mod:`persona_memory.errors` classes.
* A backend object may be created in one process and used in a forked child: connections
  are opened lazily and never reused across ``fork``.

The async contract is the source; ``scripts/make_sync.py`` generates the sync one. Backends
built on blocking drivers (SQLite, files) implement the sync contract once and are offered to
async code through ``persona_memory.backends.threaded``.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Hashable, Mapping, Sequence
from typing import Any, ClassVar

from ...errors import BackendError
from ...models import Candidate, MemoryRecord, Query, Stats, Vector


class AsyncBackend(abc.ABC):
    """Storage for key-value entries and persona memories."""

    #: The URL scheme and entry-point name of this backend.
    name: ClassVar[str] = ""
    #: False for key-value-only backends (e.g. Redis); the persona methods then raise.
    supports_records: ClassVar[bool] = True
    #: True if ``candidates`` honours ``Query.vector`` (semantic search).
    supports_vectors: ClassVar[bool] = False
    #: True if ``candidates`` honours ``Query.context`` (the conversation around a match).
    supports_context: ClassVar[bool] = False

    url: str = ""

    # ---- key-value ----

    @abc.abstractmethod
    async def kv_get(self, namespace: str, key: str) -> str | None:
        """The JSON text stored under ``key``, or ``None`` if there is none (or it expired)."""

    @abc.abstractmethod
    async def kv_put(self, namespace: str, key: str, value: str, ttl: float | None = None) -> None:
        """Store JSON text under ``key``, replacing any value; expire after ``ttl`` seconds if given."""

    @abc.abstractmethod
    async def kv_delete(self, namespace: str, key: str) -> bool:
        """Remove ``key``; True if it existed. Deleting a missing key is not an error."""

    @abc.abstractmethod
    async def kv_keys(self, namespace: str) -> list[str]:
        """Every live key of ``namespace``, sorted."""

    async def version(self) -> Hashable | None:
        """A token that changes whenever the stored data may have changed since the last call.

        ``Memory`` compares tokens to know its in-process cache is still valid. ``None`` means
        "cannot tell": the cache is then not used. Must be cheap and must not block.
        """
        return None

    # ---- persona memories ----

    @abc.abstractmethod
    async def add(self, record: MemoryRecord, vector: Vector | None = None) -> tuple[MemoryRecord, bool]:
        """Store ``record`` (and its embedding, in the same transaction), or reinforce the
        active memory with the same normalised content.

        Returns ``(stored, created)``. When an active memory of the same persona has the same
        normalised content, no new row is added: that memory gets one more access, the higher
        of the two importances and the union of the tags, and ``created`` is False.
        """

    @abc.abstractmethod
    async def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        """The records with these ids (active or superseded), in the order of ``ids``; unknown ids are skipped."""

    @abc.abstractmethod
    async def supersede(
        self, persona: str, old_id: str, new: MemoryRecord, vector: Vector | None = None
    ) -> MemoryRecord:
        """Atomically mark ``old_id`` superseded by ``new`` and store ``new`` (with its vector).

        Raises :class:`~persona_memory.errors.MemoryNotFoundError` if ``old_id`` is not an
        active memory of ``persona``.
        """

    @abc.abstractmethod
    async def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        """Delete these memories and every version of them (both directions of ``supersedes``).

        Returns the ids actually deleted. The content must leave every index the backend keeps.
        """

    @abc.abstractmethod
    async def candidates(self, persona: str, query: Query) -> list[Candidate]:
        """Active memories of ``persona`` passing ``query.filters``.

        Without ``query.text`` or ``query.vector``: all of them (scores None). With
        ``query.text``: at most ``query.k`` full-text matches with ``text_score`` (BM25 or the
        engine's equivalent, higher is better). With ``query.vector``: at most ``query.k``
        nearest memories with ``vector_score`` (cosine); with both, the union, and every
        candidate that has a vector carries its cosine (text matches too). With
        ``query.context``: also the memories stored next to each match, listed in its
        ``before`` / ``after`` (see :class:`~persona_memory.models.Query`); a backend that
        cannot may ignore it (search then works without conversation context). With
        ``query.match_terms``, also ``text_match`` (the IDF-weighted share of the query's terms
        the memory contains, 0-1; leave None if the engine cannot tell).
        """

    @abc.abstractmethod
    async def touch(self, persona: str, ids: Sequence[str], at: dt.datetime) -> None:
        """Count one access to each memory: ``access_count += 1``, ``last_accessed = at``."""

    @abc.abstractmethod
    async def stats(self, persona: str) -> Stats:
        """Counts and extremes over the persona's memories (``top_tags``: the 5 most used)."""

    @abc.abstractmethod
    async def export(self, persona: str) -> list[MemoryRecord]:
        """Every record of ``persona``, superseded ones included, oldest first."""

    @abc.abstractmethod
    async def import_records(self, records: Sequence[MemoryRecord]) -> int:
        """Store records as they are (ids kept); records whose id exists are skipped. Returns the count added."""

    @abc.abstractmethod
    async def personas(self) -> list[str]:
        """Slugs of every persona with at least one memory, sorted."""

    async def check(self) -> list[str]:
        """Verify the stored data; returns the problems found (empty: all is well).

        Slow on a big store (it reads everything): for ``pmem check`` and after an incident,
        not for every call. A backend with nothing it can check returns ``[]``.
        """
        return []

    async def compact(self) -> None:  # noqa: B027 (a safe no-op by default)
        """Physically remove what ``forget`` deleted, so forgotten content is gone from storage.

        Called by the persona store after every ``forget``. Some engines keep deleted data
        around until maintenance: SQLite's full-text index keeps deleted tokens in its segments
        until they are merged, and old page images stay in the write-ahead log until a
        checkpoint. A backend whose deletes leave nothing behind (or that cannot purge) keeps
        this default, which does nothing. Must be safe to call at any time, from any process.
        """

    # ---- vectors and store-wide settings ----

    async def set_vectors(self, persona: str, vectors: Mapping[str, Vector]) -> None:
        """Attach (or replace) the embeddings of these memories (re-indexing)."""
        raise BackendError(f"the {self.name} backend does not store vectors")

    async def missing_vectors(self, persona: str, limit: int) -> list[tuple[str, str]]:
        """Up to ``limit`` ``(id, content)`` of active memories that have no vector yet."""
        return []

    async def clear_vectors(self) -> None:  # noqa: B027 (nothing to clear by default)
        """Drop every stored vector (before re-indexing with another embedder)."""

    @abc.abstractmethod
    async def get_meta(self, name: str) -> str | None:
        """A store-wide setting every process must agree on (e.g. the embedder), or None."""

    @abc.abstractmethod
    async def set_meta(self, name: str, value: str) -> None:
        """Record a store-wide setting."""

    # ---- lifecycle ----

    async def aclose(self) -> None:  # noqa: B027 (optional to override)
        """Release connections. The object may be used again afterwards (it reconnects)."""

    async def __aenter__(self) -> AsyncBackend:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"
