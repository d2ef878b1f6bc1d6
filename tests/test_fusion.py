"""Fusion of full-text and vector scores (persona_memory.scoring), pure."""

from __future__ import annotations

import pytest

from persona_memory import scoring
from persona_memory.models import Candidate

NOW = 1_750_000_000.0


def c(id: str, text: float | None = None, vector: float | None = None, importance: float = 0.5,
      age_days: float = 0.0) -> Candidate:
    return Candidate(id, importance, NOW - age_days * 86_400, 0, text, vector)


def relevances(candidates: list[Candidate], **kwargs: float) -> dict[str, float]:
    return {cand.id: rel for cand, rel in scoring.fuse(candidates, **kwargs)}


def test_text_only_is_bm25_scaled_to_the_best() -> None:
    assert relevances([c("a", text=4.0), c("b", text=2.0)]) == {"a": 1.0, "b": 0.5}


def test_vector_only_is_the_cosine_scaled_to_the_best() -> None:
    got = relevances([c("a", vector=0.8), c("b", vector=0.4)])
    assert got == pytest.approx({"a": 1.0, "b": 0.5})


def test_agreement_of_both_sides_wins() -> None:
    got = relevances([
        c("both", text=3.0, vector=0.7),
        c("text", text=3.2, vector=0.3),
        c("vector", vector=0.72),
        c("weak", text=0.5, vector=0.35),
    ])
    assert max(got, key=got.__getitem__) == "both"
    assert got["both"] == 1.0 and all(0.0 <= r <= 1.0 for r in got.values())
    assert got["text"] > got["weak"] and got["vector"] > got["weak"]


def test_vector_only_hits_below_the_floor_are_dropped() -> None:
    got = relevances([c("text", text=1.0, vector=0.05), c("noise", vector=0.1), c("near", vector=0.5)],
                     min_similarity=0.2)
    assert set(got) == {"text", "near"}  # a text match stays whatever its cosine
    assert scoring.fuse([c("noise", vector=0.1)], min_similarity=0.2) == []
    assert scoring.fuse([]) == []


def test_rank_for_search_weighs_importance_and_age_but_relevance_dominates() -> None:
    ranked = scoring.rank_for_search(
        [c("old-important", text=2.0, importance=1.0, age_days=400), c("fresh-trivial", text=2.0, importance=0.0),
         c("off-topic", text=0.4, importance=1.0)],
        NOW, 10,
    )
    order = [cand.id for cand, _score, _rel in ranked]
    assert order[-1] == "off-topic"
    assert all(score <= rel for _c, score, rel in ranked)
    assert [cand.id for cand, _s, _r in scoring.rank_for_search([c("a", text=1.0), c("b", text=2.0)], NOW, 1)] == ["b"]
