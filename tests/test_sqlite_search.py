"""The SQLite backend's own search machinery: word pruning, filtered text search, context."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from persona_memory.backends.sqlite import SQLiteBackend
from persona_memory.models import Filters, MemoryRecord, MemoryType, Query, new_memory_id
from persona_memory.vectors import normalize

NOW = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def record(content: str, persona: str = "ada", tags: tuple[str, ...] = ()) -> MemoryRecord:
    return MemoryRecord(new_memory_id(), persona, content, MemoryType.GENERAL, tags, 0.5, NOW)


def unit(*values: float) -> np.ndarray:
    return normalize(np.array(values, dtype=np.float32))


@pytest.fixture
def backend(tmp_path: Path):
    b = SQLiteBackend(tmp_path / "v.db")
    yield b
    b.close()


def test_words_in_most_memories_are_left_out_when_rarer_ones_remain(
    backend: SQLiteBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from persona_memory.backends import sqlite

    monkeypatch.setattr(sqlite, "SMALL_STORE", 5)  # as if the store were large
    monkeypatch.setattr(sqlite, "COMMON_MIN", 5)
    for i in range(10):
        backend.add(record(f"the user said thing number {i}"))
    pizza = backend.add(record("the user loves pizza"))[0]
    found = backend.candidates("ada", Query(text="user pizza", k=50))
    assert [c.id for c in found] == [pizza.id]  # "user" is everywhere: it carries no weight
    assert len(backend.candidates("ada", Query(text="user", k=50))) == 11  # nothing rarer: kept
    # only the common word is held by any memory: nothing matches the rest of the question
    assert backend.candidates("ada", Query(text="user xylophone", k=50)) == []


def test_small_stores_keep_every_word_not_in_every_memory(backend: SQLiteBackend) -> None:
    both = backend.add(record("green tea and jasmine tea every morning"))[0]
    one = backend.add(record("a cup of tea"))[0]
    backend.add(record("coffee only"))
    found = {c.id for c in backend.candidates("ada", Query(text="jasmine tea", k=10))}
    assert found == {both.id, one.id}  # "tea" is in 2 of 3 memories, not in every one


def test_filtered_text_search_looks_past_the_best_unfiltered_matches(backend: SQLiteBackend) -> None:
    for i in range(150):
        backend.add(record(f"apple {i}", tags=("a",)))
    wanted = [
        backend.add(record("apple " + " ".join(f"filler{j}" for j in range(30)) + f" {i}", tags=("x",)))[0].id
        for i in range(3)
    ]
    found = backend.candidates("ada", Query(filters=Filters(tags=("x",)), text="apple", k=50))
    assert sorted(c.id for c in found) == sorted(wanted)
    assert all(c.text_score is not None and c.text_score > 0 for c in found)


def _at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def test_context_neighbours_follow_time_order_and_other_writers(tmp_path: Path) -> None:
    reader, writer = SQLiteBackend(tmp_path / "c.db"), SQLiteBackend(tmp_path / "c.db")

    def add(content: str, minutes: float) -> str:
        rec = MemoryRecord(new_memory_id(), "ada", content, MemoryType.GENERAL, (), 0.5, _at(minutes))
        return writer.add(rec)[0].id

    question = add("what did you paint", 0)
    answer = add("a sunset over the lake", 1)
    query = Query(text="paint", k=10, context=2, context_window=3600)
    hit = next(c for c in reader.candidates("ada", query) if c.id == question)
    assert hit.after == (answer,) and hit.before == ()
    earlier = add("I finished a painting", -1)  # stored later, said earlier: goes before
    far = add("next week's plans", 60 * 24)  # a day later: another conversation
    hit = next(c for c in reader.candidates("ada", query) if c.id == question)
    assert hit.before == (earlier,) and hit.after == (answer,)
    assert far not in {c.id for c in reader.candidates("ada", query)}
    writer.forget("ada", [answer])  # removed: the reader reloads its timeline
    hit = next(c for c in reader.candidates("ada", query) if c.id == question)
    assert hit.after == ()
    reader.close()
    writer.close()
