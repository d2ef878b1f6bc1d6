"""The contract's record semantics, as pure functions over records held in memory.

SQL backends express these in SQL; backends that hold a persona's records in Python (the
JSON-lines files) use these, so the rules live in one place: what reinforcing a duplicate
does, which records a filter passes, which ids form one version family, what ``stats`` counts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import replace

from .models import Filters, MemoryRecord, Stats

TOP_TAGS = 5


def reinforced(existing: MemoryRecord, incoming: MemoryRecord) -> MemoryRecord:
    """``existing`` after the same content was stored again as ``incoming``.

    One more access (at the later of its last access and the new mention), the higher
    importance, and the union of the tags (existing ones first).
    """
    tags = existing.tags + tuple(t for t in incoming.tags if t not in existing.tags)
    at = incoming.created_at
    if existing.last_accessed is not None:
        at = max(existing.last_accessed, at)
    merged = replace(existing, tags=tags, importance=max(existing.importance, incoming.importance))
    return merged.accessed(at)


def passes(record: MemoryRecord, filters: Filters) -> bool:
    """True if ``record`` is active and passes every filter."""
    if not record.active:
        return False
    if filters.type is not None and record.type is not filters.type:
        return False
    if filters.since is not None and record.created_at < filters.since:
        return False
    if filters.until is not None and record.created_at >= filters.until:
        return False
    if filters.tags:
        have = set(record.tags)
        if filters.match_all_tags:
            return all(tag in have for tag in filters.tags)
        return any(tag in have for tag in filters.tags)
    return True


def version_family(records: Mapping[str, MemoryRecord], ids: Iterable[str]) -> list[str]:
    """``ids`` (those present) and every record linked to them by ``supersedes`` either way."""
    children: dict[str, list[str]] = {}
    for record in records.values():
        if record.supersedes is not None:
            children.setdefault(record.supersedes, []).append(record.id)
    family: list[str] = []
    todo = [i for i in ids if i in records]
    while todo:
        current = todo.pop()
        if current in family:
            continue
        family.append(current)
        record = records[current]
        linked = [record.supersedes, record.superseded_by, *children.get(current, [])]
        todo.extend(i for i in linked if i is not None and i in records and i not in family)
    return family


def stats_of(records: Iterable[MemoryRecord]) -> Stats:
    active: list[MemoryRecord] = []
    superseded = 0
    for record in records:
        if record.active:
            active.append(record)
        else:
            superseded += 1
    tags = Counter(tag for record in active for tag in record.tags)
    kinds = Counter(record.type.value for record in active)
    return Stats(
        total=len(active),
        superseded=superseded,
        top_tags=sorted(tags.items(), key=lambda item: (-item[1], item[0]))[:TOP_TAGS],
        oldest=min((r.created_at for r in active), default=None),
        newest=max((r.created_at for r in active), default=None),
        avg_importance=sum(r.importance for r in active) / len(active) if active else None,
        by_type=dict(sorted(kinds.items())),
    )
