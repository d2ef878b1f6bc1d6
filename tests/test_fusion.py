"""Fusion of full-text, vector and conversation-context scores (persona_memory.scoring), pure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from persona_memory import scoring
from persona_memory.models import Candidate

NOW = 1_750_000_000.0
W, D = scoring.CONTEXT_WEIGHT, scoring.CONTEXT_DECAY


def c(id: str, text: float | None = None, vector: float | None = None, importance: float = 0.5,
      age_days: float = 0.0, before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> Candidate:
    return Candidate(id, importance, NOW - age_days * 86_400, 0, text, vector, before, after)


def relevances(candidates: list[Candidate], **kwargs: float) -> dict[str, float]:
    return {cand.id: rel for cand, rel in scoring.fuse(candidates, **kwargs)}  # type: ignore[arg-type]


def test_text_only_is_bm25_scaled_to_the_best() -> None:
    assert relevances([c("a", text=4.0), c("b", text=2.0)]) == {"a": 1.0, "b": 0.5}


def test_a_list_cut_at_k_has_its_zero_at_the_kth_score() -> None:
    got = relevances([c("a", text=5.0), c("b", text=3.0), c("c", text=1.0)], k=3)
    assert got == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})  # c still listed: it matched


def test_equal_text_scores_carry_no_information() -> None:
    # a word in every memory: BM25 gives all the same (near-zero) score; the vector decides
    got = relevances([c("a", text=1e-6, vector=0.3), c("b", text=1e-6, vector=0.5)])
    assert got["b"] == 1.0 and got["a"] < 1.0


def test_vector_side_is_placed_in_the_band_of_the_k_nearest() -> None:
    got = relevances([c("a", vector=0.8), c("b", vector=0.6), c("c", vector=0.4)], k=3)
    assert got == pytest.approx({"a": 1.0, "b": 0.5, "c": 0.0})


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


def test_an_answer_is_found_through_the_question_before_it() -> None:
    # "What did you paint?" matches the query; "A sunset over the lake" (no match) follows it
    got = relevances([
        c("question", text=4.0, after=("answer", "later")),
        c("answer"),
        c("later"),
        c("elsewhere", text=2.0),
    ])
    assert got["answer"] == pytest.approx(W)  # the question (own match 1.0) scores 1.0
    assert got["later"] == pytest.approx(W * D)
    assert got["elsewhere"] == pytest.approx(0.5)
    assert got["answer"] > got["later"]


def test_neighbourhood_is_symmetric_and_unmatched_strangers_stay_out() -> None:
    # listed only on the answer's side: the question still gains from the answer and back
    got = relevances([c("q", text=2.0), c("a", text=2.0, before=("q",)), c("stranger")])
    assert got["q"] == got["a"] == 1.0
    assert "stranger" not in got


candidate_lists = st.lists(
    st.builds(
        c,
        id=st.uuids().map(str),
        text=st.none() | st.floats(0, 20),
        vector=st.none() | st.floats(-1, 1),
        importance=st.floats(0, 1),
        age_days=st.floats(0, 1000),
    ),
    max_size=40,
    unique_by=lambda cand: cand.id,
)


@settings(max_examples=200, deadline=None)
@given(candidate_lists, st.integers(1, 10))
def test_pruning_before_weighing_never_changes_the_top(candidates: list[Candidate], limit: int) -> None:
    full = scoring.rank_for_search(candidates, NOW, len(candidates) or 1)
    pruned = scoring.rank_for_search(candidates, NOW, limit)
    assert [r[0].id for r in pruned] == [r[0].id for r in full[:limit]]


def test_weighing_uses_importance_and_age_but_relevance_dominates() -> None:
    ranked = scoring.rank_for_search(
        [c("old-important", text=2.0, importance=1.0, age_days=400), c("fresh-trivial", text=2.0, importance=0.0),
         c("off-topic", text=0.4, importance=1.0)],
        NOW, 10,
    )
    order = [cand.id for cand, _score, _rel in ranked]
    assert order[-1] == "off-topic"
    assert all(score <= rel for _c, score, rel in ranked)
    unweighted = scoring.rank_for_search([c("a", text=1.0, age_days=900), c("b", text=1.0)], NOW, 2, weigh=False)
    assert [score for _c, score, _r in unweighted] == [1.0, 1.0]
