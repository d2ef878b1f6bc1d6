"""The backend contract, as tests. See :mod:`persona_memory.testing` for how to run them.

Written once, async; ``scripts/make_sync.py`` generates the sync twin. The tests speak through
the public classes (``AsyncMemory``, ``AsyncPersonaStore``) where a user would, and to the
backend directly for what only the contract promises (candidate scores, export, import).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import zoneinfo
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
import pytest

from ..._async.memory import AsyncMemory
from ..._async.persona import AsyncPersonaStore
from ...backends._async.base import AsyncBackend
from ...errors import BackendError, InvalidInputError, MemoryNotFoundError
from ...models import DEFAULT_IMPORTANCE, Candidate, Filters, MemoryRecord, MemoryType, Query, new_memory_id
from ...vectors import normalize
from ..marks import async_fixture, async_test

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    """A fixed "now" for the persona store, so decay and ``since="60d"`` are deterministic."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


def unit(*values: float) -> Any:
    """A synthetic unit vector (the contract stores and searches what it is given)."""
    return normalize(np.array(values, dtype=np.float32))


def record(content: str, persona: str = "ada", tags: tuple[str, ...] = (), at: dt.datetime = NOW) -> MemoryRecord:
    return MemoryRecord(new_memory_id(), persona, content, MemoryType.GENERAL, tags, 0.5, at)


class _AsyncBackendFixtures:
    """``make_backend`` (yours) and the fixtures built on it."""

    pytestmark = async_test

    @pytest.fixture
    def make_backend(self) -> Callable[[], AsyncBackend]:
        raise NotImplementedError(
            "give the contract class a `make_backend` fixture: a callable that opens a new "
            "backend object on the same empty storage each time it is called"
        )

    @async_fixture
    async def backend(self, make_backend: Callable[[], AsyncBackend]) -> AsyncIterator[AsyncBackend]:
        opened = make_backend()
        yield opened
        await opened.aclose()

    @async_fixture
    async def second_backend(self, make_backend: Callable[[], AsyncBackend]) -> AsyncIterator[AsyncBackend]:
        """Another backend object on the same storage: another process, or a restart."""
        opened = make_backend()
        yield opened
        await opened.aclose()


class AsyncKeyValueContract(_AsyncBackendFixtures):
    """Key-value memory: the opsdroid ``Memory`` contract (get / put / delete / keys)."""

    @async_fixture
    async def memory(self, backend: AsyncBackend) -> AsyncIterator[AsyncMemory]:
        opened = AsyncMemory(databases=[backend])
        yield opened
        await opened.aclose()

    async def test_put_get_delete_roundtrip(self, memory: AsyncMemory) -> None:
        await memory.put("remember_this", "the milk")
        assert await memory.get("remember_this") == "the milk"
        assert await memory.delete("remember_this") is True
        assert await memory.get("remember_this") is None

    async def test_missing_key_gives_none_or_default(self, memory: AsyncMemory) -> None:
        assert await memory.get("nothing") is None
        assert await memory.get("nothing", "wibble") == "wibble"

    async def test_delete_missing_key_is_not_an_error(self, memory: AsyncMemory) -> None:
        assert await memory.delete("never-stored") is False

    @pytest.mark.parametrize("value", [0, "", [], {}, False, 0.0, None])
    async def test_falsy_values_come_back_as_themselves(self, memory: AsyncMemory, value: object) -> None:
        await memory.put("k", value)
        assert await memory.get("k", default="DEFAULT") == value
        assert type(await memory.get("k", default="DEFAULT")) is type(value)

    async def test_json_values_roundtrip(self, memory: AsyncMemory) -> None:
        value = {"a": [1, 2.5, "x", None, True], "nested": {"deep": [{"k": "v"}]}, "unicode": "héllo ✓"}
        await memory.put("k", value)
        assert await memory.get("k") == value

    async def test_datetimes_roundtrip_with_timezone(self, memory: AsyncMemory) -> None:
        berlin = zoneinfo.ZoneInfo("Europe/Berlin")
        value = {
            "aware": dt.datetime(2024, 5, 8, 13, 56, 7, 123456, tzinfo=berlin),
            "utc": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            "naive": dt.datetime(2024, 1, 1, 12, 0),
            "date": dt.date(2024, 2, 29),
            "time": dt.time(7, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "list": [dt.date(2020, 1, 1)],
        }
        await memory.put("when", value)
        back = await memory.get("when")
        assert back == value
        assert back["aware"].utcoffset() == dt.timedelta(hours=2)
        assert back["naive"].tzinfo is None
        assert back["time"].utcoffset() == dt.timedelta(hours=-5)

    async def test_values_that_look_like_markers_are_not_misread(self, memory: AsyncMemory) -> None:
        value = {"$datetime": "2024-01-01T00:00:00"}
        await memory.put("k", value)
        assert await memory.get("k") == value
        await memory.put("k2", [{"$$date": "x"}, {"$escape": 1}])
        assert await memory.get("k2") == [{"$$date": "x"}, {"$escape": 1}]

    async def test_returned_values_are_copies(self, memory: AsyncMemory) -> None:
        await memory.put("k", {"list": [1]})
        first = await memory.get("k")
        first["list"].append(2)
        assert await memory.get("k") == {"list": [1]}

    async def test_namespaces_are_isolated(self, backend: AsyncBackend) -> None:
        a, b = AsyncMemory("bot-a", databases=[backend]), AsyncMemory("bot-b", databases=[backend])
        await a.put("name", "Ada")
        assert await b.get("name") is None
        await b.put("name", "Bob")
        assert await a.get("name") == "Ada"
        assert await a.keys() == ["name"]

    async def test_keys_never_collide_across_namespaces(self, backend: AsyncBackend) -> None:
        # separators and glob characters are data, not syntax
        await backend.kv_put("a:b", "c", '"1"')
        await backend.kv_put("a", "b:c", '"2"')
        await backend.kv_put("n*", "k?[x]", '"3"')
        await backend.kv_put("n1", "other", '"4"')
        assert await backend.kv_get("a:b", "c") == '"1"'
        assert await backend.kv_get("a", "b:c") == '"2"'
        assert await backend.kv_keys("a:b") == ["c"]
        assert await backend.kv_keys("a") == ["b:c"]
        assert await backend.kv_keys("n*") == ["k?[x]"]
        assert await backend.kv_keys("n1") == ["other"]

    async def test_keys_are_sorted_and_put_replaces(self, backend: AsyncBackend) -> None:
        for key in ["b", "a", "é", "Z", "a-1"]:
            await backend.kv_put("ns", key, '"x"')
        await backend.kv_put("ns", "a", '"replaced"')
        assert await backend.kv_keys("ns") == sorted(["b", "a", "é", "Z", "a-1"])
        assert await backend.kv_get("ns", "a") == '"replaced"'
        assert await backend.kv_delete("ns", "a") is True
        assert await backend.kv_delete("ns", "a") is False

    async def test_persists_across_a_new_instance(self, backend: AsyncBackend, second_backend: AsyncBackend) -> None:
        async with AsyncMemory(databases=[backend]) as first:
            await first.put("k", {"v": 1})
        async with AsyncMemory(databases=[second_backend]) as second:
            assert await second.get("k") == {"v": 1}

    async def test_cache_sees_writes_from_another_instance(
        self, backend: AsyncBackend, second_backend: AsyncBackend
    ) -> None:
        reader, writer = AsyncMemory(databases=[backend]), AsyncMemory(databases=[second_backend])
        await writer.put("k", "v1")
        assert await reader.get("k") == "v1"
        assert await reader.get("k") == "v1"  # from the cache, if the backend allows one
        await writer.put("k", "v2")
        assert await reader.get("k") == "v2"
        await writer.delete("k")
        assert await reader.get("k") is None
        await writer.put("k", "v3")
        assert await reader.get("k") == "v3"  # a cached miss is invalidated too

    async def test_cache_sees_writes_through_a_shared_backend(self, backend: AsyncBackend) -> None:
        a, b = AsyncMemory(databases=[backend]), AsyncMemory(databases=[backend])
        await a.put("k", 1)
        assert await b.get("k") == 1
        await a.put("k", 2)
        assert await b.get("k") == 2

    async def test_ttl_expires(self, memory: AsyncMemory) -> None:
        await memory.put("short", 1, ttl=0.05)
        await memory.put("long", 2, ttl=3600)
        await asyncio.sleep(0.15)
        assert await memory.get("short") is None
        assert await memory.get("long") == 2
        assert await memory.keys() == ["long"]
        assert await memory.delete("short") is False  # expired counts as absent
        with pytest.raises(InvalidInputError, match="ttl"):
            await memory.put("k", 1, ttl=-1)

    async def test_put_without_ttl_clears_an_earlier_ttl(self, memory: AsyncMemory) -> None:
        await memory.put("k", 1, ttl=0.05)
        await memory.put("k", 2)
        await asyncio.sleep(0.15)
        assert await memory.get("k") == 2

    async def test_uncached_memory_reads_through(self, backend: AsyncBackend) -> None:
        memory = AsyncMemory(databases=[backend], cache=False)
        await memory.put("k", 1)
        assert await memory.get("k") == 1


class AsyncRecordContract(_AsyncBackendFixtures):
    """Persona memories: store / retrieve / search / update / forget / stats / export / import.

    The stores here embed nothing (``embedder="none"``) and search without conversation context:
    search is the backend's full text alone, so these tests pin its semantics;
    :class:`AsyncVectorContract` covers vectors.
    """

    @async_fixture
    async def store(self, backend: AsyncBackend) -> AsyncIterator[AsyncPersonaStore]:
        opened = AsyncPersonaStore("ada", backend=backend, clock=Clock(), embedder="none")
        yield opened
        await opened.aclose()

    async def test_store_returns_a_full_record(self, store: AsyncPersonaStore) -> None:
        stored = await store.store(
            "User is vegetarian and loves Italian food",
            tags=["Preference", " food ", "food"],
            importance=0.8,
            type="preference",
            metadata={"source": "chat", "when": "lunch", "n": [1, 2.5]},
        )
        assert stored.id.startswith("mem_") and len(stored.id) == 20
        int(stored.id[4:], 16)
        assert stored.persona == "ada"
        assert stored.tags == ("preference", "food")
        assert stored.type is MemoryType.PREFERENCE
        assert stored.importance == 0.8
        assert stored.created_at == NOW
        assert stored.metadata == {"source": "chat", "when": "lunch", "n": [1, 2.5]}
        assert await store.get(stored.id) == stored

    @pytest.mark.parametrize("kind", list(MemoryType))
    async def test_importance_defaults_by_type(self, store: AsyncPersonaStore, kind: MemoryType) -> None:
        stored = await store.store(f"something of kind {kind}", type=kind)
        assert stored.importance == DEFAULT_IMPORTANCE[kind]
        assert (await store.get(stored.id)).type is kind

    async def test_at_sets_when_it_was_said(self, store: AsyncPersonaStore) -> None:
        stored = await store.store("We met in Lisbon", at="2023-05-08T13:56:00.123456+02:00")
        assert stored.created_at == dt.datetime(2023, 5, 8, 11, 56, 0, 123456, tzinfo=dt.UTC)
        assert (await store.get(stored.id)).created_at == stored.created_at

    async def test_exact_duplicate_reinforces_instead_of_copying(self, store: AsyncPersonaStore) -> None:
        first = await store.store("User hates mornings.", tags=["mood"], importance=0.4)
        again = await store.store("  user HATES   mornings ", tags=["sleep"], importance=0.6)
        assert again.id == first.id
        assert again.access_count == 1
        assert again.importance == 0.6
        assert again.tags == ("mood", "sleep")
        assert await store.get(first.id) == again
        assert (await store.stats()).total == 1

    async def test_retrieve_filters_by_tags_any_and_all(self, store: AsyncPersonaStore) -> None:
        a = await store.store("likes pasta", tags=["food", "italy"])
        b = await store.store("likes sushi", tags=["food", "japan"])
        await store.store("works as a nurse", tags=["job"])
        assert {r.id for r in await store.retrieve(tags=["italy", "japan"])} == {a.id, b.id}
        assert {r.id for r in await store.retrieve(tags="food,italy", match="all")} == {a.id}
        assert {r.id for r in await store.retrieve(tags="food")} == {a.id, b.id}

    async def test_retrieve_filters_by_type_and_time(self, store: AsyncPersonaStore) -> None:
        old = await store.store("old fact", type="personal_fact", at="2024-01-01T00:00:00Z")
        new = await store.store("new fact", type="personal_fact", at="2025-05-01T00:00:00Z")
        await store.store("a preference", type="preference", at="2025-05-01T00:00:00Z")
        facts = await store.retrieve(type="personal_fact")
        assert {r.id for r in facts} == {old.id, new.id}
        assert [r.id for r in await store.retrieve(type="personal_fact", since="2025-01-01T00:00Z")] == [new.id]
        assert [r.id for r in await store.retrieve(until=dt.date(2025, 1, 1))] == [old.id]
        assert [r.id for r in await store.retrieve(since="60d", type="personal_fact")] == [new.id]
        # since is inclusive, until exclusive
        assert [r.id for r in await store.retrieve(since="2025-05-01T00:00:00Z", type="personal_fact")] == [new.id]
        assert [r.id for r in await store.retrieve(until="2025-05-01T00:00:00Z")] == [old.id]

    async def test_retrieve_orders_by_importance_and_decay(self, store: AsyncPersonaStore) -> None:
        core = await store.store("name is Ada", importance=1.0, at=NOW - dt.timedelta(days=365))
        fresh_minor = await store.store("had toast today", importance=0.2, at=NOW)
        stale_minor = await store.store("had cereal once", importance=0.2, at=NOW - dt.timedelta(days=90))
        order = [r.id for r in await store.retrieve()]
        assert order == [core.id, fresh_minor.id, stale_minor.id]

    async def test_high_importance_decays_slower(self, store: AsyncPersonaStore) -> None:
        year_ago = NOW - dt.timedelta(days=365)
        important = await store.store("important old", importance=0.9, at=year_ago)
        trivial = await store.store("trivial old", importance=0.1, at=year_ago)
        fresh_medium = await store.store("medium new", importance=0.5, at=NOW - dt.timedelta(days=30))
        order = [r.id for r in await store.retrieve()]
        assert order == [fresh_medium.id, important.id, trivial.id]

    async def test_retrieve_counts_an_access_and_reinforces(self, store: AsyncPersonaStore) -> None:
        a = await store.store("fact a", importance=0.5)
        b = await store.store("fact b", importance=0.5)
        got = await store.retrieve(tags=None, limit=1)
        assert got[0].access_count == 1 and got[0].last_accessed == NOW
        first = got[0].id
        assert first in {a.id, b.id}
        assert (await store.retrieve())[0].id == first  # the accessed one now outranks its twin
        stored = await store.get(first)
        assert stored.access_count == 2 and stored.last_accessed == NOW

    async def test_search_uses_bm25_with_stemming(self, store: AsyncPersonaStore) -> None:
        food = await store.store("User is vegetarian and loves Italian food", type="preference")
        await store.store("User's daughter Emma starts school in September", type="personal_fact")
        await store.store("The weather was rainy in Porto")
        hits = await store.search("Italian foods", context=False)
        assert [h.id for h in hits][:1] == [food.id]
        assert hits[0].relevance == 1.0 and 0 < hits[0].score <= 1
        hits = await store.search("who is starting school", context=False)  # "starting" ~ "starts"
        assert "Emma" in hits[0].content

    async def test_search_finds_words_in_tags(self, store: AsyncPersonaStore) -> None:
        tagged = await store.store("Booked the table for Friday", tags=["restaurant"])
        await store.store("Friday is laundry day")
        assert [h.id for h in await store.search("restaurant", context=False)] == [tagged.id]

    async def test_search_is_not_a_substring_match(self, store: AsyncPersonaStore) -> None:
        await store.store("User loves hiking in the Alps")
        assert await store.search("hik", context=False) == []  # no substring hits
        hits = await store.search("alps hiking trip", context=False)  # not every word must match
        assert len(hits) == 1

    async def test_search_ranks_better_matches_first(self, store: AsyncPersonaStore) -> None:
        both = await store.store("User plays guitar in a jazz band")
        await store.store("User listens to jazz")
        await store.store("User bought a guitar strap")
        hits = await store.search("jazz guitar", context=False)
        assert hits[0].id == both.id
        assert len(hits) == 3
        assert hits[0].score >= hits[1].score >= hits[2].score

    async def test_search_filters_and_hostile_queries(self, store: AsyncPersonaStore) -> None:
        food = await store.store("loves pizza", tags=["food"])
        await store.store("pizza place closed", tags=["news"])
        assert [h.id for h in await store.search("pizza", tags="food", context=False)] == [food.id]
        hostile = ['"', "*", "NEAR(", "pizza OR", "AND", "col:pizza", "'; DROP TABLE memories; --", "", "   ",
                   "a & b | !c", "<-> :*", "\\", "%_%"]
        for query in hostile:
            await store.search(query, context=False)  # never raises
        assert len(await store.search('pizza" OR "x', context=False)) == 2
        assert len(await store.search("pizza & !news", context=False)) == 2

    async def test_candidates_scores_are_higher_is_better(self, store: AsyncPersonaStore) -> None:
        both = await store.store("green tea and jasmine tea every morning")
        one = await store.store("a cup of tea")
        await store.store("coffee only")
        found = await store.backend.candidates("ada", Query(text="jasmine tea", k=10))
        scores = {c.id: c.text_score or 0.0 for c in found if c.text_score is not None}
        assert set(scores) == {both.id, one.id}
        assert scores[both.id] > scores[one.id]
        assert all(c.vector_score is None for c in found)
        everything = await store.backend.candidates("ada", Query())
        assert len(everything) == 3 and all(c.text_score is None for c in everything)
        limited = await store.backend.candidates("ada", Query(text="tea", k=1))
        assert len(limited) == 1

    async def test_update_supersedes_and_keeps_history(self, store: AsyncPersonaStore) -> None:
        old = await store.store("User lives in Berlin", tags=["home"], type="personal_fact")
        new = await store.update(old.id, content="User lives in Lisbon")
        assert new.id != old.id and new.supersedes == old.id
        assert new.tags == ("home",) and new.type is MemoryType.PERSONAL_FACT
        assert (await store.get(old.id)).superseded_by == new.id
        assert [h.id for h in await store.search("Berlin", context=False)] == []
        assert [h.id for h in await store.search("Lisbon", context=False)] == [new.id]
        assert [r.id for r in await store.retrieve()] == [new.id]
        stats = await store.stats()
        assert (stats.total, stats.superseded) == (1, 1)
        with pytest.raises(MemoryNotFoundError):
            await store.update(old.id, importance=0.1)  # superseded: no longer updatable
        retagged = await store.update(new.id, tags=["city"])  # same content, new tags
        assert retagged.content == "User lives in Lisbon" and retagged.tags == ("city",)
        with pytest.raises(InvalidInputError):
            await store.update(retagged.id)

    async def test_update_to_existing_content_merges_into_it(self, store: AsyncPersonaStore) -> None:
        target = await store.store("User drinks oat milk", tags=["drink"])
        old = await store.store("User drinks soy milk")
        new = await store.update(old.id, content="user drinks oat milk.")
        assert new.id == target.id and new.access_count == 1
        assert (await store.get(old.id)).superseded_by == target.id
        assert (await store.stats()).total == 1

    async def test_forget_removes_every_version(self, store: AsyncPersonaStore) -> None:
        old = await store.store("User's ex is called Sam")
        new = await store.update(old.id, content="User's ex is called Samuel")
        newest = await store.update(new.id, content="User's ex is Samuel Smith")
        kept = await store.store("User has a cat")
        assert set(await store.forget(new.id)) == {old.id, new.id, newest.id}  # from the middle
        for gone in (old, new, newest):
            with pytest.raises(MemoryNotFoundError):
                await store.get(gone.id)
        assert await store.search("Sam", context=False) == []
        assert await store.search("Samuel", context=False) == []
        stats = await store.stats()
        assert (stats.total, stats.superseded) == (1, 0)
        assert [r.id for r in await store.export()] == [kept.id]
        with pytest.raises(MemoryNotFoundError, match="mem_nope"):
            await store.forget("mem_nope")

    async def test_stats(self, store: AsyncPersonaStore) -> None:
        empty = await store.stats()
        assert empty.total == 0 and empty.oldest is None and empty.avg_importance is None
        assert empty.top_tags == [] and empty.by_type == {}
        utc = dt.UTC
        await store.store("a", tags=["x", "y"], importance=0.2, at=dt.datetime(2024, 1, 1, tzinfo=utc))
        await store.store("b", tags=["x"], importance=0.4, at=dt.datetime(2024, 6, 1, tzinfo=utc))
        c = await store.store("c", tags=["x", "z"], importance=0.6, type="preference",
                              at=dt.datetime(2025, 1, 1, tzinfo=utc))
        await store.store("d", tags=["w", "v", "u"], importance=0.8, at=dt.datetime(2024, 3, 1, tzinfo=utc))
        await store.update(c.id, content="c2")
        stats = await store.stats()
        assert stats.total == 4 and stats.superseded == 1
        assert stats.top_tags == [("x", 3), ("u", 1), ("v", 1), ("w", 1), ("y", 1)]
        assert stats.oldest == dt.datetime(2024, 1, 1, tzinfo=utc)
        assert stats.newest == NOW  # the update is a new version, said now
        assert stats.avg_importance == pytest.approx(0.5)
        assert stats.by_type == {"general": 3, "preference": 1}

    async def test_personas_are_isolated_in_one_store(self, backend: AsyncBackend) -> None:
        ada = AsyncPersonaStore("ada", backend=backend, clock=Clock(), embedder="none")
        bob = AsyncPersonaStore("bob", backend=backend, clock=Clock(), embedder="none")
        secret = await ada.store("Ada's diary entry about tea")
        assert await bob.search("tea", context=False) == []
        assert await bob.retrieve() == []
        with pytest.raises(MemoryNotFoundError):
            await bob.get(secret.id)
        with pytest.raises(MemoryNotFoundError):
            await bob.forget(secret.id)
        await bob.store("Ada's diary entry about tea")  # the same content is another persona's own
        assert (await ada.stats()).total == 1 and (await bob.stats()).total == 1
        assert await backend.personas() == ["ada", "bob"]

    async def test_persists_across_reopen(self, backend: AsyncBackend, second_backend: AsyncBackend) -> None:
        first = AsyncPersonaStore("ada", backend=backend, clock=Clock(), embedder="none")
        stored = await first.store("User's birthday is March 3", type="personal_fact", tags=["birthday"])
        await first.aclose()
        second = AsyncPersonaStore("ada", backend=second_backend, clock=Clock(), embedder="none")
        assert await second.get(stored.id) == stored
        assert [h.id for h in await second.search("birthday", context=False)] == [stored.id]

    async def test_another_instance_sees_every_change(self, backend: AsyncBackend, second_backend: AsyncBackend) -> None:
        reader = AsyncPersonaStore("ada", backend=backend, clock=Clock(), embedder="none")
        writer = AsyncPersonaStore("ada", backend=second_backend, clock=Clock(), embedder="none")
        first = await writer.store("User plays chess")
        assert [h.id for h in await reader.search("chess", context=False)] == [first.id]
        newer = await writer.update(first.id, content="User plays chess on Sundays")
        assert [h.id for h in await reader.search("chess", context=False)] == [newer.id]
        await writer.forget(newer.id)
        assert await reader.search("chess", context=False) == []
        assert (await reader.stats()).total == 0

    async def test_export_then_import_gives_back_everything(self, backend: AsyncBackend) -> None:
        store = AsyncPersonaStore("ada", backend=backend, clock=Clock(), embedder="none")
        old = await store.store("User lives in Berlin", tags=["home"], importance=0.8, type="personal_fact",
                                metadata={"source": "chat"}, at="2024-02-03T04:05:06.789012Z")
        await store.update(old.id, content="User lives in Lisbon")
        await store.store("User likes tea", tags=["drink"], at="2025-01-01")
        await store.retrieve()  # access counts are part of what is kept
        exported = await backend.export("ada")
        assert [r.created_at for r in exported] == sorted(r.created_at for r in exported)
        assert len(exported) == 3 and sum(1 for r in exported if not r.active) == 1
        assert await backend.import_records(exported) == 0  # every id is there already
        await backend.forget("ada", [r.id for r in exported])
        assert await backend.export("ada") == []
        assert await backend.import_records(exported) == 3
        assert await backend.export("ada") == exported  # ids, links, counts, metadata, times
        assert [h.content for h in await store.search("Lisbon Berlin", context=False)] == ["User lives in Lisbon"]

    async def test_import_records_keeps_ids_and_skips_what_exists(self, backend: AsyncBackend) -> None:
        a = record("first memory", persona="eve", tags=("x",), at=NOW - dt.timedelta(days=2))
        b = record("second memory", persona="eve", at=NOW - dt.timedelta(days=1))
        assert await backend.import_records([a, b]) == 2
        assert await backend.get_records("eve", [b.id, a.id]) == [b, a]
        same_id = MemoryRecord.from_dict({**a.to_dict(), "content": "changed"})
        same_content = record("FIRST memory.", persona="eve")
        fresh = record("third memory", persona="eve")
        assert await backend.import_records([same_id, same_content, fresh]) == 1
        assert [r.id for r in await backend.export("eve")] == [a.id, b.id, fresh.id]
        assert (await backend.get_records("eve", [a.id]))[0].content == "first memory"

    async def test_get_records_keeps_order_and_skips_unknown(self, store: AsyncPersonaStore) -> None:
        a = await store.store("one")
        b = await store.store("two")
        found = await store.backend.get_records("ada", [b.id, "mem_0000000000000000", a.id])
        assert [r.id for r in found] == [b.id, a.id]
        assert await store.backend.get_records("ada", []) == []
        assert await store.backend.forget("ada", ["mem_0000000000000000"]) == []

    async def test_settings_are_store_wide(self, backend: AsyncBackend, second_backend: AsyncBackend) -> None:
        assert await backend.get_meta("embedder") is None
        await backend.set_meta("embedder", "static-256")
        await backend.set_meta("embedder", "static-384")
        assert await backend.get_meta("embedder") == "static-384"
        assert await second_backend.get_meta("embedder") == "static-384"


    async def test_context_lists_the_conversation_around_a_match(
        self, backend: AsyncBackend, second_backend: AsyncBackend
    ) -> None:
        if not backend.supports_context:
            pytest.skip(f"the {backend.name} backend does not offer conversation context")

        async def add(content: str, minutes: float) -> str:
            stored, _ = await second_backend.add(record(content, at=NOW + dt.timedelta(minutes=minutes)))
            return stored.id

        question = await add("what did you paint", 0)
        answer = await add("a sunset over the lake", 1)
        query = Query(text="paint", k=10, context=2, context_window=3600)

        async def hit() -> Candidate:
            return next(c for c in await backend.candidates("ada", query) if c.id == question)

        assert ((await hit()).before, (await hit()).after) == ((), (answer,))
        assert answer in {c.id for c in await backend.candidates("ada", query)}  # a candidate too
        earlier = await add("I finished a painting", -1)  # stored later, said earlier: goes before
        far = await add("next week's plans", 60 * 24)  # a day later: another conversation
        found = await hit()
        assert (found.before, found.after) == ((earlier,), (answer,))
        assert far not in {c.id for c in await backend.candidates("ada", query)}
        await second_backend.forget("ada", [answer])  # another writer removed it
        assert (await hit()).after == ()


class AsyncVectorContract(_AsyncBackendFixtures):
    """Stored embeddings and nearest-neighbour candidates (``supports_vectors``)."""

    async def test_backend_says_it_supports_vectors(self, backend: AsyncBackend) -> None:
        assert backend.supports_vectors

    async def test_nearest_neighbours_with_filters(self, backend: AsyncBackend) -> None:
        east = (await backend.add(record("east", tags=("a",)), unit(1, 0, 0)))[0]
        north = (await backend.add(record("north", tags=("b",)), unit(0, 1, 0)))[0]
        await backend.add(record("north-east", tags=("a",)), unit(1, 1, 0))
        await backend.add(record("other persona", persona="bob"), unit(1, 0, 0))
        found = await backend.candidates("ada", Query(vector=unit(1, 0.1, 0), k=2))
        assert max(found, key=lambda c: c.vector_score or -1).id == east.id
        assert len(found) == 2 and all(c.text_score is None for c in found)
        only_b = await backend.candidates("ada", Query(filters=Filters(tags=("b",)), vector=unit(1, 0, 0), k=5))
        assert [c.id for c in only_b] == [north.id]
        assert only_b[0].vector_score == pytest.approx(0.0, abs=1e-6)

    async def test_text_and_vector_candidates_are_merged(self, backend: AsyncBackend) -> None:
        both = (await backend.add(record("red apple"), unit(1, 0)))[0]
        await backend.add(record("green pear"), unit(0, 1))
        found = {c.id: c for c in await backend.candidates("ada", Query(text="apple", vector=unit(1, 0), k=5))}
        assert found[both.id].text_score is not None
        assert found[both.id].vector_score == pytest.approx(1.0, abs=1e-5)
        assert len(found) == 2

    async def test_text_matches_carry_their_cosine(self, backend: AsyncBackend) -> None:
        """With a query vector, a text match beyond the vector top-k still carries its cosine."""
        far = (await backend.add(record("apple crumble recipe"), unit(0, 1)))[0]
        for i in range(5):
            await backend.add(record(f"near thing {i}"), unit(1, 0.01 * i))
        found = {c.id: c for c in await backend.candidates("ada", Query(text="apple", vector=unit(1, 0), k=3))}
        assert found[far.id].text_score is not None
        assert found[far.id].vector_score == pytest.approx(0.0, abs=1e-5)

    async def test_superseded_and_forgotten_leave_the_index(self, backend: AsyncBackend) -> None:
        old = (await backend.add(record("v1"), unit(1, 0)))[0]
        assert (await backend.candidates("ada", Query(vector=unit(1, 0), k=5)))[0].id == old.id
        new = await backend.supersede("ada", old.id, record("v2"), unit(0, 1))
        assert [c.id for c in await backend.candidates("ada", Query(vector=unit(1, 0), k=5))] == [new.id]
        await backend.forget("ada", [new.id])
        assert await backend.candidates("ada", Query(vector=unit(1, 0), k=5)) == []

    async def test_another_instance_s_writes_are_seen(
        self, backend: AsyncBackend, second_backend: AsyncBackend
    ) -> None:
        reader, writer = backend, second_backend
        first = (await writer.add(record("one"), unit(1, 0)))[0]
        assert [c.id for c in await reader.candidates("ada", Query(vector=unit(1, 0), k=5))] == [first.id]
        second = (await writer.add(record("two"), unit(0.9, 0.1)))[0]
        assert len(await reader.candidates("ada", Query(vector=unit(1, 0), k=5))) == 2
        await writer.forget("ada", [first.id])
        assert [c.id for c in await reader.candidates("ada", Query(vector=unit(1, 0), k=5))] == [second.id]

    async def test_missing_vectors_and_reindex(self, backend: AsyncBackend) -> None:
        plain = (await backend.add(record("no vector yet")))[0]
        assert await backend.missing_vectors("ada", 10) == [(plain.id, "no vector yet")]
        await backend.set_vectors("ada", {plain.id: unit(0, 1)})
        assert await backend.missing_vectors("ada", 10) == []
        assert (await backend.candidates("ada", Query(vector=unit(0, 1), k=5)))[0].id == plain.id
        await backend.clear_vectors()
        assert await backend.candidates("ada", Query(vector=unit(0, 1), k=5)) == []
        assert len(await backend.missing_vectors("ada", 10)) == 1
        await backend.set_vectors("ada", {plain.id: unit(0, 0, 1)})  # another embedder, another size
        assert (await backend.candidates("ada", Query(vector=unit(0, 0, 1), k=5)))[0].id == plain.id

    async def test_duplicate_gains_a_vector(self, backend: AsyncBackend) -> None:
        first = (await backend.add(record("same thing")))[0]
        again, created = await backend.add(record("Same thing."), unit(1, 0))
        assert not created and again.id == first.id
        assert (await backend.candidates("ada", Query(vector=unit(1, 0), k=5)))[0].id == first.id

    async def test_dimension_mismatch_is_an_error(self, backend: AsyncBackend) -> None:
        await backend.add(record("x"), unit(1, 0, 0))
        with pytest.raises(BackendError, match="dimensions"):
            await backend.candidates("ada", Query(vector=unit(1, 0), k=5))

    async def test_k_limits_vector_candidates(self, backend: AsyncBackend) -> None:
        for i in range(30):
            await backend.add(record(f"memory {i}"), unit(1, i / 30))
        found = await backend.candidates("ada", Query(vector=unit(1, 0), k=10))
        assert len(found) == 10
        best = sorted(found, key=lambda c: -(c.vector_score or 0))
        assert (await backend.get_records("ada", [best[0].id]))[0].content == "memory 0"


class AsyncBackendContract(AsyncKeyValueContract, AsyncRecordContract):
    """Everything a backend with persona memories promises (add ``AsyncVectorContract`` for vectors)."""
