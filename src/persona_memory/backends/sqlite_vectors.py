"""The SQLite backend's vector index: a per-persona numpy matrix kept in step with the file.

The matrix is loaded once, then only the rows added since are read on each search (new rows
have higher rowids). Anything that removes or replaces a vector (update, forget, re-index)
bumps ``vector_epoch`` in ``pmem_settings``, which makes every process reload in full. Access
counting writes (on every search) touch neither, so they never invalidate the matrix.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

import numpy as np

from ..errors import BackendError
from ..vectors import VectorIndex, from_blob

EPOCH = "vector_epoch"


@dataclass
class _PersonaMatrix:
    epoch: str | None
    max_rowid: int
    rowids: np.ndarray  # int64, ascending, one per index row
    index: VectorIndex | None


class VectorCache:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._matrices: dict[str, _PersonaMatrix] = {}

    def get(self, conn: sqlite3.Connection, persona: str) -> tuple[np.ndarray, VectorIndex | None]:
        """``(rowids, index)`` of the persona's active memories that have a vector."""
        epoch = current_epoch(conn)
        with self._lock:
            cached = self._matrices.get(persona)
        if cached is None or cached.epoch != epoch:
            cached = _PersonaMatrix(epoch, 0, np.empty(0, dtype=np.int64), None)
        rows = conn.execute(
            # CROSS JOIN and +m.persona keep SQLite on the rowid range (only the new rows)
            # instead of walking every memory of the persona through its index
            "SELECT v.memory_rowid, v.vector FROM memory_vectors v "
            "CROSS JOIN memories m ON m.rowid = v.memory_rowid "
            "WHERE v.memory_rowid > ? AND +m.persona = ? AND m.superseded_by IS NULL "
            "ORDER BY v.memory_rowid",
            (cached.max_rowid, persona),
        ).fetchall()
        if rows:
            new = np.vstack([from_blob(blob) for _rowid, blob in rows])
            if cached.index is not None and new.shape[1] != cached.index.dimension:
                raise BackendError(
                    f"vectors of different sizes in one store ({cached.index.dimension} and "
                    f"{new.shape[1]}): run `pmem reindex`"
                )
            index = VectorIndex.build(new) if cached.index is None else cached.index.append(new)
            rowids = np.concatenate([cached.rowids, np.array([r for r, _ in rows], dtype=np.int64)])
            cached = _PersonaMatrix(epoch, int(rows[-1][0]), rowids, index)
            with self._lock:
                self._matrices[persona] = cached
        return cached.rowids, cached.index

    def clear(self) -> None:
        with self._lock:
            self._matrices.clear()


def current_epoch(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM pmem_settings WHERE name = ?", (EPOCH,)).fetchone()
    return None if row is None else str(row[0])


def bump_epoch(conn: sqlite3.Connection) -> None:
    """Call inside a write transaction that removed or replaced vectors."""
    conn.execute(
        "INSERT INTO pmem_settings (name, value) VALUES (?, '1') "
        "ON CONFLICT (name) DO UPDATE SET value = CAST(value AS INTEGER) + 1",
        (EPOCH,),
    )
