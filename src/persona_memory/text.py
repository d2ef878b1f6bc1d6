"""Turning a user's question into search terms. Pure functions.

A query is a question in plain words, never query syntax: ``"what does the user like to eat"``
becomes the terms ``user``, ``like``, ``eat`` (stop words dropped, any term may match, BM25 weighs
them). Quotes, ``*``, ``NEAR(``, ``OR`` and the like are treated as words, so no input can break
the full-text engine or change the query's meaning.
"""

from __future__ import annotations

import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_TERMS = 64

# A common English stop-word list (function words only), used for queries, not for indexing.
STOP_WORDS = frozenset(
    ["a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves", "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves", "s", "t", "d", "ll", "m", "re", "ve"]
)


def word_set(words: str) -> frozenset[str]:
    """A set of words written as one space-separated string (keeps long word lists readable)."""
    return frozenset(words.split())


def terms(query: str) -> list[str]:
    """The distinct lowercase words of ``query`` worth searching for, in order.

    Stop words are dropped unless nothing else is left.
    """
    words: list[str] = []
    for word in _WORD.findall(query.casefold()):
        if word not in words:
            words.append(word)
    content_words = [w for w in words if w not in STOP_WORDS]
    return (content_words or words)[:MAX_TERMS]


def fts5_terms(query: str) -> list[str]:
    """The query's terms, each quoted as an FTS5 string (so none is read as syntax)."""
    return ['"' + term.replace('"', '""') + '"' for term in terms(query)]


def fts5_match(query: str) -> str | None:
    """An FTS5 ``MATCH`` expression where any term may match, or None if the query has no words."""
    return " OR ".join(fts5_terms(query)) or None


_SUFFIXES = ("ing", "ed", "es", "s", "ly")


def _light_stem(word: str) -> str:
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def coverage(query: str, content: str) -> float:
    """The share of the query's search terms found in ``content`` (0-1), by a light stemming.

    An estimate for backends whose full-text engine cannot weigh terms (see
    ``Candidate.text_match``); every term counts the same.
    """
    wanted = [_light_stem(t) for t in terms(query)]
    if not wanted:
        return 0.0
    present = {_light_stem(w) for w in _WORD.findall(content.casefold())}
    return sum(1 for t in wanted if t in present) / len(wanted)
