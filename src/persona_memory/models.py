"""Plain data: memory types, records, search hits, stats and backend queries.

Frozen dataclasses with no I/O; every backend and every interface speaks these.
"""

from __future__ import annotations

import datetime as dt
import enum
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

#: An embedding: 1-D float32, L2-normalised, so a dot product is the cosine similarity.
Vector = npt.NDArray[np.float32]


class MemoryType(enum.StrEnum):
    """The six kinds of persona memory named by the OpenPersona memory faculty."""

    PREFERENCE = "preference"
    PERSONAL_FACT = "personal_fact"
    INTEREST_SIGNAL = "interest_signal"
    EMOTIONAL_MOMENT = "emotional_moment"
    MILESTONE = "milestone"
    GENERAL = "general"


#: Importance used when ``store()`` is not given one. Core identity ranks high, context low,
#: following the faculty's table (0.8-1.0 core identity, 0.5-0.7 meaningful, 0.2-0.4 contextual).
DEFAULT_IMPORTANCE: dict[MemoryType, float] = {
    MemoryType.MILESTONE: 0.9,  # life events, relationship stages
    MemoryType.PERSONAL_FACT: 0.8,  # names, relationships, jobs, places, birthdays
    MemoryType.PREFERENCE: 0.7,  # deep or stated likes and dislikes
    MemoryType.EMOTIONAL_MOMENT: 0.6,  # breakthroughs, frustrations, celebrations
    MemoryType.INTEREST_SIGNAL: 0.5,  # recurring topics
    MemoryType.GENERAL: 0.3,  # one-time mentions, situational context
}


def new_memory_id() -> str:
    """A fresh memory id: ``mem_`` and 16 hex characters (64 random bits)."""
    return "mem_" + secrets.token_hex(8)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def from_epoch(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


@dataclass(frozen=True, slots=True)
class MemoryRecord:
    """One persona memory.

    ``created_at`` is when it was said (the ``at`` of ``store``), always timezone-aware UTC.
    A superseded record (``superseded_by`` set) is kept for history but never returned by
    ``retrieve`` or ``search``.
    """

    id: str
    persona: str
    content: str
    type: MemoryType
    tags: tuple[str, ...]
    importance: float
    created_at: dt.datetime
    metadata: dict[str, Any] = field(default_factory=dict)
    access_count: int = 0
    last_accessed: dt.datetime | None = None
    superseded_by: str | None = None
    supersedes: str | None = None

    @property
    def active(self) -> bool:
        return self.superseded_by is None

    def superseded_with(self, changes: dict[str, Any], new_id: str, at: dt.datetime) -> MemoryRecord:
        """A new version of this memory with ``changes`` applied, said at ``at``."""
        return replace(self, **changes, id=new_id, created_at=at, superseded_by=None, supersedes=self.id)

    def accessed(self, at: dt.datetime) -> MemoryRecord:
        """This record as it is after one more access at ``at``."""
        return replace(self, access_count=self.access_count + 1, last_accessed=at)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (ISO 8601 timestamps)."""
        return {
            "id": self.id,
            "persona": self.persona,
            "content": self.content,
            "type": self.type.value,
            "tags": list(self.tags),
            "importance": self.importance,
            "created_at": self.created_at.isoformat(),
            "metadata": self.metadata,
            "access_count": self.access_count,
            "last_accessed": self.last_accessed.isoformat() if self.last_accessed else None,
            "superseded_by": self.superseded_by,
            "supersedes": self.supersedes,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MemoryRecord:
        """The inverse of :meth:`to_dict`."""
        last = data.get("last_accessed")
        return cls(
            id=data["id"],
            persona=data["persona"],
            content=data["content"],
            type=MemoryType(data["type"]),
            tags=tuple(data.get("tags", ())),
            importance=float(data["importance"]),
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            metadata=dict(data.get("metadata") or {}),
            access_count=int(data.get("access_count", 0)),
            last_accessed=dt.datetime.fromisoformat(last) if last else None,
            superseded_by=data.get("superseded_by"),
            supersedes=data.get("supersedes"),
        )


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A memory found by ``search``, with the scores that ranked it (higher is better).

    ``relevance`` is how well the memory matches the query (0-1, after fusion), ``score`` is
    ``relevance`` weighted by importance and time decay (see :mod:`persona_memory.scoring`).
    """

    record: MemoryRecord
    score: float
    relevance: float
    text_score: float | None = None
    vector_score: float | None = None
    #: Absolute relevance 0-1, comparable across queries: what ``min_score`` is checked against.
    #: Computed only when a ``min_score`` is given (it costs a few extra queries), else None.
    match: float | None = None

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def content(self) -> str:
        return self.record.content

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.record.to_dict(),
            "score": round(self.score, 6),
            "relevance": round(self.relevance, 6),
            "match": None if self.match is None else round(self.match, 6),
        }


@dataclass(frozen=True, slots=True)
class Stats:
    """What a persona's store holds (the faculty's ``stats`` plus a few counts)."""

    total: int
    superseded: int
    top_tags: list[tuple[str, int]]
    oldest: dt.datetime | None
    newest: dt.datetime | None
    avg_importance: float | None
    by_type: dict[str, int]

    def to_dict(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "superseded": self.superseded,
            "top_tags": [{"tag": tag, "count": count} for tag, count in self.top_tags],
            "oldest": self.oldest.isoformat() if self.oldest else None,
            "newest": self.newest.isoformat() if self.newest else None,
            "avg_importance": None
            if self.avg_importance is None
            else round(self.avg_importance, 4),
            "by_type": self.by_type,
        }


@dataclass(frozen=True, slots=True)
class Filters:
    """Which active memories a query may return. Empty fields do not filter."""

    tags: tuple[str, ...] = ()
    match_all_tags: bool = False
    type: MemoryType | None = None
    since: dt.datetime | None = None  # inclusive
    until: dt.datetime | None = None  # exclusive


@dataclass(frozen=True, slots=True, eq=False)  # eq=False: holds a numpy array
class Query:
    """What a backend is asked for by :meth:`AsyncBackend.candidates`.

    With neither ``text`` nor ``vector`` the backend returns every active memory that passes
    ``filters``. With ``text`` it returns at most ``k`` full-text matches; with ``vector`` at
    most ``k`` nearest memories by cosine similarity; with both, the union of the two lists,
    each candidate carrying every score it has (the cosine of a text match too).

    ``context`` > 0 asks for the conversation around the best matches: for the first
    ``context_anchors`` text matches and the first ``context_anchors`` vector matches, the
    backend also returns, as candidates, up to ``context`` active memories (passing
    ``filters``) stored just before and just after it, in ``(created_at, insertion)`` order
    and at most ``context_window`` seconds away, and lists their ids in the match's
    :attr:`Candidate.before` / :attr:`Candidate.after`. Backends that cannot may ignore it.
    """

    filters: Filters = Filters()
    text: str | None = None
    vector: Vector | None = None
    k: int = 100
    #: also fill ``Candidate.text_match`` (costs a few queries; asked only for a ``min_score``)
    match_terms: bool = False
    context: int = 0
    context_window: float = 3600.0
    context_anchors: int = 20


@dataclass(frozen=True, slots=True)
class Candidate:
    """What ranking needs to know about one memory. Scores: higher is better, None = no match."""

    id: str
    importance: float
    created_at: float  # epoch seconds
    access_count: int
    text_score: float | None = None
    vector_score: float | None = None  # cosine similarity, -1..1
    # Absolute (not set-relative) text relevance, 0-1: the IDF-weighted share of the query's
    # terms found in this memory. None if the backend does not compute it (the store then
    # estimates it from the content, see persona_memory.scoring.absolute_relevance).
    text_match: float | None = None

    #: With ``Query.context``: ids of the memories stored just before / after, nearest first.
    before: tuple[str, ...] = ()
    after: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Turn:
    """One conversation turn, as an extractor sees it.

    ``topic_counts``: each subject word of the turn and how often it has been brought up so
    far, this turn included. ``related``: the contents of closely related memories already
    stored (at most a few), so an extractor can tell a recurring subject or avoid repeating.
    """

    text: str
    speaker: str
    at: dt.datetime
    topic_counts: Mapping[str, int] = field(default_factory=dict)
    related: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Extraction:
    """A memory an extractor proposes to store from a turn."""

    content: str
    type: MemoryType
    importance: float
    tags: tuple[str, ...] = ()
    rule: str = ""  # which rule (or extractor) proposed it, for the Decision's explanation
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Decision:
    """What ``observe`` did with a turn: what it stored, or why it stored nothing.

    ``reason`` is one of :data:`DECISION_REASONS`. A secret is never repeated here:
    ``secret_kinds`` names only what kind of secret was found. For a forget request,
    ``forget_query`` is what the user asked to forget and ``forget_candidates`` the memories
    that match it; nothing is deleted until the caller confirms and calls ``forget_matching``.
    Truthy when something was stored.
    """

    reason: str
    explanation: str
    stored: tuple[MemoryRecord, ...] = ()
    extractor: str = ""
    secret_kinds: tuple[str, ...] = ()
    forget_query: str | None = None
    forget_candidates: tuple[SearchHit, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.stored)

    def to_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "explanation": self.explanation,
            "stored": [r.to_dict() for r in self.stored],
            "extractor": self.extractor,
            "secret_kinds": list(self.secret_kinds),
            "forget_query": self.forget_query,
            "forget_candidates": [h.to_dict() for h in self.forget_candidates],
        }


#: Why ``observe`` stored something or nothing.
DECISION_REASONS = (
    "stored",  # something worth remembering was stored (or reinforced, if known already)
    "not_notable",  # an ordinary turn: no rule (or the extractor) found anything to keep
    "filler",  # casual small talk ("how's it going", "thanks")
    "private",  # the speaker marked it private ("between us", "don't remember this")
    "forget_request",  # the speaker asked to forget something: see forget_candidates
    "secret",  # a password, key, token, private key or card number: never stored
    "own_turn",  # the persona's own words (speaker "assistant", "persona", ...)
)


class _Unset:
    """Marks an argument that was not given, where ``None`` is a meaningful value."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"

    def __bool__(self) -> bool:
        return False


UNSET: Any = _Unset()
