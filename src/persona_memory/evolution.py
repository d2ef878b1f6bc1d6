"""The evolution bridge: patterns in memories become events that change the persona. Pure.

Three patterns, as the memory faculty describes them:

``interest_discovery``
    At least ``interest_threshold`` (default 3) memories share a tag (a subject, not a
    bookkeeping tag such as ``preference``). Once per tag.
``mood_shift``
    The user's recent emotional memories (the last ``mood_window``, at least ``mood_min``)
    lean positive or negative on average (VADER compound, beyond +-``mood_threshold``) and
    that lean differs from the last one the bridge recorded.
``relationship_stage``
    Personal sharing accumulates (personal facts, preferences, emotional moments and
    milestones the user shared, on distinct days). Stages follow OpenPersona's soul state:
    stranger -> acquaintance -> friend -> close_friend. The bridge never moves a persona to
    ``intimate`` (OpenPersona reserves it for an explicit mutual bond) and never backwards.

:func:`detect` lists the events the memories call for that were not logged before (each event
has a ``key``: the same memories never produce a new event, which makes the bridge idempotent);
:func:`apply` folds an event into ``state.json``'s content, in OpenPersona's soul-state shape.
Memories the bridge itself wrote (metadata ``source: evolution``) never feed back into it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from . import sentiment
from .models import MemoryRecord, MemoryType

STAGES = ("stranger", "acquaintance", "friend", "close_friend", "intimate")
EVENT_TYPES = ("interest_discovery", "mood_shift", "relationship_stage")
SOURCE = "evolution"  # metadata["source"] of the memories the bridge stores
# Tags that say what kind of memory this is rather than what it is about.
BOOKKEEPING_TAGS = frozenset(
    [t.value for t in MemoryType]
    + ["interest", "emotion", "positive", "negative", "explicit", "relationship", "identity",
       "name", "evolution", "mood"]
)
SHARING_TYPES = frozenset(
    {MemoryType.PERSONAL_FACT, MemoryType.PREFERENCE, MemoryType.EMOTIONAL_MOMENT, MemoryType.MILESTONE}
)


@dataclass(frozen=True)
class StageRule:
    """What a relationship needs to reach ``stage``."""

    stage: str
    shares: int  # memories of personal sharing
    days: int  # distinct days they were shared on
    emotional: int = 0  # of which emotional moments
    interests: int = 0  # interests discovered


@dataclass(frozen=True)
class BridgeConfig:
    interest_threshold: int = 3
    mood_window: int = 10
    mood_min: int = 3
    mood_threshold: float = 0.3
    # After OpenPersona's soul-evolution criteria ("3+ meaningful exchanges, user shared
    # something personal"; "10+ interactions, recurring topics"; "deep emotional sharing,
    # consistent engagement"), counted in memories since the bridge sees no raw interactions.
    stages: tuple[StageRule, ...] = (
        StageRule("acquaintance", shares=3, days=1),
        StageRule("friend", shares=10, days=3, interests=1),
        StageRule("close_friend", shares=25, days=7, emotional=5, interests=2),
    )


def initial_state(persona: str, now: dt.datetime) -> dict[str, Any]:
    """A new soul state, in OpenPersona's ``soul-state`` shape."""
    stamp = now.isoformat()
    return {
        "$schema": "openpersona/soul-state",
        "version": "1.0.0",
        "personaSlug": persona,
        "createdAt": stamp,
        "lastUpdatedAt": stamp,
        "relationship": {"stage": "stranger", "stageHistory": [], "interactionCount": 0,
                         "firstInteraction": None, "lastInteraction": None},
        "mood": {"current": "neutral", "intensity": 0.5, "baseline": "neutral"},
        "evolvedTraits": [],
        "interests": {},
        "milestones": [],
        "stateHistory": [],
        "memoryBridge": {"lastSeq": 0},
    }


def user_memories(memories: Iterable[MemoryRecord]) -> list[MemoryRecord]:
    """Active memories, leaving out the ones the bridge wrote itself."""
    return [m for m in memories if m.active and m.metadata.get("source") != SOURCE]


def detect(
    memories: Sequence[MemoryRecord],
    logged: Sequence[dict[str, Any]],
    config: BridgeConfig,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The events ``memories`` call for that are not in ``logged`` yet (without ``seq``)."""
    mine = user_memories(memories)
    seen = {e["key"] for e in logged}
    events: list[dict[str, Any]] = []

    def emit(kind: str, key: str, data: dict[str, Any]) -> None:
        if key not in seen:
            seen.add(key)
            events.append({"type": kind, "key": key, "at": now.isoformat(), "data": data})

    counts = interest_counts(mine)
    for tag, ids in sorted(counts.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(ids) >= config.interest_threshold:
            emit("interest_discovery", f"interest_discovery:{tag}",
                 {"tag": tag, "count": len(ids), "memory_ids": sorted(ids)})

    mood = _mood(mine, config)
    last_mood = next((e["data"]["to"] for e in reversed(logged) if e["type"] == "mood_shift"), "neutral")
    if mood is not None and mood[0] != last_mood:
        label, mean, used = mood
        emit("mood_shift", f"mood_shift:{label}:{used[-1]}",
             {"from": last_mood, "to": label, "mean": round(mean, 4), "memory_ids": used})

    interests = {e["data"]["tag"] for e in [*logged, *events] if e["type"] == "interest_discovery"}
    stage = _stage(mine, len(interests), config)
    reached = next((e["data"]["to"] for e in reversed(logged) if e["type"] == "relationship_stage"), STAGES[0])
    if STAGES.index(stage) > STAGES.index(reached):
        sharing = [m for m in mine if m.type in SHARING_TYPES]
        emit("relationship_stage", f"relationship_stage:{stage}",
             {"from": reached, "to": stage, "shares": len(sharing),
              "days": len({m.created_at.date() for m in sharing})})
    return events


def interest_counts(memories: Iterable[MemoryRecord]) -> dict[str, list[str]]:
    """Subject tag -> ids of the memories carrying it."""
    by_tag: dict[str, list[str]] = {}
    for memory in memories:
        for tag in memory.tags:
            if tag not in BOOKKEEPING_TAGS:
                by_tag.setdefault(tag, []).append(memory.id)
    return by_tag


def _mood(memories: Sequence[MemoryRecord], config: BridgeConfig) -> tuple[str, float, list[str]] | None:
    emotional = sorted(
        (m for m in memories if m.type is MemoryType.EMOTIONAL_MOMENT), key=lambda m: (m.created_at, m.id)
    )[-config.mood_window :]
    if len(emotional) < config.mood_min:
        return None
    scores = [_sentiment(m) for m in emotional]
    mean = sum(scores) / len(scores)
    label = "positive" if mean >= config.mood_threshold else "negative" if mean <= -config.mood_threshold else "neutral"
    return label, mean, [m.id for m in emotional]


def _sentiment(memory: MemoryRecord) -> float:
    value = memory.metadata.get("sentiment")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return sentiment.compound(memory.content)


def _stage(memories: Sequence[MemoryRecord], interests: int, config: BridgeConfig) -> str:
    sharing = [m for m in memories if m.type in SHARING_TYPES]
    days = len({m.created_at.date() for m in sharing})
    emotional = sum(1 for m in sharing if m.type is MemoryType.EMOTIONAL_MOMENT)
    stage = STAGES[0]
    for rule in config.stages:
        if (len(sharing) >= rule.shares and days >= rule.days and emotional >= rule.emotional
                and interests >= rule.interests):
            stage = rule.stage
    return stage


def apply(state: dict[str, Any], event: dict[str, Any], memories: Sequence[MemoryRecord] = ()) -> dict[str, Any]:
    """``state`` with ``event`` applied (a new dict; fields the bridge does not own are kept)."""
    state = {**state}
    data, at = event["data"], event["at"]
    if event["type"] == "interest_discovery":
        interests = dict(state.get("interests") or {})
        interests[data["tag"]] = {"count": data["count"], "discoveredAt": at, "source": "memory"}
        state["interests"] = interests
    elif event["type"] == "mood_shift":
        mood = dict(state.get("mood") or {})
        mood.update(current=data["to"], intensity=round(min(1.0, abs(data["mean"])), 4))
        state["mood"] = mood
    elif event["type"] == "relationship_stage":
        relationship = dict(state.get("relationship") or {})
        history = list(relationship.get("stageHistory") or [])
        history.append({"from": data["from"], "to": data["to"], "at": at, "reason": "memory"})
        relationship.update(stage=data["to"], stageHistory=history)
        state["relationship"] = relationship
    milestone = milestone_for(event)
    if milestone is not None:
        state["milestones"] = [*list(state.get("milestones") or []),
                               {"event": event["key"], "description": milestone[0], "at": at}]
    bridge = dict(state.get("memoryBridge") or {})
    bridge["lastSeq"] = max(int(bridge.get("lastSeq") or 0), int(event["seq"]))
    state["memoryBridge"] = bridge
    state["lastUpdatedAt"] = at
    return state


def refresh_interest_counts(state: dict[str, Any], memories: Sequence[MemoryRecord]) -> dict[str, Any]:
    """Keep the counts of known interests current (no event: an interest is discovered once)."""
    interests = state.get("interests")
    if not isinstance(interests, dict) or not interests:
        return state
    counts = Counter({tag: len(ids) for tag, ids in interest_counts(user_memories(memories)).items()})
    updated = {
        tag: ({**info, "count": counts[tag]} if isinstance(info, dict) and info.get("source") == "memory" else info)
        for tag, info in interests.items()
    }
    return state if updated == interests else {**state, "interests": updated}


def milestone_for(event: dict[str, Any]) -> tuple[str, tuple[str, ...]] | None:
    """The milestone memory an event is stored back as: ``(content, tags)``, or None."""
    data = event["data"]
    if event["type"] == "relationship_stage":
        return (
            f"Reached the '{data['to']}' stage with the user after {data['shares']} personal "
            f"shares over {data['days']} day{'s' if data['days'] != 1 else ''}",
            ("milestone", "relationship", "evolution"),
        )
    if event["type"] == "interest_discovery":
        return (
            f"Discovered the user's interest in {data['tag']} ({data['count']} memories)",
            ("milestone", "interest", "evolution", data["tag"]),
        )
    return None  # a mood shift is a drift, not a milestone


def derived_from(event: dict[str, Any], forgotten: set[str]) -> bool:
    """True if ``event`` rests only on memories in ``forgotten`` (it must be forgotten too)."""
    ids = event.get("data", {}).get("memory_ids")
    return isinstance(ids, list) and bool(ids) and set(ids) <= forgotten


def unapply(state: dict[str, Any], dropped: Sequence[dict[str, Any]], kept: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``state`` without what the ``dropped`` events put in it (``kept``: the events that stay)."""
    if not dropped:
        return state
    state = {**state}
    keys = {e["key"] for e in dropped}
    interests = state.get("interests")
    if isinstance(interests, dict):
        gone = {e["data"]["tag"] for e in dropped if e["type"] == "interest_discovery"}
        state["interests"] = {k: v for k, v in interests.items()
                              if not (k in gone and isinstance(v, dict) and v.get("source") == "memory")}
    if any(e["type"] == "mood_shift" for e in dropped):
        moods = [e for e in kept if e["type"] == "mood_shift"]
        mood = dict(state.get("mood") or {})
        if moods:
            mood.update(current=moods[-1]["data"]["to"], intensity=round(min(1.0, abs(moods[-1]["data"]["mean"])), 4))
        else:
            mood.update(current=mood.get("baseline") or "neutral", intensity=0.5)
        state["mood"] = mood
    state["milestones"] = [m for m in state.get("milestones") or []
                           if not (isinstance(m, dict) and m.get("event") in keys)]
    return state


def reset(state: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """``state`` without anything the bridge derived from memories (after forgetting everything)."""
    fresh = initial_state(str(state.get("personaSlug", "")), now)
    state = {**state}
    interests = state.get("interests")
    if isinstance(interests, dict):
        state["interests"] = {k: v for k, v in interests.items()
                              if not (isinstance(v, dict) and v.get("source") == "memory")}
    relationship = dict(state.get("relationship") or {})
    history = [h for h in relationship.get("stageHistory") or [] if not (isinstance(h, dict) and h.get("reason") == "memory")]
    relationship.update(stage=history[-1]["to"] if history else "stranger", stageHistory=history)
    state["relationship"] = relationship
    mood = dict(state.get("mood") or {})
    mood.update(current=mood.get("baseline") or "neutral", intensity=fresh["mood"]["intensity"])
    state["mood"] = mood
    state["milestones"] = [m for m in state.get("milestones") or []
                           if not (isinstance(m, dict) and str(m.get("event", "")).split(":")[0] in EVENT_TYPES)]
    state["memoryBridge"] = {"lastSeq": 0}
    state["lastUpdatedAt"] = now.isoformat()
    return state
