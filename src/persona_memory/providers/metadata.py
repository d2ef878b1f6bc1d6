"""What a memory's tags, type, importance and time look like in a provider's metadata. Pure.

Both mem0 and Zep keep per-memory metadata (Zep: at most 10 keys of scalars or lists of
scalars), so everything travels with the memory and no local side table is needed:

==================  ======================================
key                 value
==================  ======================================
``pm_id``           our memory id (``mem_`` + 16 hex)
``pm_type``         memory type
``pm_tags``         list of tags
``pm_importance``   0.0-1.0
``pm_at``           ISO time it was said
``pm_supersedes``   id of the version it replaced, or absent
``pm_meta``         the caller's metadata as JSON text
==================  ======================================

A memory written to the service by another tool has none of these: it gets the service's id,
type ``general`` with its default importance, no tags, and the service's creation time.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from ..models import DEFAULT_IMPORTANCE, MemoryRecord, MemoryType


@dataclass(frozen=True)
class RemoteMemory:
    """One memory as the service returns it. ``score``: the service's relevance, higher is better."""

    remote_id: str
    content: str
    metadata: dict[str, Any] = field(default_factory=dict)
    created_at: dt.datetime | None = None
    score: float | None = None


KEYS = ("pm_id", "pm_type", "pm_tags", "pm_importance", "pm_at", "pm_supersedes", "pm_meta")


def to_metadata(record: MemoryRecord) -> dict[str, Any]:
    data: dict[str, Any] = {
        "pm_id": record.id,
        "pm_type": record.type.value,
        "pm_tags": list(record.tags),
        "pm_importance": record.importance,
        "pm_at": record.created_at.isoformat(),
    }
    if record.supersedes:
        data["pm_supersedes"] = record.supersedes
    if record.metadata:
        data["pm_meta"] = json.dumps(record.metadata, ensure_ascii=False)
    return data


def to_record(remote: RemoteMemory, persona: str, now: dt.datetime) -> MemoryRecord:
    meta = remote.metadata or {}
    try:
        kind = MemoryType(meta.get("pm_type", MemoryType.GENERAL))
    except ValueError:
        kind = MemoryType.GENERAL
    importance = meta.get("pm_importance")
    if not isinstance(importance, (int, float)) or not 0 <= importance <= 1:
        importance = DEFAULT_IMPORTANCE[kind]
    tags = meta.get("pm_tags") or ()
    created = _parse_time(meta.get("pm_at")) or remote.created_at or now
    try:
        extra = json.loads(meta["pm_meta"]) if "pm_meta" in meta else {}
    except (TypeError, ValueError):
        extra = {}
    return MemoryRecord(
        id=str(meta.get("pm_id") or remote.remote_id),
        persona=persona,
        content=remote.content,
        type=kind,
        tags=tuple(str(t) for t in tags) if isinstance(tags, (list, tuple)) else (),
        importance=float(importance),
        created_at=created,
        metadata=extra if isinstance(extra, dict) else {},
        supersedes=meta.get("pm_supersedes"),
    )


def _parse_time(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
