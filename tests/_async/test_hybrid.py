"""Hybrid search, embedder bookkeeping (mixing refusal), failures and reindexing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from persona_memory import AsyncPersonaStore, InvalidInputError
from persona_memory.embedders import StaticEmbedder
from persona_memory.errors import EmbedderMismatchError, EmbedderWarning
from tests.helpers.embedders import FlakyEmbedder, HashingEmbedder, WrongShapeEmbedder

NOW = dt.datetime(2025, 6, 1, 12, 0, tzinfo=dt.UTC)

FACTS = [
    "User is vegetarian and loves Italian food",
    "User's daughter Emma starts school in September",
    "User works as a nurse at the city hospital",
    "User went hiking in the Alps last summer",
    "User's favourite band is Radiohead",
    "The user's car broke down on Tuesday",
]


def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'm.db'}"


def open_store(tmp_path: Path, embedder: object = None, persona: str = "ada") -> AsyncPersonaStore:
    return AsyncPersonaStore(persona, url=url(tmp_path), clock=lambda: NOW, embedder=embedder)  # type: ignore[arg-type]


async def store_facts(store: AsyncPersonaStore) -> None:
    # learnt in different conversations, days apart (so none is the other's context)
    for day, fact in enumerate(FACTS):
        await store.store(fact, at=NOW - dt.timedelta(days=3 * day + 1))


async def test_default_search_is_hybrid_and_finds_by_meaning(tmp_path: Path) -> None:
    async with open_store(tmp_path) as store:
        assert isinstance(store.embedder, StaticEmbedder)
        await store_facts(store)
        hits = await store.search("what does the user like to eat")
        assert hits[0].content == "User is vegetarian and loves Italian food"
        assert hits[0].vector_score is not None and hits[0].relevance == 1.0
        # no word of the question is in the memory but "user", which is in every memory (so
        # BM25 gives it no weight): full text alone finds nothing
        assert await store.search("what does the user like to eat", mode="text") == []
        text_only = await store.search("italian food", mode="text")
        assert [h.content for h in text_only] == ["User is vegetarian and loves Italian food"]
        assert text_only[0].text_score is not None and text_only[0].vector_score is None


async def test_vector_mode_uses_meaning_only(tmp_path: Path) -> None:
    async with open_store(tmp_path) as store:
        await store_facts(store)
        hits = await store.search("what music does the user listen to", mode="vector")
        assert "Radiohead" in hits[0].content
        assert all(h.text_score is None for h in hits)
        with pytest.raises(InvalidInputError, match="mode"):
            await store.search("x", mode="semantic")


async def test_store_without_embedder_searches_text_only(tmp_path: Path) -> None:
    async with open_store(tmp_path, embedder="none") as store:
        await store.store("User is vegetarian")
        assert store.embedder is None
        assert [h.content for h in await store.search("vegetarian")] == ["User is vegetarian"]
        assert await store.search("vegetarian", mode="vector") == []
        with pytest.raises(InvalidInputError, match="embedder"):
            await store.reindex()


async def test_store_records_its_embedder_and_refuses_another(tmp_path: Path) -> None:
    async with open_store(tmp_path) as store:
        await store.store("User is vegetarian")
        # id and dimension in one value: another process never reads half of a claim
        assert await store.backend.get_meta("embedder") == f"{store.embedder.id} 256"  # type: ignore[union-attr]
    async with open_store(tmp_path, embedder=HashingEmbedder()) as other:
        with pytest.raises(EmbedderMismatchError, match="pmem reindex") as caught:
            await other.store("User has a cat")
        assert "static:" in str(caught.value) and "test-hashing-64" in str(caught.value)
        with pytest.raises(EmbedderMismatchError):
            await other.search("cat")
        with pytest.raises(EmbedderMismatchError):
            await other.reindex(missing_only=True)  # filling gaps would mix the two models
        # what was stored before the refusal is intact
        assert [r.content for r in await other.retrieve()] == ["User is vegetarian"]


async def test_reindex_switches_embedder_for_every_persona(tmp_path: Path) -> None:
    async with open_store(tmp_path) as ada, open_store(tmp_path, persona="bob") as bob:
        await ada.store("User is vegetarian and loves Italian food")
        await ada.store("User works as a nurse")
        await bob.store("Bob plays the trumpet")
    seen: list[tuple[int, int]] = []
    async with open_store(tmp_path, embedder=HashingEmbedder()) as ada:
        assert await ada.reindex(progress=lambda done, total: seen.append((done, total)), batch_size=2) == 3
        assert seen[0] == (0, 3) and seen[-1] == (3, 3)
        assert await ada.backend.get_meta("embedder") == "test-hashing-64 64"
        hits = await ada.search("italian food", mode="vector")
        assert hits[0].content.startswith("User is vegetarian")
        await ada.store("User has a cat")  # accepted now
    async with open_store(tmp_path, persona="bob", embedder=HashingEmbedder()) as bob:
        assert [h.content for h in await bob.search("trumpet", mode="vector")] == ["Bob plays the trumpet"]
    async with open_store(tmp_path) as ada:  # the old embedder is the stranger now
        with pytest.raises(EmbedderMismatchError):
            await ada.search("cat")


async def test_embedder_failure_keeps_the_memory_until_reindex(tmp_path: Path) -> None:
    flaky = FlakyEmbedder()
    async with open_store(tmp_path, embedder=flaky) as store:
        await store.store("User is vegetarian and loves Italian food", at="2025-01-01")  # claims the store
        flaky.broken = True
        with pytest.warns(EmbedderWarning, match="without a vector"):
            nurse = await store.store("User works as a nurse at the city hospital")
        assert (await store.get(nurse.id)).content.startswith("User works")
        with pytest.warns(EmbedderWarning, match="full text only"):
            hits = await store.search("nurse hospital")
        assert [h.id for h in hits] == [nurse.id]
        flaky.broken = False
        assert nurse.id not in [h.id for h in await store.search("medical job", mode="vector")]
        assert await store.reindex(missing_only=True) == 1
        assert await store.reindex(missing_only=True) == 0
        hits = await store.search("medical job", mode="vector")
        assert hits[0].id == nurse.id


async def test_wrong_vectors_are_not_stored(tmp_path: Path) -> None:
    async with open_store(tmp_path, embedder=WrongShapeEmbedder()) as store:
        with pytest.warns(EmbedderWarning, match="shape"):
            record = await store.store("User is vegetarian")
        assert (await store.backend.missing_vectors("ada", 10)) == [(record.id, "User is vegetarian")]


async def test_update_embeds_the_new_content(tmp_path: Path) -> None:
    async with open_store(tmp_path) as store:
        old = await store.store("User lives in Berlin")
        await store.store("User is vegetarian and loves Italian food")
        new = await store.update(old.id, content="User moved to the seaside in Portugal")
        assert await store.backend.missing_vectors("ada", 10) == []
        hits = await store.search("portuguese coast", mode="vector")
        assert hits[0].id == new.id
        assert old.id not in [h.id for h in hits]


async def test_an_answer_is_found_through_the_question_it_answers(tmp_path: Path) -> None:
    said = NOW - dt.timedelta(days=10)
    async with open_store(tmp_path) as store:
        await store.store("Caroline: I finally finished the painting for the school auction", at=said)
        await store.store("Melanie: Wow! What did you paint?", at=said + dt.timedelta(minutes=1))
        answer = await store.store("Caroline: A sunset over the lake, all orange and pink", at=said + dt.timedelta(minutes=2))
        await store.store("Melanie: We adopted a puppy last week", at=said - dt.timedelta(days=5))
        await store.store("Caroline: My brother moved to Chicago", at=said + dt.timedelta(days=7))
        question = "What was painted for the school auction?"
        found = await store.search(question)
        assert answer.id in [h.id for h in found[:3]]
        hit = next(h for h in found if h.id == answer.id)
        assert hit.text_score is None  # no word of the question: found through its context
        without = await store.search(question, context=False, mode="text")
        assert answer.id not in [h.id for h in without]
        # context is the same conversation only: a day later is another one
        later = await store.store("Caroline: Yes, it sold for a lot!", at=said + dt.timedelta(days=1))
        assert later.id not in [h.id for h in await store.search(question, mode="text")]


async def test_context_respects_filters(tmp_path: Path) -> None:
    async with open_store(tmp_path) as store:
        await store.store("Melanie: What did you paint?", tags=["chat"], at=NOW)
        answer = await store.store("Caroline: A sunset over the lake", tags=["chat"], at=NOW)
        private = await store.store("Caroline: my PIN hint is the lake house", tags=["private"], at=NOW)
        ids = [h.id for h in await store.search("what did you paint", tags="chat", mode="text")]
        assert answer.id in ids and private.id not in ids


async def test_unrelated_memories_are_not_returned_for_a_nonsense_query(tmp_path: Path) -> None:
    async with open_store(tmp_path) as store:
        await store.store("User loves hiking in the Alps")
        assert await store.search("hik") == []  # neither a word match nor a meaningful vector
