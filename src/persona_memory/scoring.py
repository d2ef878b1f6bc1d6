"""Ranking: importance, time decay, access reinforcement and relevance. Pure functions.

Every backend returns :class:`~persona_memory.models.Candidate` rows; this module alone turns
them into an order, so all backends rank the same way.

Retention (how present a memory still is) decays with age, and important memories decay slower::

    half_life(i)    = 30 days * 16 ** i          # i = importance: 30 d at 0, 120 d at 0.5, 480 d at 1
    retention       = 0.5 ** (age / half_life(i))
    reinforcement   = min(1.25, 1 + 0.05 * log2(1 + access_count))   # each recall helps a little
    retrieval_score = (0.25 + 0.75 * i) * retention * reinforcement

``retrieve`` orders by ``retrieval_score`` (newest first on ties). ``search`` orders by::

    score = relevance * (1 - W + W * min(1, retrieval_score))        # W = SEARCH_WEIGHT = 0.3
VECTOR_WEIGHT = 0.5  # bench/locomo.py: best of 0.3-1.0 for the text + vector sum

so relevance to the query dominates and importance and recency can move a hit by at most 30 %.
``relevance`` fuses the full-text BM25 score and the embedding's cosine similarity (see
:func:`fuse`), 0-1 with 1 for the best match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from .models import Candidate

BASE_HALF_LIFE_DAYS = 30.0
HALF_LIFE_GROWTH = 16.0  # half-life multiplier at importance 1.0
IMPORTANCE_FLOOR = 0.25  # share of the score an importance-0 memory keeps
ACCESS_BOOST = 0.05
MAX_REINFORCEMENT = 1.25
SEARCH_WEIGHT = 0.3
VECTOR_WEIGHT = 0.5  # bench/locomo.py: best of 0.3-1.0 for the text + vector sum
_DAY = 86_400.0


def half_life_days(importance: float) -> float:
    return float(BASE_HALF_LIFE_DAYS * HALF_LIFE_GROWTH**importance)


def retention(importance: float, age_seconds: float) -> float:
    """1.0 for a new memory, halving every ``half_life_days(importance)``."""
    age_days = max(0.0, age_seconds) / _DAY
    return float(0.5 ** (age_days / half_life_days(importance)))


def reinforcement(access_count: int) -> float:
    return min(MAX_REINFORCEMENT, 1.0 + ACCESS_BOOST * math.log2(1 + max(0, access_count)))


def retrieval_score(candidate: Candidate, now: float) -> float:
    """How strongly a memory should surface with no query (higher is better)."""
    i = candidate.importance
    return (
        (IMPORTANCE_FLOOR + (1 - IMPORTANCE_FLOOR) * i)
        * retention(i, now - candidate.created_at)
        * reinforcement(candidate.access_count)
    )


def rank_for_retrieve(candidates: Iterable[Candidate], now: float, limit: int) -> list[tuple[Candidate, float]]:
    scored = [(c, retrieval_score(c, now)) for c in candidates]
    scored.sort(key=lambda pair: (pair[1], pair[0].created_at), reverse=True)
    return scored[:limit]


def weighted(relevance: float, candidate: Candidate, now: float) -> float:
    """Relevance adjusted by importance and decay; never more than ``SEARCH_WEIGHT`` off."""
    prior = min(1.0, retrieval_score(candidate, now))
    return relevance * (1 - SEARCH_WEIGHT + SEARCH_WEIGHT * prior)


def fuse(candidates: Sequence[Candidate], *, min_similarity: float = 0.0) -> list[tuple[Candidate, float]]:
    """``(candidate, relevance)`` with relevance in 0-1 (1 for the best), in input order.

    Each side is put on a 0-1 scale within the candidate set: the BM25 score divided by the
    best one, the cosine min-max scaled between the weakest and the strongest vector
    candidate (cosines of one embedder sit in a narrow band, so their raw values say little).
    The two are added with ``VECTOR_WEIGHT``. Candidates matched by the vector side only
    whose cosine is below ``min_similarity`` are dropped: every memory has *some* cosine
    with every query, and the embedder says below which it means nothing.
    """
    kept = [
        c for c in candidates
        if c.text_score is not None or (c.vector_score is not None and c.vector_score >= min_similarity)
    ]
    if not kept:
        return []
    text_best = max((c.text_score for c in kept if c.text_score is not None), default=0.0)
    cosines = [c.vector_score for c in kept if c.vector_score is not None]
    low, high = (min(cosines), max(cosines)) if cosines else (0.0, 0.0)
    only_vectors = text_best <= 0.0
    fused = []
    for c in kept:
        text = max(0.0, c.text_score / text_best) if c.text_score is not None and text_best > 0 else 0.0
        vector = 0.0
        if c.vector_score is not None:
            # with no text side the cosine itself is the relevance; else its place in the band
            vector = max(0.0, c.vector_score) if only_vectors or high <= low else (c.vector_score - low) / (high - low)
        fused.append((c, text + VECTOR_WEIGHT * vector if not only_vectors else vector))
    best = max(score for _c, score in fused)
    return [(c, score / best if best > 0 else 0.0) for c, score in fused]


def rank_for_search(
    candidates: Iterable[Candidate], now: float, limit: int, *, min_similarity: float = 0.0
) -> list[tuple[Candidate, float, float]]:
    """``(candidate, score, relevance)`` best first: :func:`fuse`, then :func:`weighted`."""
    ranked = [
        (c, weighted(relevance, c, now), relevance)
        for c, relevance in fuse(list(candidates), min_similarity=min_similarity)
    ]
    ranked.sort(key=lambda row: (row[1], row[0].created_at), reverse=True)
    return ranked[:limit]
