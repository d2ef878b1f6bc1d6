"""The exact and two-stage vector index (persona_memory.vectors.VectorIndex). Pure numpy."""

from __future__ import annotations

import numpy as np
import pytest

from persona_memory.vectors import VectorIndex


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
