"""Operations on records held in memory: filter matching, ranking inputs, stats. Pure.

For stores that cannot filter or aggregate themselves (external providers, files), so they
answer exactly like the SQLite backend does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from .models import Candidate, Filters, MemoryRecord, Stats


def matches(record: MemoryRecord, filters: Filters) -> bool:
    """Whether an active record passes ``filters`` (tags any-of, or all-of; type; since/until)."""
    if not record.active:
        return False
    if filters.type is not None and record.type != filters.type:
        return False
    if filters.since is not None and record.created_at < filters.since:
        return False
    if filters.until is not None and record.created_at >= filters.until:
        return False
    if filters.tags:
        wanted = set(filters.tags)
        present = wanted & set(record.tags)
        if (filters.match_all_tags and present != wanted) or not present:
            return False
    return True


def candidate(record: MemoryRecord, *, text_score: float | None = None, vector_score: float | None = None) -> Candidate:
    return Candidate(
        id=record.id,
        importance=record.importance,
        created_at=record.created_at.timestamp(),
        access_count=record.access_count,
        text_score=text_score,
        vector_score=vector_score,
    )


def stats(records: Iterable[MemoryRecord]) -> Stats:
    """The same figures ``Backend.stats`` gives, computed over ``records``."""
    active: list[MemoryRecord] = []
    superseded = 0
    for record in records:
        if record.active:
            active.append(record)
        else:
            superseded += 1
    tags = Counter(tag for record in active for tag in record.tags)
    top = sorted(tags.items(), key=lambda pair: (-pair[1], pair[0]))[:5]
    return Stats(
        total=len(active),
        superseded=superseded,
        top_tags=top,
        oldest=min((r.created_at for r in active), default=None),
        newest=max((r.created_at for r in active), default=None),
        avg_importance=sum(r.importance for r in active) / len(active) if active else None,
        by_type=dict(sorted(Counter(r.type.value for r in active).items())),
    )
