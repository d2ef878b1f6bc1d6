"""Full-text ranking for backends that keep their records in memory (the JSON-lines files).

An in-memory SQLite FTS5 table, built from the records when they are loaded: the same BM25,
the same Porter stemming and the same query rules (:func:`persona_memory.text.fts5_match`) as
the SQLite backend, so a search ranks alike whichever file format holds the memories, and no
extra package is needed (the ``sqlite3`` module ships with Python).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Collection, Iterable

from ..text import fts5_match

# the SQLite backend's weights: a word in the content counts twice as much as one in the tags
_RANK = "-bm25(docs, 1.0, 0.5)"


class TextIndex:
    """BM25 over ``(number, content, tags)`` documents; scores are higher-is-better."""

    def __init__(self, documents: Iterable[tuple[int, str, Iterable[str]]]) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.execute(
            "CREATE VIRTUAL TABLE docs USING fts5 (content, tags, "
            "tokenize = 'porter unicode61 remove_diacritics 2')"
        )
        self._db.executemany(
            "INSERT INTO docs (rowid, content, tags) VALUES (?, ?, ?)",
            ((number, content, " ".join(tags)) for number, content, tags in documents),
        )

    def search(self, text: str, k: int, allowed: Collection[int] | None = None) -> list[tuple[int, float]]:
        """The best ``k`` documents for ``text`` (plain words), among ``allowed`` if given."""
        match = fts5_match(text)
        if match is None or k <= 0:
            return []
        with self._lock:
            rows = self._db.execute(
                f"SELECT rowid, {_RANK} AS score FROM docs WHERE docs MATCH ? ORDER BY score DESC",
                (match,),
            )
            found: list[tuple[int, float]] = []
            for number, score in rows:
                if allowed is None or number in allowed:
                    found.append((int(number), float(score)))
                    if len(found) >= k:
                        break
        return found

    def close(self) -> None:
        with self._lock:
            self._db.close()
