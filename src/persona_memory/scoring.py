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
# Fusion (see fuse); values from bench/locomo.py, where recall is flat around them
VECTOR_WEIGHT = 0.5
CONTEXT_RADIUS = 2  # neighbours looked at on each side
CONTEXT_WEIGHT = 0.5
CONTEXT_DECAY = 0.5
CONTEXT_WINDOW = 3600.0  # seconds: memories further apart are not one conversation

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
# Fusion (see fuse); values from bench/locomo.py, where recall is flat around them
VECTOR_WEIGHT = 0.5
CONTEXT_RADIUS = 2  # neighbours looked at on each side
CONTEXT_WEIGHT = 0.5
CONTEXT_DECAY = 0.5
CONTEXT_WINDOW = 3600.0  # seconds: memories further apart are not one conversation
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


def fuse(
    candidates: Sequence[Candidate], *, min_similarity: float = 0.0, k: int | None = None
) -> list[tuple[Candidate, float]]:
    """``(candidate, relevance)``, relevance 0-1 (1 for the best), in input order.

    1. Each memory's own match: its BM25 score placed in the band of the text matches (1 for
       the best, 0 for the k-th when the list was cut at ``k``, else for no match), plus
       ``VECTOR_WEIGHT`` times its cosine placed the same way in the band of the ``k`` nearest
       memories (the cosines of one embedder sit in a narrow band: their raw values say
       little, and BM25's scale depends on the engine and the store's size). Memories found only by vector with a cosine below ``min_similarity`` are not
       matches: every memory has *some* cosine with every query, and the embedder says below
       which it means nothing.
    2. Conversation context: a memory gains ``CONTEXT_WEIGHT`` times the best own match of
       the memories stored next to it, and ``CONTEXT_DECAY`` times that for each further step
       (``Candidate.before`` / ``after``, see ``Query.context``). An answer ("Yes, last
       Saturday!") is found through the question it answers, which holds the words.

    Measured on LoCoMo (``bench/locomo.py``): each step adds recall over the text-only and
    vector-only rankings and over plain reciprocal-rank fusion.
    """
    by_id = {c.id: c for c in candidates}
    matched = {
        c.id for c in candidates
        if (c.text_score is not None and c.text_score > 0)
        or (c.vector_score is not None and c.vector_score >= min_similarity)
    }
    if not matched:
        return []
    texts = sorted((c.text_score for c in candidates if c.text_score is not None and c.text_score > 0), reverse=True)
    text_high = texts[0] if texts else 0.0
    # a list cut at k has its zero at the k-th score; a complete one at 0
    text_low = texts[-1] if k is not None and len(texts) >= k else 0.0
    cosines = sorted(
        (c.vector_score for c in candidates if c.vector_score is not None and c.vector_score >= min_similarity),
        reverse=True,
    )[: k or None]
    high, low = (cosines[0], cosines[-1]) if cosines else (0.0, 0.0)
    own: dict[str, float] = {}
    for c in candidates:
        text = 0.0
        if c.text_score is not None and c.text_score > 0:
            text = 1.0 if text_high <= text_low else max(0.0, (c.text_score - text_low) / (text_high - text_low))
        vector = 0.0
        if c.vector_score is not None and cosines:
            vector = 1.0 if high <= low else max(0.0, (c.vector_score - low) / (high - low))
        own[c.id] = text + VECTOR_WEIGHT * vector
    context = _context_boost(candidates, own)
    scored = [
        (c, own[c.id] + context.get(c.id, 0.0))
        for c in candidates
        if c.id in matched or context.get(c.id, 0.0) > 0
    ]
    best = max((score for _c, score in scored), default=0.0)
    if best <= 0:  # matches, but all at the bottom of their band: rank them by cosine
        scored = [(by_id[i], max(0.0, by_id[i].vector_score or 0.0)) for i in matched]
        best = max(score for _c, score in scored) or 1.0
    return [(c, score / best) for c, score in scored]


def _context_boost(candidates: Sequence[Candidate], own: dict[str, float]) -> dict[str, float]:
    """Per memory: sum over distances d of ``CONTEXT_WEIGHT * CONTEXT_DECAY**(d-1)`` times the
    best own score among its neighbours at distance d (either side)."""
    nearest: dict[tuple[str, int], float] = {}  # (memory, distance) -> best neighbour score
    for c in candidates:
        if not c.before and not c.after:
            continue
        mine = own[c.id]
        for side in (c.before, c.after):
            for distance, other in enumerate(side, start=1):
                theirs = own.get(other)
                if theirs is None:
                    continue
                # neighbourhood is symmetric: the backend may list it on one of the two only
                if theirs > nearest.get((c.id, distance), 0.0):
                    nearest[c.id, distance] = theirs
                if mine > nearest.get((other, distance), 0.0):
                    nearest[other, distance] = mine
    boost: dict[str, float] = {}
    for (memory, distance), score in nearest.items():
        boost[memory] = boost.get(memory, 0.0) + CONTEXT_WEIGHT * CONTEXT_DECAY ** (distance - 1) * score
    return boost


def rank_for_search(
    candidates: Iterable[Candidate], now: float, limit: int, *, min_similarity: float = 0.0,
    k: int | None = None, weigh: bool = True,
) -> list[tuple[Candidate, float, float]]:
    """``(candidate, score, relevance)`` best first: :func:`fuse`, then importance and decay
    by :func:`weighted` (with ``weigh`` False, score = relevance)."""
    fused = fuse(list(candidates), min_similarity=min_similarity, k=k)
    if weigh and len(fused) > limit:
        # weighting keeps at least (1 - SEARCH_WEIGHT) of a relevance: whatever falls below that
        # share of the limit-th best relevance cannot make the cut, so skip weighing it
        cut = (1 - SEARCH_WEIGHT) * sorted((r for _c, r in fused), reverse=True)[limit - 1]
        fused = [(c, r) for c, r in fused if r >= cut]
    ranked = [(c, weighted(relevance, c, now) if weigh else relevance, relevance) for c, relevance in fused]
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
