"""The persona faculty on a real SQLite store: observe, forget variants, min_score, evolve, handoff."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
from pathlib import Path

import jsonschema
import pytest

from persona_memory import (
    AsyncPersonaStore,
    CorruptStateError,
    CorruptStateWarning,
    InvalidInputError,
    MemoryType,
    SecretRefusedError,
)

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)
SCHEMA = Path(__file__).resolve().parents[2] / "src" / "persona_memory" / "schemas" / "handoff.schema.json"


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
async def store(tmp_path: Path):
    s = AsyncPersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}", clock=Clock())
    yield s
    await s.aclose()


def file_bytes(directory: Path) -> bytes:
    """Every byte of every file under ``directory`` (database, -wal, -shm, json files)."""
    return b"".join(p.read_bytes() for p in sorted(directory.rglob("*")) if p.is_file())


# ---- observe ----


@pytest.mark.parametrize(
    ("text", "kind", "tag"),
    [
        ("I'm vegetarian and I love Italian food", MemoryType.PREFERENCE, "preference"),
        ("I hate mornings", MemoryType.PREFERENCE, "preference"),
        ("My daughter Emma starts school in September", MemoryType.PERSONAL_FACT, "daughter"),
        ("My name is Ada Lovelace", MemoryType.PERSONAL_FACT, "name"),
        ("I work as a nurse at the city hospital", MemoryType.PERSONAL_FACT, "work"),
        ("I grew up in Lisbon", MemoryType.PERSONAL_FACT, "place"),
        ("my birthday is on March 3rd", MemoryType.PERSONAL_FACT, "birthday"),
        ("I just got promoted!!", MemoryType.MILESTONE, "milestone"),
        ("I feel so frustrated with my thesis", MemoryType.EMOTIONAL_MOMENT, "negative"),
        ("remember that the concert is on Friday", MemoryType.GENERAL, "explicit"),
    ],
)
async def test_observe_stores_what_the_faculty_names(
    store: AsyncPersonaStore, text: str, kind: MemoryType, tag: str
) -> None:
    decision = await store.observe(text)
    assert decision.reason == "stored" and decision
    (record,) = decision.stored
    assert record.type is kind
    assert tag in record.tags
    assert record.content == text
    assert record.metadata["source"] == "observe" and record.metadata["speaker"] == "user"
    assert await store.get(record.id) == record
    if kind in (MemoryType.MILESTONE, MemoryType.PERSONAL_FACT):
        assert record.importance >= 0.8
    if tag == "explicit":
        assert record.importance >= 0.7


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("how's it going", "filler"),
        ("thanks!", "filler"),
        ("lol ok", "filler"),
        ("The weather was okay today", "not_notable"),
        ("between us, I'm thinking of quitting my job", "private"),
        ("please don't remember this: I failed my driving test", "private"),
        ("my password is hunter2", "secret"),
        ("forget what I told you about my ex", "forget_request"),
    ],
)
async def test_observe_skips_what_must_not_be_kept(store: AsyncPersonaStore, text: str, reason: str) -> None:
    decision = await store.observe(text)
    assert decision.reason == reason
    assert not decision and decision.stored == ()
    assert (await store.stats()).total == 0


async def test_a_secret_is_named_never_repeated(store: AsyncPersonaStore) -> None:
    decision = await store.observe("here's my token ghp_R2xVc3M0aGVyZXNvbWV0aGluZzEyMzQ1Njc4OQ")
    assert decision.reason == "secret" and decision.secret_kinds
    assert "ghp_" not in json.dumps(decision.to_dict())
    with pytest.raises(SecretRefusedError) as caught:
        await store.store("my password is Tr0ub4dor&3")
    assert "Tr0ub4dor" not in str(caught.value) and "password" in str(caught.value)
    with pytest.raises(SecretRefusedError):
        await store.store("a note", metadata={"login": {"pin": "my pin is 4821"}})
    kept = await store.store("User's favourite number is 42")
    with pytest.raises(SecretRefusedError):
        await store.update(kept.id, content="card 4111 1111 1111 1111")


async def test_forget_request_lists_candidates_and_deletes_nothing(store: AsyncPersonaStore) -> None:
    ex = await store.store("My ex Jake moved to Denver", type="personal_fact")
    await store.store("I love hiking")
    decision = await store.observe("please forget what I said about my ex")
    assert decision.reason == "forget_request" and decision.forget_query == "my ex"
    assert [hit.id for hit in decision.forget_candidates] == [ex.id]
    assert (await store.stats()).total == 2
    assert (await store.observe("don't forget my ex moved to Denver")).reason != "forget_request"


async def test_a_subject_brought_up_twice_becomes_an_interest_signal(store: AsyncPersonaStore) -> None:
    first = await store.observe("We went climbing at the gorge yesterday")
    assert first.reason == "not_notable"
    second = await store.observe("I am climbing again this weekend")
    (record,) = second.stored
    assert record.type is MemoryType.INTEREST_SIGNAL and "climbing" in record.tags
    third = await store.observe("We tried the new wall at the climbing gym")
    assert third.stored[0].importance > record.importance  # more mentions, more weight


async def test_observe_prefixes_other_speakers_and_skips_the_persona(store: AsyncPersonaStore) -> None:
    decision = await store.observe("I love painting sunsets", speaker="Caroline", at="2023-05-08", metadata={"dia_id": "D1:3"})
    (record,) = decision.stored
    assert record.content == "Caroline: I love painting sunsets"
    assert record.metadata["dia_id"] == "D1:3"
    assert record.created_at.date() == dt.date(2023, 5, 8)
    assert (await store.observe("I love helping you!", speaker="assistant")).reason == "own_turn"
    with pytest.raises(InvalidInputError, match="speaker"):
        await store.observe("hello", speaker="")
    with pytest.raises(InvalidInputError, match="text"):
        await store.observe("   ")


# ---- no fabrication ----


async def test_min_score_returns_nothing_rather_than_a_weak_match(store: AsyncPersonaStore) -> None:
    await store.store("User is vegetarian and loves Italian food")
    await store.store("User's daughter Emma starts school in September")
    weak = await store.search("what food does Emma's teacher like", limit=5, min_score=0.0)
    assert weak and weak[0].relevance == 1.0  # relative relevance: the best hit always looks perfect
    assert all(hit.match is not None and hit.match < 0.5 for hit in weak)
    assert await store.search("what food does Emma's teacher like", min_score=0.5) == []
    assert await store.search("tell me about my ex", min_score=0.3) == []
    strong = await store.search("italian food", min_score=0.5)
    assert [h.content for h in strong] == ["User is vegetarian and loves Italian food"]
    assert strong[0].match == pytest.approx(1.0)
    with pytest.raises(InvalidInputError, match="min_score"):
        await store.search("food", min_score=1.5)


async def test_retrieve_min_score_leaves_out_faded_memories(store: AsyncPersonaStore) -> None:
    await store.store("an old passing remark", importance=0.1, at="2020-01-01")
    fresh = await store.store("User's name is Ada", importance=0.9)
    assert len(await store.retrieve()) == 2
    assert [r.id for r in await store.retrieve(min_score=0.5)] == [fresh.id]


# ---- forget: by id, tag, query, everything; and gone from the bytes ----


async def test_forgotten_content_is_gone_from_every_byte_of_the_store(tmp_path: Path) -> None:
    base = tmp_path / "base"
    store = AsyncPersonaStore("ada", base_path=str(base), clock=Clock())
    secretish = "Zanzibarville"
    for i in range(30):  # enough rows for several FTS segments and pages
        await store.store(f"note {i} about gardening and tomatoes number {i}")
    doomed = await store.store(f"My ex Jake moved to {secretish} with his new partner", tags=["ex", "jake"])
    await store.observe(f"I keep thinking about {secretish} lately")  # subject counts too
    await store.observe(f"{secretish} again, ugh")
    assert secretish.encode() in file_bytes(base)
    hits = await store.matching("my ex")
    assert [h.id for h in hits] == [doomed.id]
    assert await store.forget_matching("Zanzibarville")
    raw = file_bytes(base)
    for needle in (secretish, secretish.lower(), "zanzibarvil", "Jake moved"):
        assert needle.encode() not in raw, needle
    assert await store.search(secretish) == []
    assert (await store.stats()).total == 30
    await store.aclose()


async def test_forget_by_id_tag_and_everything(store: AsyncPersonaStore, tmp_path: Path) -> None:
    a = await store.store("likes tea", tags=["drink"])
    b = await store.store("likes coffee", tags=["drink", "morning"])
    c = await store.store("hates mornings", tags=["morning"])
    assert await store.forget(a.id) == [a.id]
    assert sorted(await store.forget_tagged("morning")) == sorted([b.id, c.id])
    with pytest.raises(InvalidInputError, match="tags"):
        await store.forget_tagged("")
    await store.store("one more")
    assert len(await store.forget_everything()) == 1
    assert (await store.stats()).total == 0
    with sqlite3.connect(tmp_path / "m.db") as conn:
        assert conn.execute("SELECT count(*) FROM memories_fts_idx").fetchone()[0] <= 1


# ---- evolution bridge ----


async def grow(store: AsyncPersonaStore) -> None:
    day = dt.timedelta(days=1)
    texts = [
        "I love cooking Thai curry", "cooking dinner for friends tonight", "My cooking class starts Monday",
        "I feel so happy today, the curry was perfect", "I'm thrilled, my sister loved my cooking",
        "I'm so proud of myself", "I'm so excited about the trip to Japan!",
        "My brother Tom lives in Porto", "I work as a nurse",
    ]
    for i, text in enumerate(texts):
        store.clock.now = NOW + i * day  # type: ignore[attr-defined]
        await store.observe(text)


async def test_evolve_emits_events_updates_state_and_stores_milestones(store: AsyncPersonaStore, clean_environ: Path) -> None:
    await grow(store)
    result = await store.evolve()
    kinds = {e["type"] for e in result.events}
    assert kinds == {"interest_discovery", "mood_shift", "relationship_stage"}
    assert [e["seq"] for e in result.events] == list(range(1, len(result.events) + 1))
    assert any(e["key"] == "interest_discovery:cooking" for e in result.events)
    state = json.loads((clean_environ / "persona-ada" / "state.json").read_text())
    assert state["interests"]["cooking"]["count"] >= 3
    assert state["mood"]["current"] == "positive"
    assert state["relationship"]["stage"] == "acquaintance"
    assert state["memoryBridge"]["lastSeq"] == len(result.events)
    assert {m.type for m in result.milestones} == {MemoryType.MILESTONE}
    assert all(m.importance >= 0.9 for m in result.milestones)
    assert await store.events() == list(result.events)
    again = await store.evolve()
    assert again.events == () and again.milestones == ()
    assert len(await store.events()) == len(result.events)


async def test_interest_threshold_is_configurable(store: AsyncPersonaStore) -> None:
    for text in ("kayak trip", "kayak repair"):
        await store.store(text, tags=["kayak"])
    assert not [e for e in (await store.evolve()).events if e["type"] == "interest_discovery"]
    result = await store.evolve(interest_threshold=2)
    assert [e["data"]["tag"] for e in result.events if e["type"] == "interest_discovery"] == ["kayak"]
    with pytest.raises(InvalidInputError, match="interest_threshold"):
        await store.evolve(interest_threshold=0)


async def test_a_corrupt_state_file_is_reported_and_left_alone(store: AsyncPersonaStore, clean_environ: Path) -> None:
    await grow(store)
    state_path = clean_environ / "persona-ada" / "state.json"
    state_path.parent.mkdir(parents=True, exist_ok=True)
    state_path.write_text('{"relationship": {"stage": "fri')
    with pytest.raises(CorruptStateError, match=r"state\.json"):
        await store.evolve()
    assert state_path.read_text() == '{"relationship": {"stage": "fri'
    assert await store.events() == []  # nothing logged either
    with pytest.warns(CorruptStateWarning):
        data = await store.handoff("bob")
    assert "relationshipStage" not in data


async def test_forgetting_memories_forgets_what_the_bridge_derived_from_them(
    store: AsyncPersonaStore, clean_environ: Path
) -> None:
    await grow(store)
    await store.evolve()
    await store.handoff("bob")
    await store.forget_matching("cooking")
    assert not [e for e in await store.events() if e["key"] == "interest_discovery:cooking"]
    assert "cooking" not in file_bytes(clean_environ).decode("utf-8", "replace").lower()
    await store.forget_everything()
    assert await store.events() == []
    assert not (clean_environ / "persona-bob" / "handoff.json").exists()
    state = json.loads((clean_environ / "persona-ada" / "state.json").read_text())
    assert state["interests"] == {} and state["relationship"]["stage"] == "stranger"


# ---- handoff ----


async def test_handoff_follows_the_shipped_schema(store: AsyncPersonaStore, clean_environ: Path) -> None:
    schema = json.loads(SCHEMA.read_text())
    empty = await store.handoff("bob")
    jsonschema.validate(empty, schema)
    assert empty["memory"] == {"total": 0, "topTags": [], "lastMemoryAt": None}
    await grow(store)
    await store.evolve()
    data = await store.handoff("bob")
    jsonschema.validate(data, schema)
    on_disk = json.loads((clean_environ / "persona-bob" / "handoff.json").read_text())
    assert on_disk == data
    assert data["fromPersona"] == "ada" and data["toPersona"] == "bob"
    assert data["relationshipStage"] == "acquaintance" and data["mood"]["current"] == "positive"
    assert len(data["memory"]["topTags"]) == 5
    assert data["memory"]["total"] == (await store.stats()).total
    assert oct(os.stat(clean_environ / "persona-bob" / "handoff.json").st_mode & 0o777) == "0o600"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "memory": {**data["memory"], "total": -1}}, schema)
