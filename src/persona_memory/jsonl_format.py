"""The OpenPersona memory line: one JSON object per line of ``memories.jsonl``. Pure functions.

OpenPersona's local provider (``memory.js``) writes these fields::

    {"id": "mem_0123456789abcdef", "type": "preference", "content": "...", "tags": ["food"],
     "importance": 0.8, "timestamp": "2025-06-01T12:00:00.000Z", "accessCount": 0,
     "lastAccessed": null}

We write the same fields, plus ``supersededBy`` / ``supersedes`` when a memory was updated and
``metadata`` when it has any. OpenPersona's reader parses each line with ``JSON.parse`` and uses
only the fields it knows, so the extra ones are carried along and never in its way. The persona
is not in the line: it is the ``persona-<slug>`` directory the file lives in.

Reading is lenient where OpenPersona is (missing ``importance`` is 0.5, missing ``type`` is
``general``, tags may be a comma-separated string) and strict where a line cannot be a memory
(not JSON, no ``id``, no ``content``, no valid ``timestamp``): such a line is reported as
:class:`CorruptLine` and the caller skips it with a warning naming its number.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from .models import MemoryRecord, MemoryType

#: OpenPersona's importance when a line has none (``memory.importance ?? 0.5``).
DEFAULT_IMPORTANCE = 0.5


@dataclass(frozen=True, slots=True)
class CorruptLine:
    """A line that is not a memory: its 1-based number, its text and why."""

    number: int
    text: str
    reason: str


def format_time(moment: dt.datetime) -> str:
    """ISO 8601 in UTC with ``Z``, as JavaScript's ``toISOString()`` (microseconds kept if any)."""
    utc = moment.astimezone(dt.UTC)
    spec = "milliseconds" if utc.microsecond % 1000 == 0 else "microseconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(value: Any) -> dt.datetime | None:
    """A timestamp from a line (ISO text; epoch milliseconds are accepted too), aware UTC."""
    if isinstance(value, str) and value.strip():
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        parsed = dt.datetime.fromisoformat(text)
        if parsed.tzinfo is None:  # JavaScript reads a bare date-time as local time; we say UTC
            parsed = parsed.replace(tzinfo=dt.UTC)
        return parsed.astimezone(dt.UTC)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value / 1000, dt.UTC)
    return None


def to_line(record: MemoryRecord) -> str:
    """The JSON text of one line (no newline)."""
    data: dict[str, Any] = {
        "id": record.id,
        "type": record.type.value,
        "content": record.content,
        "tags": list(record.tags),
        "importance": record.importance,
        "timestamp": format_time(record.created_at),
        "accessCount": record.access_count,
        "lastAccessed": format_time(record.last_accessed) if record.last_accessed else None,
    }
    if record.superseded_by is not None:
        data["supersededBy"] = record.superseded_by
    if record.supersedes is not None:
        data["supersedes"] = record.supersedes
    if record.metadata:
        data["metadata"] = record.metadata
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def from_line(text: str, persona: str, number: int) -> MemoryRecord | CorruptLine:
    """Parse one line of a persona's file; a line that is not a memory gives a CorruptLine."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        return CorruptLine(number, text, f"not JSON: {exc}")
    if not isinstance(data, dict):
        return CorruptLine(number, text, "not a JSON object")
    try:
        return _record(data, persona)
    except (KeyError, TypeError, ValueError) as exc:
        return CorruptLine(number, text, str(exc) or type(exc).__name__)


def _record(data: dict[str, Any], persona: str) -> MemoryRecord:
    memory_id, content = data.get("id"), data.get("content")
    if not isinstance(memory_id, str) or not memory_id:
        raise ValueError("no id")
    if not isinstance(content, str) or not content.strip():
        raise ValueError("no content")
    created = parse_time(data.get("timestamp"))
    if created is None:
        raise ValueError("no timestamp")
    try:
        kind = MemoryType(data.get("type") or MemoryType.GENERAL.value)
    except ValueError:
        raise ValueError(f"unknown type {data.get('type')!r}") from None
    importance = data.get("importance")
    if importance is None:
        importance = DEFAULT_IMPORTANCE
    if isinstance(importance, bool) or not isinstance(importance, (int, float)):
        raise ValueError(f"importance {importance!r} is not a number")
    metadata = data.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not an object")
    superseded_by, supersedes = data.get("supersededBy"), data.get("supersedes")
    return MemoryRecord(
        id=memory_id,
        persona=persona,
        content=content,
        type=kind,
        tags=_tags(data.get("tags")),
        importance=min(1.0, max(0.0, float(importance))),
        created_at=created,
        metadata=metadata,
        access_count=max(0, int(data.get("accessCount") or 0)),
        last_accessed=parse_time(data.get("lastAccessed")),
        superseded_by=superseded_by if isinstance(superseded_by, str) and superseded_by else None,
        supersedes=supersedes if isinstance(supersedes, str) and supersedes else None,
    )


def _tags(value: Any) -> tuple[str, ...]:
    """Tags as our filters compare them (lowercase, stripped, no duplicates)."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        raise ValueError("tags is not a list")
    out: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise ValueError(f"tag {tag!r} is not a string")
        tag = tag.strip().lower()
        if tag and tag not in out:
            out.append(tag)
    return tuple(out)


def record_from_interchange(data: dict[str, Any], number: int, persona: str | None = None) -> MemoryRecord:
    """A record from an export line: our own ``to_dict`` form, or an OpenPersona line.

    ``persona`` (when given) replaces the line's persona, e.g. to import into another persona.
    Raises ``ValueError`` naming the line number when the line is neither.
    """
    try:
        if "created_at" in data:
            record = MemoryRecord.from_dict({**data, "persona": persona or data.get("persona") or ""})
            if not record.persona:
                raise ValueError("no persona")
            return record
        if persona is None:
            raise ValueError("an OpenPersona line has no persona: give one")
        return _record(data, persona)
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"line {number}: not a memory ({exc or type(exc).__name__})") from exc
