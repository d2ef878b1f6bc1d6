"""The evolution bridge and the handoff file, on a persona store.

The async module is the source; ``scripts/make_sync.py`` generates its sync twin. The
decisions are in :mod:`persona_memory.evolution` (pure); the files in
:mod:`persona_memory.persona_files` (blocking I/O, run in a worker thread here).

One ``evolve`` run, under an exclusive lock on the persona's directory::

    1. read state.json (a damaged one stops the run: nothing is written, it is left as it is)
    2. read the event log; detect the events the memories call for that are not logged yet
    3. append them to events.jsonl (durable) with the next sequence numbers
    4. apply every logged event newer than state.json's memoryBridge.lastSeq: update the
       state, store relationship and interest milestones back as `milestone` memories
    5. write state.json atomically

A crash between 3 and 5 is repaired by the next run (step 4 catches up from the log); the
milestone memories are deduplicated by the store, so a replay reinforces, never copies.
"""

from __future__ import annotations

import asyncio
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .. import evolution, validation
from ..errors import CorruptStateError, CorruptStateWarning
from ..models import MemoryRecord, MemoryType
from ..persona_files import PersonaFiles, remove_handoffs_from, write_json_atomic

if TYPE_CHECKING:
    from .persona import AsyncPersonaStore

HANDOFF_SCHEMA_ID = "https://persona-memory.invalid/schemas/handoff-1.json"
MILESTONE_IMPORTANCE = 0.9


@dataclass(frozen=True)
class Evolution:
    """What one ``evolve`` run did."""

    events: tuple[dict[str, Any], ...]  # newly logged, with their seq
    milestones: tuple[MemoryRecord, ...]  # milestone memories stored back
    state: dict[str, Any] = field(default_factory=dict)  # state.json as written

    def to_dict(self) -> dict[str, Any]:
        return {
            "events": list(self.events),
            "milestones": [m.to_dict() for m in self.milestones],
            "state": self.state,
        }


def persona_files(store: AsyncPersonaStore, persona: str | None = None) -> PersonaFiles:
    return PersonaFiles(store.settings.persona_dir(persona or store.persona))


async def evolve(store: AsyncPersonaStore, config: evolution.BridgeConfig) -> Evolution:
    """See :meth:`AsyncPersonaStore.evolve`."""
    files = persona_files(store)
    lock = files.bridge_lock()
    await asyncio.to_thread(lock.__enter__)
    try:
        now = store.clock()
        state = await asyncio.to_thread(files.read_state)
        logged = await asyncio.to_thread(files.read_events)
        memories = await store.export()
        new = evolution.detect(memories, logged, config, now)
        seq = max((e["seq"] for e in logged), default=0)
        for event in new:
            seq += 1
            event["seq"] = seq
        await asyncio.to_thread(files.append_events, new)
        current = state if state is not None else evolution.initial_state(store.persona, now)
        last = int((current.get("memoryBridge") or {}).get("lastSeq") or 0)
        milestones = []
        for event in [e for e in [*logged, *new] if e["seq"] > last]:
            milestone = evolution.milestone_for(event)
            if milestone is not None:
                content, tags = milestone
                milestones.append(await store.store(
                    content, tags=tags, importance=MILESTONE_IMPORTANCE, type=MemoryType.MILESTONE,
                    metadata={"source": evolution.SOURCE, "event": event["key"]}, at=now,
                ))
            current = evolution.apply(current, event)
        current = evolution.refresh_interest_counts(current, memories)
        if current != state:
            await asyncio.to_thread(files.write_state, current)
        return Evolution(events=tuple(new), milestones=tuple(milestones), state=current)
    finally:
        await asyncio.to_thread(lock.__exit__, None, None, None)


async def events(store: AsyncPersonaStore) -> list[dict[str, Any]]:
    """Every event of the persona's log, oldest first."""
    files = persona_files(store)
    return await asyncio.to_thread(files.read_events)


async def handoff(store: AsyncPersonaStore, to_persona: str) -> dict[str, Any]:
    """See :meth:`AsyncPersonaStore.handoff`."""
    to_persona = validation.slug(to_persona, "to_persona")
    stats = await store.stats()
    data: dict[str, Any] = {
        "$schema": HANDOFF_SCHEMA_ID,
        "version": 1,
        "fromPersona": store.persona,
        "toPersona": to_persona,
        "createdAt": store.clock().isoformat(),
        "memory": {
            "total": stats.total,
            "topTags": [{"tag": tag, "count": count} for tag, count in stats.top_tags[:5]],
            "lastMemoryAt": stats.newest.isoformat() if stats.newest else None,
        },
    }
    files = persona_files(store)
    try:
        state = await asyncio.to_thread(files.read_state)
    except CorruptStateError as exc:
        warnings.warn(f"handoff without relationship and mood: {exc}", CorruptStateWarning, stacklevel=2)
        state = None
    if state is not None:
        relationship, mood = state.get("relationship"), state.get("mood")
        if isinstance(relationship, dict) and isinstance(relationship.get("stage"), str):
            data["relationshipStage"] = relationship["stage"]
        if isinstance(mood, dict) and isinstance(mood.get("current"), str):
            intensity = mood.get("intensity")
            data["mood"] = {"current": mood["current"]}
            if isinstance(intensity, (int, float)) and not isinstance(intensity, bool):
                data["mood"]["intensity"] = float(intensity)
    target = persona_files(store, to_persona).handoff_path
    await asyncio.to_thread(write_json_atomic, target, data)
    return data


async def after_forget(store: AsyncPersonaStore, forgotten: set[str]) -> list[str]:
    """Forget what the bridge derived only from the ``forgotten`` memories.

    Events resting only on them leave the log and ``state.json``; the milestone memories stored
    for those events are returned (the caller forgets them too). A damaged ``state.json`` is
    left as it is, with a warning.
    """
    files = persona_files(store)
    lock = files.bridge_lock()
    await asyncio.to_thread(lock.__enter__)
    try:
        logged = await asyncio.to_thread(files.read_events)
        dropped = [e for e in logged if evolution.derived_from(e, forgotten)]
        if not dropped:
            return []
        kept = [e for e in logged if e not in dropped]
        await asyncio.to_thread(files.rewrite_events, kept)
        try:
            state = await asyncio.to_thread(files.read_state)
        except CorruptStateError as exc:
            warnings.warn(f"forgotten memories may still shape the state: {exc}", CorruptStateWarning, stacklevel=2)
            state = None
        if state is not None:
            await asyncio.to_thread(files.write_state, evolution.unapply(state, dropped, kept))
    finally:
        await asyncio.to_thread(lock.__exit__, None, None, None)
    keys = {e["key"] for e in dropped}
    return [m.id for m in await store.export() if m.metadata.get("source") == evolution.SOURCE
            and m.metadata.get("event") in keys]


async def refresh_handoffs(store: AsyncPersonaStore) -> None:
    """Rewrite the handoff files this persona wrote, so they list nothing it has forgotten."""
    files = persona_files(store)
    found = await asyncio.to_thread(files.handoffs_from, store.settings.base_path, store.persona)
    for _path, to_persona in found:
        await handoff(store, to_persona)


async def forget_bridge(store: AsyncPersonaStore) -> None:
    """Remove what the bridge derived from the persona's memories (after forgetting them all).

    The event log and the handoff files this persona wrote go; ``state.json`` keeps the
    persona's own fields and loses the interests, mood, stage and milestones the bridge set.
    A damaged ``state.json`` is left as it is (and reported).
    """
    files = persona_files(store)
    lock = files.bridge_lock()
    await asyncio.to_thread(lock.__enter__)
    try:
        await asyncio.to_thread(files.remove, "events.jsonl")
        state = await asyncio.to_thread(files.read_state)
        if state is not None:
            await asyncio.to_thread(files.write_state, evolution.reset(state, store.clock()))
    finally:
        await asyncio.to_thread(lock.__exit__, None, None, None)
    await asyncio.to_thread(remove_handoffs_from, store.settings.base_path, store.persona)
