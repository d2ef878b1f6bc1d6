"""Moving a persona's memories between backends, through JSON lines, losing nothing.

The interchange format is one memory per line: our own ``MemoryRecord.to_dict()`` form (what
``pmem export`` writes), or an OpenPersona ``memories.jsonl`` line (read as its persona's). A copy
keeps ids, version links, access counts and times (``import_records``), then reads every record
back from the destination and compares it with the source: a count or a content that differs is
an error, never a silent loss.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import IO

from .backends._sync.base import Backend
from .errors import BackendError, InvalidInputError
from .jsonl_format import record_from_interchange
from .models import MemoryRecord

BATCH = 500


@dataclass(frozen=True)
class CopyReport:
    total: int  # records in the source
    added: int  # records the destination did not have
    verified: int  # records read back from the destination, identical to the source


def read_lines(stream: IO[str], persona: str) -> list[MemoryRecord]:
    """The records of a JSON-lines stream, all as memories of ``persona``, oldest first.

    A line that is not a memory raises :class:`~persona_memory.errors.InvalidInputError`
    naming its number: an import stops before writing anything rather than half-copy a file.
    """
    records = []
    for number, line in enumerate(stream, start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except ValueError as exc:
            raise InvalidInputError("input", line.strip()[:60], f"line {number}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise InvalidInputError("input", line.strip()[:60], f"line {number}: not a JSON object")
        try:
            records.append(record_from_interchange(data, number, persona))
        except ValueError as exc:
            raise InvalidInputError("input", line.strip()[:60], str(exc)) from None
    return sorted(records, key=lambda r: r.created_at)


def write_lines(records: Iterable[MemoryRecord], stream: IO[str]) -> int:
    count = 0
    for record in records:
        stream.write(json.dumps(record.to_dict(), ensure_ascii=False) + "\n")
        count += 1
    return count


def copy(
    records: Sequence[MemoryRecord],
    destination: Backend,
    persona: str,
    progress: Callable[[int], None] = lambda n: None,
) -> CopyReport:
    """Import ``records`` into ``destination`` as ``persona``'s, then check every one arrived intact.

    ``progress(n)`` is called after each batch of ``n`` records. Records whose id the destination
    already has are not written again, but they are verified like the others, so running the same
    copy twice is harmless and a conflicting earlier copy is reported.
    """
    moved = [r if r.persona == persona else replace(r, persona=persona) for r in records]
    added = 0
    for start in range(0, len(moved), BATCH):
        batch = moved[start : start + BATCH]
        added += destination.import_records(batch)
        progress(len(batch))
    found = {r.id: r for r in destination.get_records(persona, [r.id for r in moved])}
    missing = [r.id for r in moved if r.id not in found]
    different = [r.id for r in moved if r.id in found and found[r.id] != r]
    if missing or different:
        raise BackendError(
            f"the copy to {destination.url} is incomplete: {len(missing)} of {len(moved)} memories missing"
            f"{' (' + ', '.join(missing[:5]) + ')' if missing else ''}, {len(different)} different"
            f"{' (' + ', '.join(different[:5]) + ')' if different else ''}; "
            "the destination may already hold other versions of them"
        )
    return CopyReport(total=len(moved), added=added, verified=len(moved))
