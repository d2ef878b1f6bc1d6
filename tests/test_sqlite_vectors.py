"""The SQLite backend's vector storage and exact nearest-neighbour search."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from persona_memory.backends.sqlite import SQLiteBackend
from persona_memory.errors import BackendError
from persona_memory.models import Filters, MemoryRecord, MemoryType, Query, new_memory_id
from persona_memory.vectors import VectorIndex, normalize, top_k

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


def test_nearest_neighbours_with_filters(backend: SQLiteBackend) -> None:
    east = backend.add(record("east", tags=("a",)), unit(1, 0, 0))[0]
    north = backend.add(record("north", tags=("b",)), unit(0, 1, 0))[0]
    backend.add(record("north-east", tags=("a",)), unit(1, 1, 0))
    backend.add(record("other persona", persona="bob"), unit(1, 0, 0))
    found = backend.candidates("ada", Query(vector=unit(1, 0.1, 0), k=2))
    assert max(found, key=lambda c: c.vector_score).id == east.id
    assert len(found) == 2 and all(c.text_score is None for c in found)
    only_b = backend.candidates("ada", Query(filters=Filters(tags=("b",)), vector=unit(1, 0, 0), k=5))
    assert [c.id for c in only_b] == [north.id]
    assert only_b[0].vector_score == pytest.approx(0.0, abs=1e-6)


def test_text_and_vector_candidates_are_merged(backend: SQLiteBackend) -> None:
    both = backend.add(record("red apple"), unit(1, 0))[0]
    backend.add(record("green pear"), unit(0, 1))
    found = {c.id: c for c in backend.candidates("ada", Query(text="apple", vector=unit(1, 0), k=5))}
    assert found[both.id].text_score is not None and found[both.id].vector_score == pytest.approx(1.0)
    assert len(found) == 2


def test_superseded_and_forgotten_leave_the_index(backend: SQLiteBackend) -> None:
    old = backend.add(record("v1"), unit(1, 0))[0]
    assert backend.candidates("ada", Query(vector=unit(1, 0), k=5))[0].id == old.id
    new = backend.supersede("ada", old.id, record("v2"), unit(0, 1))
    assert [c.id for c in backend.candidates("ada", Query(vector=unit(1, 0), k=5))] == [new.id]
    backend.forget("ada", [new.id])
    assert backend.candidates("ada", Query(vector=unit(1, 0), k=5)) == []


def test_another_process_s_writes_are_seen(tmp_path: Path) -> None:
    reader, writer = SQLiteBackend(tmp_path / "v.db"), SQLiteBackend(tmp_path / "v.db")
    first = writer.add(record("one"), unit(1, 0))[0]
    assert [c.id for c in reader.candidates("ada", Query(vector=unit(1, 0), k=5))] == [first.id]
    second = writer.add(record("two"), unit(0.9, 0.1))[0]  # appended: read incrementally
    assert len(reader.candidates("ada", Query(vector=unit(1, 0), k=5))) == 2
    writer.forget("ada", [first.id])  # removed: full reload
    assert [c.id for c in reader.candidates("ada", Query(vector=unit(1, 0), k=5))] == [second.id]
    reader.close()
    writer.close()


def test_missing_vectors_and_reindex(backend: SQLiteBackend) -> None:
    plain = backend.add(record("no vector yet"))[0]
    assert backend.missing_vectors("ada", 10) == [(plain.id, "no vector yet")]
    backend.set_vectors("ada", {plain.id: unit(0, 1)})
    assert backend.missing_vectors("ada", 10) == []
    assert backend.candidates("ada", Query(vector=unit(0, 1), k=5))[0].id == plain.id
    backend.clear_vectors()
    assert backend.candidates("ada", Query(vector=unit(0, 1), k=5)) == []
    assert len(backend.missing_vectors("ada", 10)) == 1


def test_duplicate_gains_a_vector(backend: SQLiteBackend) -> None:
    first = backend.add(record("same thing"))[0]
    again, created = backend.add(record("Same thing."), unit(1, 0))
    assert not created and again.id == first.id
    assert backend.candidates("ada", Query(vector=unit(1, 0), k=5))[0].id == first.id


def test_dimension_mismatch_is_an_error(backend: SQLiteBackend) -> None:
    backend.add(record("x"), unit(1, 0, 0))
    with pytest.raises(BackendError, match="dimensions"):
        backend.candidates("ada", Query(vector=unit(1, 0), k=5))


def test_meta(backend: SQLiteBackend) -> None:
    assert backend.get_meta("embedder") is None
    backend.set_meta("embedder", "static-256")
    backend.set_meta("embedder", "static-384")
    assert backend.get_meta("embedder") == "static-384"


def test_top_k_orders_and_masks() -> None:
    matrix = np.stack([unit(1, 0), unit(0, 1), unit(1, 1)])
    idx, scores = top_k(matrix, unit(1, 0), 2)
    assert list(idx) == [0, 2] and scores[0] == pytest.approx(1.0)
    idx, _ = top_k(matrix, unit(1, 0), 3, mask=np.array([False, True, True]))
    assert list(idx) == [2, 1]


def _unit_rows(n: int, dim: int, seed: int) -> np.ndarray:
    # like sentence embeddings: most variance in a few directions, a shared offset, some noise
    rng = np.random.default_rng(seed)
    mixing = np.random.default_rng(0).normal(size=(8, dim))
    rows = (rng.normal(size=(n, 8)) @ mixing + 0.3 * rng.normal(size=(n, dim)) + 1.0).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_vector_index_exact_below_the_threshold_and_snapshots_survive_appends() -> None:
    rows = _unit_rows(300, 32, 1)
    index = VectorIndex.build(rows[:200])
    query = rows[7]
    positions, scores = index.nearest(query, 5)
    assert positions[0] == 7 and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert list(positions) == list(np.argsort(-(rows[:200] @ query))[:5])
    grown = index.append(rows[200:])
    assert index.size == 200 and grown.size == 300  # the old snapshot still sees 200 rows
    assert index.nearest(rows[250], 1)[0][0] != 250 and grown.nearest(rows[250], 1)[0][0] == 250
    assert np.allclose(grown.scores(query, np.array([7, 250])), rows[[7, 250]] @ query, atol=1e-6)
    assert np.allclose(grown.rows(), rows, atol=1e-6)
    mask = np.ones(300, dtype=bool)
    mask[7] = False
    assert 7 not in grown.nearest(query, 10, mask)[0]


def test_vector_index_two_stage_search_above_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    from persona_memory import vectors

    monkeypatch.setattr(vectors, "EXACT_UP_TO", 500)
    monkeypatch.setattr(vectors, "PREFILTER_DIMS", 16)
    monkeypatch.setattr(vectors, "SHORTLIST", 200)
    rows = _unit_rows(3000, 64, 2)
    small = VectorIndex.build(rows[:400])
    index = small.append(rows[400:])  # crossing the threshold rebuilds with a rotation
    assert index._rotation is not None and small._rotation is None
    assert np.allclose(index.rows(), rows, atol=1e-5)  # rotation keeps every vector
    queries = _unit_rows(20, 64, 3)
    found = 0
    for query in queries:
        exact = set(np.argsort(-(rows @ query))[:10])
        positions, scores = index.nearest(query, 10)
        assert np.allclose(scores, rows[positions] @ query, atol=1e-5)  # scores are exact
        found += len(exact & set(positions))
    assert found / (10 * len(queries)) > 0.9
    assert np.allclose(index.scores(queries[0], np.arange(5)), rows[:5] @ queries[0], atol=1e-5)


def test_words_in_most_memories_are_left_out_when_rarer_ones_remain(backend: SQLiteBackend) -> None:
    for i in range(10):
        backend.add(record(f"the user said thing number {i}"))
    pizza = backend.add(record("the user loves pizza"))[0]
    found = backend.candidates("ada", Query(text="user pizza", k=50))
    assert [c.id for c in found] == [pizza.id]  # "user" is everywhere: it carries no weight
    assert len(backend.candidates("ada", Query(text="user", k=50))) == 11  # nothing rarer: kept


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
