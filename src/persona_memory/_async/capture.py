"""``observe``: one call per conversation turn decides what to remember.

The async module is the source; ``scripts/make_sync.py`` generates its sync twin.

Order of the checks (each one ends the decision)::

    own turn ("assistant", "persona", ...)  -> own_turn
    secret in the turn                      -> secret          (never stored, never sent on)
    "forget ..." request                    -> forget_request  (matches listed, nothing deleted)
    marked private                          -> private
    casual filler                           -> filler
    extractor finds nothing                 -> not_notable
    otherwise                               -> stored

Recurring subjects need a memory of what was said before, even of turns that were not stored:
each subject word's mention count lives in the store's key-value table (namespace
``pmem.topics.<persona>``), one small JSON document per persona. Forgetting a memory also
drops the counts of its words; forgetting everything drops them all.
"""

from __future__ import annotations

import datetime as dt
import json
import warnings
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from .. import capture_rules, privacy, validation
from ..errors import FallbackWarning, InvalidInputError, ProviderError
from ..models import Decision, Extraction, Turn
from .extractors import AsyncExtractor, AsyncRuleExtractor

if TYPE_CHECKING:
    from .persona import AsyncPersonaStore

#: Speakers whose turns are the persona's own words, never memories about the user.
OWN_SPEAKERS = frozenset({"assistant", "persona", "bot", "system", "ai", "model"})
TOPIC_KEY = "counts"
MAX_TOPICS = 5_000  # least recently mentioned subjects are dropped beyond this
RELATED_LIMIT = 3
RELATED_MIN_SCORE = 0.6
RELATED_TERMS = 8


def topic_namespace(persona: str) -> str:
    return f"pmem.topics.{persona}"


async def observe(
    store: AsyncPersonaStore,
    text: str,
    speaker: str = "user",
    at: dt.datetime | dt.date | str | None = None,
    *,
    metadata: dict[str, Any] | None = None,
    extractor: AsyncExtractor | None = None,
) -> Decision:
    """See :meth:`AsyncPersonaStore.observe`."""
    text = validation.content(text, "text")
    if not isinstance(speaker, str) or not speaker.strip() or len(speaker) > 64:
        raise InvalidInputError("speaker", speaker, "a non-empty name of at most 64 characters")
    speaker = speaker.strip()
    metadata = validation.metadata(metadata)
    now = store.clock()
    when = now if at is None else validation.moment(at, "at", now=now)
    extractor = extractor or store.extractor
    name = extractor.name

    if speaker.casefold() in OWN_SPEAKERS:
        return Decision("own_turn", f"{speaker!r} is the persona itself; only the user's turns are kept", extractor=name)
    kinds = privacy.find_secrets(text)
    if kinds:
        return Decision("secret", f"not stored: it looks like a secret ({', '.join(kinds)})",
                        extractor=name, secret_kinds=tuple(kinds))
    what = privacy.forget_request(text)
    if what is not None:
        candidates = tuple(await store.matching(what)) if what else ()
        return Decision(
            "forget_request",
            f"asked to forget {what!r}: {len(candidates)} matching memories; confirm, then call forget_matching"
            if what else "asked to forget something unnamed: ask what to forget",
            extractor=name, forget_query=what, forget_candidates=candidates,
        )
    if privacy.marked_private(text):
        return Decision("private", "not stored: marked as private", extractor=name)
    if capture_rules.is_filler(text):
        return Decision("filler", "not stored: casual small talk", extractor=name)

    subjects = capture_rules.topics(text)
    counts = await _count_topics(store, subjects, when)
    # closely related memories already stored, found by the store's own search (lexical today,
    # semantic too once the store has an embedder); asked by subject words, which keeps it cheap
    query = " ".join(subjects[:RELATED_TERMS])
    related = tuple(
        hit.content for hit in await store.matching(query, min_score=RELATED_MIN_SCORE, limit=RELATED_LIMIT)
    ) if query else ()
    turn = Turn(text=text, speaker=speaker, at=when, topic_counts=counts, related=related)
    try:
        extractions = await extractor.extract(turn)
    except ProviderError as exc:
        warnings.warn(f"{exc}; using the offline rules for this turn", FallbackWarning, stacklevel=2)
        name = f"rules (fallback from {name})"
        extractions = await AsyncRuleExtractor().extract(turn)

    stored = []
    for extraction in extractions:
        if privacy.find_secrets(extraction.content):  # an extractor may have rephrased one in
            continue
        stored.append(await _store(store, extraction, speaker, when, metadata))
    if not stored:
        return Decision("not_notable", "nothing worth remembering in this turn", extractor=name)
    rules = ", ".join(f"{r.type.value} via {e.rule}" for r, e in zip(stored, extractions, strict=False))
    return Decision("stored", f"stored {len(stored)} memory: {rules}", stored=tuple(stored), extractor=name)


async def _store(
    store: AsyncPersonaStore, extraction: Extraction, speaker: str, when: dt.datetime, metadata: dict[str, Any]
) -> Any:
    meta = {**extraction.metadata, **metadata, "source": "observe", "speaker": speaker, "rule": extraction.rule}
    return await store.store(
        extraction.content, tags=extraction.tags, importance=extraction.importance,
        type=extraction.type, metadata=meta, at=when,
    )


async def _count_topics(store: AsyncPersonaStore, words: list[str], when: dt.datetime) -> dict[str, int]:
    """Count one more mention of each word; returns the counts including this turn."""
    if not words:
        return {}
    namespace = topic_namespace(store.persona)
    table = _load(await store.backend.kv_get(namespace, TOPIC_KEY))
    stamp = when.timestamp()
    for word in words:
        count, _last = table.get(word, (0, stamp))
        table[word] = (count + 1, stamp)
    if len(table) > MAX_TOPICS:
        keep = sorted(table.items(), key=lambda kv: kv[1][1], reverse=True)[:MAX_TOPICS]
        table = dict(keep)
    await store.backend.kv_put(namespace, TOPIC_KEY, json.dumps(table, separators=(",", ":")))
    return {word: table[word][0] for word in words}


async def forget_topics(store: AsyncPersonaStore, contents: Iterable[str] | None) -> None:
    """Drop the counts of the subject words of ``contents``; of every word if ``contents`` is None."""
    namespace = topic_namespace(store.persona)
    if contents is None:
        await store.backend.kv_delete(namespace, TOPIC_KEY)
        return
    words = {w for content in contents for w in capture_rules.topics(content)}
    raw = await store.backend.kv_get(namespace, TOPIC_KEY)
    if raw is None or not words:
        return
    table = _load(raw)
    if words & table.keys():
        kept = {w: v for w, v in table.items() if w not in words}
        await store.backend.kv_put(namespace, TOPIC_KEY, json.dumps(kept, separators=(",", ":")))


def _load(raw: str | None) -> dict[str, tuple[int, float]]:
    if raw is None:
        return {}
    try:
        data = json.loads(raw)
        return {str(k): (int(v[0]), float(v[1])) for k, v in data.items()}
    except (ValueError, TypeError, KeyError, IndexError, AttributeError):
        return {}  # a damaged counter table only costs the recurrence history
