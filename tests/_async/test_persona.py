"""Persona memories: store / retrieve / search / update / forget / stats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from persona_memory import (
    AsyncPersonaStore,
    ConfigError,
    InvalidInputError,
    MemoryNotFoundError,
    MemoryType,
)
from persona_memory.models import DEFAULT_IMPORTANCE

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


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


async def test_store_returns_a_full_record(store: AsyncPersonaStore) -> None:
    record = await store.store(
        "User is vegetarian and loves Italian food",
        tags=["Preference", " food ", "food"],
        importance=0.8,
        type="preference",
        metadata={"source": "chat", "when": "lunch"},
    )
    assert record.id.startswith("mem_") and len(record.id) == 20
    int(record.id[4:], 16)
    assert record.persona == "ada"
    assert record.tags == ("preference", "food")
    assert record.type is MemoryType.PREFERENCE
    assert record.importance == 0.8
    assert record.created_at == NOW
    assert record.metadata == {"source": "chat", "when": "lunch"}
    assert await store.get(record.id) == record


@pytest.mark.parametrize("kind", list(MemoryType))
async def test_importance_defaults_by_type(store: AsyncPersonaStore, kind: MemoryType) -> None:
    record = await store.store(f"something of kind {kind}", type=kind)
    assert record.importance == DEFAULT_IMPORTANCE[kind]
    assert DEFAULT_IMPORTANCE[MemoryType.PERSONAL_FACT] > DEFAULT_IMPORTANCE[MemoryType.GENERAL]


async def test_at_sets_when_it_was_said(store: AsyncPersonaStore) -> None:
    record = await store.store("We met in Lisbon", at="2023-05-08T13:56:00+02:00")
    assert record.created_at == dt.datetime(2023, 5, 8, 11, 56, tzinfo=dt.UTC)


async def test_exact_duplicate_reinforces_instead_of_copying(store: AsyncPersonaStore) -> None:
    first = await store.store("User hates mornings.", tags=["mood"], importance=0.4)
    again = await store.store("  user HATES   mornings ", tags=["sleep"], importance=0.6)
    assert again.id == first.id
    assert again.access_count == 1
    assert again.importance == 0.6
    assert again.tags == ("mood", "sleep")
    assert (await store.stats()).total == 1


async def test_retrieve_filters_by_tags_any_and_all(store: AsyncPersonaStore) -> None:
    a = await store.store("likes pasta", tags=["food", "italy"])
    b = await store.store("likes sushi", tags=["food", "japan"])
    await store.store("works as a nurse", tags=["job"])
    assert {r.id for r in await store.retrieve(tags=["italy", "japan"])} == {a.id, b.id}
    assert {r.id for r in await store.retrieve(tags="food,italy", match="all")} == {a.id}
    assert {r.id for r in await store.retrieve(tags="food")} == {a.id, b.id}


async def test_retrieve_filters_by_type_and_time(store: AsyncPersonaStore) -> None:
    old = await store.store("old fact", type="personal_fact", at="2024-01-01T00:00:00Z")
    new = await store.store("new fact", type="personal_fact", at="2025-05-01T00:00:00Z")
    await store.store("a preference", type="preference", at="2025-05-01T00:00:00Z")
    facts = await store.retrieve(type="personal_fact")
    assert {r.id for r in facts} == {old.id, new.id}
    assert [r.id for r in await store.retrieve(type="personal_fact", since="2025-01-01T00:00Z")] == [new.id]
    assert [r.id for r in await store.retrieve(until=dt.date(2025, 1, 1))] == [old.id]
    assert [r.id for r in await store.retrieve(since="60d", type="personal_fact")] == [new.id]


async def test_retrieve_orders_by_importance_and_decay(store: AsyncPersonaStore) -> None:
    now = NOW
    core = await store.store("name is Ada", importance=1.0, at=now - dt.timedelta(days=365))
    fresh_minor = await store.store("had toast today", importance=0.2, at=now)
    stale_minor = await store.store("had cereal once", importance=0.2, at=now - dt.timedelta(days=90))
    order = [r.id for r in await store.retrieve()]
    assert order == [core.id, fresh_minor.id, stale_minor.id]


async def test_high_importance_decays_slower(store: AsyncPersonaStore) -> None:
    year_ago = NOW - dt.timedelta(days=365)
    important = await store.store("important old", importance=0.9, at=year_ago)
    trivial = await store.store("trivial old", importance=0.1, at=year_ago)
    fresh_medium = await store.store("medium new", importance=0.5, at=NOW - dt.timedelta(days=30))
    order = [r.id for r in await store.retrieve()]
    assert order == [fresh_medium.id, important.id, trivial.id]


async def test_retrieve_counts_an_access_and_reinforces(store: AsyncPersonaStore) -> None:
    a = await store.store("fact a", importance=0.5)
    b = await store.store("fact b", importance=0.5)
    got = await store.retrieve(tags=None, limit=1)
    assert got[0].access_count == 1 and got[0].last_accessed == NOW
    # the accessed one now outranks its twin
    first = got[0].id
    assert (await store.retrieve())[0].id == first
    assert (await store.get(first)).access_count == 2
    assert {a.id, b.id} >= {first}


async def test_search_uses_bm25_with_stemming(store: AsyncPersonaStore) -> None:
    food = await store.store("User is vegetarian and loves Italian food", type="preference")
    await store.store("User's daughter Emma starts school in September", type="personal_fact")
    await store.store("The weather was rainy in Porto")
    hits = await store.search("Italian foods")
    assert [h.id for h in hits][:1] == [food.id]
    assert hits[0].relevance == 1.0 and 0 < hits[0].score <= 1
    hits = await store.search("who is starting school")  # "starting" ~ "starts"
    assert "Emma" in hits[0].content


async def test_search_is_not_a_substring_match(store: AsyncPersonaStore) -> None:
    await store.store("User loves hiking in the Alps")
    assert await store.search("hik") == []  # no substring hits
    hits = await store.search("alps hiking trip")  # not every word must match
    assert len(hits) == 1


async def test_search_ranks_better_matches_first(store: AsyncPersonaStore) -> None:
    both = await store.store("User plays guitar in a jazz band")
    await store.store("User listens to jazz")
    await store.store("User bought a guitar strap")
    hits = await store.search("jazz guitar")
    assert hits[0].id == both.id
    assert hits[0].score >= hits[1].score >= hits[2].score


async def test_search_filters_and_hostile_queries(store: AsyncPersonaStore) -> None:
    food = await store.store("loves pizza", tags=["food"])
    await store.store("pizza place closed", tags=["news"])
    assert [h.id for h in await store.search("pizza", tags="food")] == [food.id]
    for query in ['"', "*", "NEAR(", "pizza OR", "AND", "col:pizza", "'; DROP TABLE memories; --", "", "   "]:
        await store.search(query)  # never raises
    assert len(await store.search('pizza" OR "x')) == 2


async def test_update_supersedes_and_keeps_history(store: AsyncPersonaStore) -> None:
    old = await store.store("User lives in Berlin", tags=["home"], type="personal_fact")
    new = await store.update(old.id, content="User lives in Lisbon")
    assert new.id != old.id and new.supersedes == old.id
    assert new.tags == ("home",) and new.type is MemoryType.PERSONAL_FACT
    assert (await store.get(old.id)).superseded_by == new.id
    assert [h.id for h in await store.search("Berlin", mode="text")] == []
    assert old.id not in [h.id for h in await store.search("Berlin")]  # Lisbon is near by meaning
    assert [h.id for h in await store.search("Lisbon")] == [new.id]
    assert [r.id for r in await store.retrieve()] == [new.id]
    stats = await store.stats()
    assert (stats.total, stats.superseded) == (1, 1)
    with pytest.raises(MemoryNotFoundError):
        await store.update(old.id, importance=0.1)  # superseded: no longer updatable
    retagged = await store.update(new.id, tags=["city"])  # same content, new tags
    assert retagged.content == "User lives in Lisbon" and retagged.tags == ("city",)
    with pytest.raises(InvalidInputError):
        await store.update(retagged.id)


async def test_forget_removes_every_version(store: AsyncPersonaStore) -> None:
    old = await store.store("User's ex is called Sam")
    new = await store.update(old.id, content="User's ex is called Samuel")
    assert set(await store.forget(new.id)) == {old.id, new.id}
    with pytest.raises(MemoryNotFoundError):
        await store.get(old.id)
    assert await store.search("Sam") == []
    assert (await store.stats()).superseded == 0
    with pytest.raises(MemoryNotFoundError, match="mem_nope"):
        await store.forget("mem_nope")


async def test_stats(store: AsyncPersonaStore) -> None:
    empty = await store.stats()
    assert empty.total == 0 and empty.oldest is None and empty.avg_importance is None
    utc = dt.UTC
    await store.store("a", tags=["x", "y"], importance=0.2, at=dt.datetime(2024, 1, 1, tzinfo=utc))
    await store.store("b", tags=["x"], importance=0.4, at=dt.datetime(2024, 6, 1, tzinfo=utc))
    await store.store("c", tags=["x", "z"], importance=0.6, type="preference", at=dt.datetime(2025, 1, 1, tzinfo=utc))
    stats = await store.stats()
    assert stats.total == 3
    assert stats.top_tags == [("x", 3), ("y", 1), ("z", 1)]
    assert stats.oldest == dt.datetime(2024, 1, 1, tzinfo=utc)
    assert stats.newest == dt.datetime(2025, 1, 1, tzinfo=utc)
    assert stats.avg_importance == pytest.approx(0.4)
    assert stats.by_type == {"general": 2, "preference": 1}
    assert set(stats.to_dict()) == {"total", "superseded", "top_tags", "oldest", "newest", "avg_importance", "by_type"}


async def test_personas_are_isolated_in_one_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    async with AsyncPersonaStore("ada", url=url) as ada, AsyncPersonaStore("bob", url=url) as bob:
        secret = await ada.store("Ada's diary entry about tea")
        assert await bob.search("tea") == []
        assert await bob.retrieve() == []
        with pytest.raises(MemoryNotFoundError):
            await bob.get(secret.id)
        with pytest.raises(MemoryNotFoundError):
            await bob.forget(secret.id)
        assert (await ada.stats()).total == 1


async def test_default_layout_is_openpersona(clean_environ: Path) -> None:
    async with AsyncPersonaStore("ada") as store:
        await store.store("hello")
    assert (clean_environ / "persona-ada" / "memories.db").exists()


async def test_persona_slug_from_environment(clean_environ: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONA_SLUG", "env-persona")
    async with AsyncPersonaStore() as store:
        assert store.persona == "env-persona"
        await store.store("x")
    assert (clean_environ / "persona-env-persona" / "memories.db").exists()


async def test_persists_across_reopen(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    async with AsyncPersonaStore("ada", url=url) as store:
        record = await store.store("User's birthday is March 3", type="personal_fact")
    async with AsyncPersonaStore("ada", url=url) as store:
        assert (await store.get(record.id)).content == record.content
        assert [h.id for h in await store.search("birthday")] == [record.id]


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": 42}, "content"),
        ({"content": "nul\x00byte"}, "content"),
        ({"content": "x" * 40_000}, "content"),
        ({"content": "ok", "importance": 1.5}, "importance"),
        ({"content": "ok", "importance": -0.1}, "importance"),
        ({"content": "ok", "importance": float("nan")}, "importance"),
        ({"content": "ok", "importance": "high"}, "importance"),
        ({"content": "ok", "type": "gossip"}, "type"),
        ({"content": "ok", "tags": [1]}, "tags"),
        ({"content": "ok", "tags": ["a,b"]}, "tags"),
        ({"content": "ok", "metadata": "x"}, "metadata"),
        ({"content": "ok", "metadata": {"x": {1, 2}}}, "metadata"),
        ({"content": "ok", "at": "yesterday-ish"}, "at"),
    ],
)
async def test_bad_input_names_the_argument_and_value(
    store: AsyncPersonaStore, kwargs: dict, argument: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await store.store(**kwargs)
    assert argument in str(info.value)
    assert (await store.stats()).total == 0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"since": "last tuesday"}, "since"),
        ({"until": "soon"}, "until"),
        ({"since": "2025-01-01", "until": "2024-01-01"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"type": "nope"}, "type"),
        ({"match": "some"}, "match"),
    ],
)
async def test_bad_retrieve_arguments(store: AsyncPersonaStore, kwargs: dict, argument: str) -> None:
    with pytest.raises(InvalidInputError, match=argument):
        await store.retrieve(**kwargs)


@pytest.mark.parametrize("slug", ["../x", "/etc", "", "a/b", "..", ".hidden", "x" * 65, "a..b"])
def test_bad_slugs_are_refused(slug: str) -> None:
    with pytest.raises(ConfigError, match="slug"):
        AsyncPersonaStore(slug)


def test_unknown_provider_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_PROVIDER", "letta")
    with pytest.raises(ConfigError, match="MEMORY_PROVIDER='letta'"):
        AsyncPersonaStore("ada")
