"""The SQLite backend's timeline: each persona's active memories in the order they were said.

Search asks for the memories stored just before and after each match (``Query.context``): in a
conversation the words that make a turn findable are often in the turn before it ("What did you
paint?" / "A sunset over the lake"). Finding neighbours with SQL costs two index probes per
match; this cache answers from two sorted numpy arrays instead, ``(created_at, rowid)``.

It follows the vector matrix's rules (``sqlite_vectors``): rows added since the last look are
merged in (they have higher rowids, so among equal timestamps they sort last), and anything
that removes a memory from the active set (update, forget) bumps ``vector_epoch``, which makes
every process reload.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from .sqlite_vectors import current_epoch


class Timeline:
    """Active memories sorted by ``(created_at, rowid)``, with each rowid's position."""

    def __init__(self, created: np.ndarray, rowids: np.ndarray) -> None:
        self.created = created  # float64 epoch seconds, ascending
        self.rowids = rowids  # int64; ascending within equal timestamps
        self._position = np.full(int(rowids.max()) + 1 if len(rowids) else 0, -1, dtype=np.int64)
        self._position[rowids] = np.arange(len(rowids))

    def around(
        self, anchors: Iterable[int], radius: int, window: float
    ) -> dict[int, tuple[list[int], list[int]]]:
        """For each anchor rowid: rowids of up to ``radius`` memories before and after it
        (nearest first), at most ``window`` seconds away. Unknown (inactive) anchors are left out."""
        rowids = np.fromiter(anchors, dtype=np.int64)
        rowids = rowids[rowids < len(self._position)]
        pos = self._position[rowids]
        rowids, pos = rowids[pos >= 0], pos[pos >= 0]
        n = len(self.rowids)
        sides = []
        for step in (-1, 1):
            offsets = pos[:, None] + step * np.arange(1, radius + 1)[None, :]  # (anchors, radius)
            inside = (offsets >= 0) & (offsets < n)
            clipped = np.clip(offsets, 0, max(n - 1, 0))
            near = inside & (np.abs(self.created[clipped] - self.created[pos][:, None]) <= window)
            sides.append(np.where(near, self.rowids[clipped], -1))
        before, after = sides
        return {
            int(r): ([int(x) for x in b if x >= 0], [int(x) for x in a if x >= 0])
            for r, b, a in zip(rowids.tolist(), before, after, strict=True)
        }


@dataclass(frozen=True)
class _Cached:
    epoch: str | None
    max_rowid: int
    timeline: Timeline


class TimelineCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._cached: dict[str, _Cached] = {}

    def get(self, conn: sqlite3.Connection, persona: str) -> Timeline:
        epoch = current_epoch(conn)
        with self._lock:
            cached = self._cached.get(persona)
        if cached is None or cached.epoch != epoch:
            empty = Timeline(np.empty(0, dtype=np.float64), np.empty(0, dtype=np.int64))
            cached = _Cached(epoch, 0, empty)
        rows = conn.execute(
            # +persona: walk the rowid range of new rows, not the persona's index
            "SELECT rowid, created_at FROM memories "
            "WHERE +persona = ? AND superseded_by IS NULL AND rowid > ? ORDER BY created_at, rowid",
            (persona, cached.max_rowid),
        ).fetchall()
        if rows:
            new_rowids = np.fromiter((r for r, _c in rows), dtype=np.int64, count=len(rows))
            new_created = np.fromiter((c for _r, c in rows), dtype=np.float64, count=len(rows))
            old = cached.timeline
            # new rows have higher rowids than every cached one: among equal timestamps they go last
            at = np.searchsorted(old.created, new_created, side="right")
            timeline = Timeline(np.insert(old.created, at, new_created), np.insert(old.rowids, at, new_rowids))
            cached = _Cached(epoch, max(cached.max_rowid, int(new_rowids.max())), timeline)
            with self._lock:
                self._cached[persona] = cached
        return cached.timeline

    def clear(self) -> None:
        with self._lock:
            self._cached.clear()
