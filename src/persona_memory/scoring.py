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

so relevance to the query dominates and importance and recency can move a hit by at most 30 %.
``relevance`` is the full-text BM25 score divided by the best one in the result set (0-1).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .models import Candidate

BASE_HALF_LIFE_DAYS = 30.0
HALF_LIFE_GROWTH = 16.0  # half-life multiplier at importance 1.0
IMPORTANCE_FLOOR = 0.25  # share of the score an importance-0 memory keeps
ACCESS_BOOST = 0.05
MAX_REINFORCEMENT = 1.25
SEARCH_WEIGHT = 0.3
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


def rank_for_search(
    candidates: Iterable[Candidate], now: float, limit: int
) -> list[tuple[Candidate, float, float]]:
    """``(candidate, score, relevance)`` best first, for candidates with a text or vector match.

    Relevance is the better of the text score (divided by the best one in the set) and the
    cosine similarity.
    """
    matched = [c for c in candidates if c.text_score is not None or c.vector_score is not None]
    if not matched:
        return []
    best = max((c.text_score or 0.0) for c in matched) or 1.0
    ranked = []
    for c in matched:
        text = max(0.0, (c.text_score or 0.0) / best)
        vector = max(0.0, c.vector_score or 0.0)
        relevance = max(text, vector)
        ranked.append((c, weighted(relevance, c, now), relevance))
    ranked.sort(key=lambda row: (row[1], row[0].created_at), reverse=True)
    return ranked[:limit]


def absolute_relevance(candidate: Candidate) -> float:
    """How well a memory answers a query on a fixed 0-1 scale: what ``min_score`` is checked against.

    ``relevance`` above is divided by the best hit, so the top hit always has 1.0 however poor
    it is; a floor needs a scale that does not move with the result set. This is the better of
    ``text_match`` (the IDF-weighted share of the query's terms the memory contains) and the
    cosine similarity of the vectors.
    """
    return max(candidate.text_match or 0.0, candidate.vector_score or 0.0)
