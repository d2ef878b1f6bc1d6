"""The embedded default: one SQLite file in WAL mode, no server.

Built the way diskcache builds its cache:

* one connection per thread, opened lazily and re-opened after ``fork`` (a connection is never
  used in a process other than the one that opened it);
* ``isolation_level=None`` with an explicit ``BEGIN IMMEDIATE`` for every write, so a writer
  takes the lock up front and a concurrent writer waits instead of failing mid-transaction;
* a busy timeout plus a bounded retry of ``SQLITE_BUSY``, ending in our own
  :class:`~persona_memory.errors.StoreBusyError` ("database is locked" never reaches the caller);
* ``synchronous=NORMAL`` by default: in WAL mode a commit that returned survives ``kill -9`` of
  the process; ``durability="full"`` adds an ``fsync`` per commit to survive power loss too;
* ``secure_delete=ON`` so forgotten content is overwritten, not left in free pages;
* files created ``0600`` in a ``0700`` directory.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import logging
import math
import os
import random
import sqlite3
import threading
import time
import urllib.parse
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .. import signals
from ..errors import (
    BackendError,
    ConfigError,
    CorruptStoreError,
    MemoryNotFoundError,
    StorageFullError,
    StoreBusyError,
    StoreReadOnlyError,
)
from ..models import Candidate, MemoryRecord, MemoryType, Query, Stats, Vector, from_epoch
from ..records import reinforced
from ..text import common_word_cap, fts5_match, fts5_terms, terms
from ..validation import content_hash
from ..vectors import VectorIndex, to_blob
from . import files
from ._sync.base import Backend
from .sqlite_context import TimelineCache
from .sqlite_schema import MIGRATIONS
from .sqlite_vectors import VectorCache, bump_epoch

T = TypeVar("T")
logger = logging.getLogger("persona_memory")

# primary SQLite result codes (https://sqlite.org/rescode.html)
_BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT, _FULL, _CANTOPEN, _NOTADB = 5, 6, 8, 10, 11, 13, 14, 26
_RETRY_CODES = {_BUSY, _LOCKED}
# SQLite's own busy handler waits up to this long per attempt; the retry loop adds the rest.
_PER_ATTEMPT_TIMEOUT = 5.0

_COLUMNS = (
    "id, persona, content, type, tags, importance, created_at, metadata, "
    "access_count, last_accessed, superseded_by, supersedes"
)
_CANDIDATE_COLUMNS = "m.id, m.importance, m.created_at, m.access_count"
_ACTIVE_ONLY = "m.persona = ? AND m.superseded_by IS NULL"  # what _filter_sql gives with no filters
# Note: "+persona = ?" below stops SQLite from walking the persona's index (every memory of
# the persona) when the unique id index finds the few rows wanted directly: 4 ms -> 0.1 ms
# for 10 ids among 5,000 memories.


def path_from_url(url: str) -> Path:
    """``sqlite:///abs/path.db`` -> ``/abs/path.db``; ``sqlite:///~/x.db`` -> ``$HOME/x.db``;
    ``sqlite://rel/x.db`` -> ``rel/x.db`` (relative to the working directory)."""
    return files.path_from_url(url, "sqlite", "sqlite:///path/to/file.db")


class SQLiteBackend(Backend):
    """Key-value entries and persona memories in one SQLite file."""

    name = "sqlite"
    supports_vectors = True
    supports_context = True
    url_options = ("durability", "busy_timeout")

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        durability: str = "normal",
        busy_timeout: float = 30.0,
    ) -> None:
        if durability not in ("normal", "full"):
            raise ConfigError(f"invalid durability={durability!r}: expected 'normal' or 'full'")
        # absolute, so a child process with another working directory opens the same file
        self.path = Path(path).expanduser().absolute()
        self.url = f"sqlite://{self.path}"
        self.durability = durability
        self.busy_timeout = float(busy_timeout)
        self._init_process_state()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteBackend:
        return cls(path_from_url(url), **options)

    # ---- connections ----

    def _init_process_state(self) -> None:
        self._pid = os.getpid()
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        self._writes = 0  # writes committed through this object (part of the cache token)
        self._vectors = VectorCache()
        self._timeline = TimelineCache()
        self._common: dict[str, tuple[int, int]] = {}  # FTS term -> (store size, memories holding it)

    def _conn(self, *, for_write: bool = False) -> sqlite3.Connection:
        if self._pid != os.getpid():
            # Forked: the parent's connections (and a lock some other thread may have held
            # at fork time) must not be touched here. Start over with fresh ones.
            self._init_process_state()
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and for_write and getattr(self._local, "read_only", False):
            # opened read-only earlier; the filesystem may be writable again
            self._drop(conn)
            conn = None
        if conn is None:
            conn, read_only = self._open()
            self._local.conn, self._local.read_only = conn, read_only
            with self._lock:
                self._connections.append(conn)
        if for_write and self._local.read_only:
            raise StoreReadOnlyError(f"{self.path} is on a read-only filesystem or not writable")
        return conn

    def _drop(self, conn: sqlite3.Connection) -> None:
        self._local.conn = None
        with self._lock:
            if conn in self._connections:
                self._connections.remove(conn)
        conn.close()

    def _open(self) -> tuple[sqlite3.Connection, bool]:
        """A set-up connection and whether it is read-only.

        When the file or its directory cannot be written (read-only filesystem), the store is
        still opened for reading, so recall keeps working; writes then raise StoreReadOnlyError.
        """
        try:
            return self._open_read_write(), False
        except StoreReadOnlyError:
            if not self.path.exists():
                raise
            return self._open_read_only(), True

    def _open_read_write(self) -> sqlite3.Connection:
        with self._translate("open"):
            try:
                files.make_private_dirs(self.path.parent)
                if not self.path.exists():
                    # create it 0600 ourselves; SQLite gives -wal and -shm the same mode
                    os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
            except OSError as exc:
                if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                    raise StoreReadOnlyError(f"cannot create {self.path}: {exc.strerror}") from exc
                raise BackendError(f"cannot create {self.path}: {exc.strerror or exc}") from exc
            conn = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,  # used by one thread at a time; closed from any
                timeout=min(self.busy_timeout, _PER_ATTEMPT_TIMEOUT),
            )
        try:
            self._retry("open", lambda: self._setup(conn))
        except BaseException:
            conn.close()
            raise
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        uri = f"file:{urllib.parse.quote(str(self.path))}?mode=ro"
        if not os.access(self.path.parent, os.W_OK):
            # WAL readers need a -shm file they cannot create here; nobody can write this
            # directory either, so the file cannot change under us: immutable is safe.
            uri += "&immutable=1"
        with self._translate("open"):
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            try:
                applied = conn.execute("PRAGMA user_version").fetchone()[0]
            except BaseException:
                conn.close()
                raise
        if applied != len(MIGRATIONS):
            conn.close()
            raise StoreReadOnlyError(
                f"{self.path} is read-only and its schema ({applied}) needs an upgrade to "
                f"{len(MIGRATIONS)}; open it once where it can be written"
            )
        return conn

    def _setup(self, conn: sqlite3.Connection) -> None:
        with self._translate("open"):
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={'FULL' if self.durability == 'full' else 'NORMAL'}")
            conn.execute("PRAGMA foreign_keys=ON")
            conn.execute("PRAGMA secure_delete=ON")
            # Checkpoint the WAL every ~40 MB instead of every 4 MB: each checkpoint syncs the
            # file, and a memory with its vector and FTS5 entry writes several pages.
            # bench/search_scale.py: ingest 1,355 -> 1,793 memories/s. The WAL file is cut back
            # to 64 MB after a checkpoint.
            conn.execute("PRAGMA wal_autocheckpoint=10000")
            conn.execute(f"PRAGMA journal_size_limit={64 * 2**20}")
            if conn.execute("PRAGMA user_version").fetchone()[0] != len(MIGRATIONS):
                self._migrate(conn)

    def _migrate(self, conn: sqlite3.Connection) -> None:
        conn.execute("BEGIN IMMEDIATE")
        try:
            applied = conn.execute("PRAGMA user_version").fetchone()[0]
            if applied > len(MIGRATIONS):
                raise ConfigError(
                    f"{self.path} was written by a newer persona-memory (schema {applied}, "
                    f"this one knows {len(MIGRATIONS)}); upgrade persona-memory"
                )
            for _name, migrate in MIGRATIONS[applied:]:
                migrate(conn)
            conn.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    def close(self) -> None:
        if self._pid != os.getpid():
            self._init_process_state()
            return
        with self._lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()
        self._local = threading.local()

    def __getstate__(self) -> dict[str, Any]:
        # pickles as its settings; the copy opens its own connections
        return {"path": self.path, "durability": self.durability, "busy_timeout": self.busy_timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["path"], durability=state["durability"], busy_timeout=state["busy_timeout"])  # type: ignore[misc]

    # ---- running statements ----

    @contextmanager
    def _translate(self, operation: str) -> Iterator[None]:
        """Map ``sqlite3`` errors to ours, naming the file and the operation."""
        try:
            yield
        except _DamagedRow as exc:
            raise CorruptStoreError(self._damaged(f"a stored row does not parse ({exc})")) from exc
        except sqlite3.Error as exc:
            code = getattr(exc, "sqlite_errorcode", -1) & 0xFF
            where = f"{operation} on {self.path}"
            if code in _RETRY_CODES:
                raise _Busy(exc) from exc
            if code == _FULL:
                raise StorageFullError(
                    f"{where} failed: the disk or database is full ({exc}); "
                    "everything stored before is intact"
                ) from exc
            if code in (_READONLY, _CANTOPEN) or (code == _IOERR and _is_permission(exc)):
                raise StoreReadOnlyError(f"{where} failed: the store cannot be written ({exc})") from exc
            if code in (_CORRUPT, _NOTADB) or "could not decode" in str(exc).lower():
                raise CorruptStoreError(self._damaged(str(exc))) from exc
            raise BackendError(f"{where} failed: {exc}") from exc

    def _damaged(self, detail: str) -> str:
        return (
            f"{self.path} is damaged or is not a persona-memory database ({detail}). "
            f"Move it aside and restore a backup, or salvage what is readable with: "
            f"sqlite3 '{self.path}' .recover | sqlite3 recovered.db"
        )

    def _retry(self, operation: str, attempt: Callable[[], T]) -> T:
        """Run ``attempt``, retrying while the store is busy, for at most ``busy_timeout`` seconds."""
        deadline = time.monotonic() + self.busy_timeout
        pause = 0.001
        while True:
            try:
                return attempt()
            except _Busy as busy:
                if time.monotonic() + pause > deadline:
                    raise StoreBusyError(
                        f"{operation} on {self.path}: other writers held the store for more "
                        f"than {self.busy_timeout:g} s ({busy.__cause__})"
                    ) from busy.__cause__
                time.sleep(pause * (1 + random.random()))
                pause = min(pause * 2, 0.1)

    def _write(
        self, operation: str, work: Callable[[sqlite3.Connection], T], *, signal: bool = True
    ) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction; durable when this returns.

        A write refused for lack of space or permission emits ``resource_limit`` (unless
        ``signal`` is False, for bookkeeping writes such as access counts).
        """

        def attempt() -> T:
            conn = self._conn(for_write=True)
            with self._translate(operation):
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
            self._writes += 1
            return result

        try:
            return self._retry(operation, attempt)
        except (StorageFullError, StoreReadOnlyError) as error:
            if signal:
                signals.emit(signals.RESOURCE_LIMIT, store=self.url, error=error, operation=operation)
            raise

    def _read(
        self, operation: str, work: Callable[[sqlite3.Connection], T], *, snapshot: bool = False
    ) -> T:
        """Run ``work``; with ``snapshot`` all its statements see one consistent state."""

        def attempt() -> T:
            conn = self._conn()
            with self._translate(operation):
                if not snapshot:
                    return work(conn)
                conn.execute("BEGIN")
                try:
                    return work(conn)
                finally:
                    conn.execute("COMMIT")

        return self._retry(operation, attempt)

    # ---- key-value ----

    def kv_get(self, namespace: str, key: str) -> str | None:
        row = self._read(
            "get",
            lambda c: c.execute(
                "SELECT value, expires_at FROM kv WHERE namespace = ? AND key = ?", (namespace, key)
            ).fetchone(),
        )
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return str(row[0])

    def kv_put(self, namespace: str, key: str, value: str, ttl: float | None = None) -> None:
        expires = None if ttl is None else time.time() + ttl
        self._write(
            "put",
            lambda c: c.execute(
                "INSERT INTO kv (namespace, key, value, expires_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, "
                "expires_at = excluded.expires_at",
                (namespace, key, value, expires),
            ),
        )

    def kv_delete(self, namespace: str, key: str) -> bool:
        def work(c: sqlite3.Connection) -> bool:
            row = c.execute(
                "DELETE FROM kv WHERE namespace = ? AND key = ? RETURNING expires_at", (namespace, key)
            ).fetchone()
            return row is not None and (row[0] is None or row[0] > time.time())

        return self._write("delete", work)

    def kv_keys(self, namespace: str) -> list[str]:
        rows = self._read(
            "keys",
            lambda c: c.execute(
                "SELECT key FROM kv WHERE namespace = ? AND (expires_at IS NULL OR expires_at > ?) "
                "ORDER BY key",
                (namespace, time.time()),
            ).fetchall(),
        )
        return [row[0] for row in rows]

    def version(self) -> Hashable | None:
        # data_version changes when another connection (any process) commits; _writes counts
        # this object's own commits, which data_version does not see on the same connection.
        conn = getattr(self._local, "conn", None)
        if conn is None or self._pid != os.getpid():
            conn = self._retry("version", self._conn)
        try:  # hot path of every cached Memory.get: no retry wrapper unless needed
            data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        except sqlite3.Error:

            def attempt() -> Any:
                with self._translate("version"):
                    return self._conn().execute("PRAGMA data_version").fetchone()[0]

            data_version = self._retry("version", attempt)
        return (threading.get_ident(), id(conn), data_version, self._writes)

    # ---- persona memories ----

    def add(self, record: MemoryRecord, vector: Vector | None = None) -> tuple[MemoryRecord, bool]:
        return self._write("store", lambda c: _insert_or_reinforce(c, record, vector))

    def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        if not ids:
            return []

        def work(c: sqlite3.Connection) -> list[MemoryRecord]:
            marks = ",".join("?" * len(ids))
            rows = c.execute(
                f"SELECT {_COLUMNS} FROM memories WHERE +persona = ? AND id IN ({marks})",
                (persona, *ids),
            ).fetchall()
            by_id = {row[0]: _record(row) for row in rows}
            return [by_id[i] for i in ids if i in by_id]

        return self._read("get", work)

    def supersede(
        self, persona: str, old_id: str, new: MemoryRecord, vector: Vector | None = None
    ) -> MemoryRecord:
        def work(c: sqlite3.Connection) -> MemoryRecord:
            old = c.execute(
                "SELECT rowid FROM memories WHERE +persona = ? AND id = ? AND superseded_by IS NULL",
                (persona, old_id),
            ).fetchone()
            if old is None:
                raise MemoryNotFoundError(old_id, persona)
            # retire the old version first: the new one may have the same content
            c.execute("UPDATE memories SET superseded_by = ? WHERE rowid = ?", (new.id, old[0]))
            bump_epoch(c)  # the old version's vector leaves the index
            stored, created = _insert_or_reinforce(c, new, vector)
            if not created:  # the new content already existed as another memory
                c.execute("UPDATE memories SET superseded_by = ? WHERE rowid = ?", (stored.id, old[0]))
            return stored

        return self._write("update", work)

    def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []

        def work(c: sqlite3.Connection) -> list[str]:
            marks = ",".join("?" * len(ids))
            family = [
                row[0]
                for row in c.execute(
                    f"""
                    WITH RECURSIVE family(id) AS (
                        SELECT id FROM memories WHERE +persona = ? AND id IN ({marks})
                        UNION
                        SELECT m.id FROM memories m JOIN family f ON m.supersedes = f.id
                        UNION
                        SELECT m.id FROM memories m JOIN family f ON m.superseded_by = f.id
                    )
                    SELECT id FROM family
                    """,
                    (persona, *ids),
                )
            ]
            for start in range(0, len(family), 500):
                chunk = family[start : start + 500]
                c.execute(
                    f"DELETE FROM memories WHERE id IN ({','.join('?' * len(chunk))})", chunk
                )
            if family:
                bump_epoch(c)
            return family

        return self._write("forget", work)

    def candidates(self, persona: str, query: Query) -> list[Candidate]:
        where, params = _filter_sql(persona, query)
        if query.text is None and query.vector is None:
            sql = f"SELECT {_CANDIDATE_COLUMNS}, NULL, NULL FROM memories m WHERE {where}"
            rows = self._read("retrieve", lambda c: c.execute(sql, params).fetchall())
            return [Candidate(*row) for row in rows]
        return self._read("search", lambda c: self._search(c, persona, query, where, params), snapshot=True)

    def _search(
        self, c: sqlite3.Connection, persona: str, query: Query, where: str, params: list[Any]
    ) -> list[Candidate]:
        # rowid -> [id, importance, created_at, access_count, text_score, vector_score]
        found: dict[int, list[Any]] = {}
        text_hits: list[int] = []  # best first
        vector_hits: list[int] = []
        match = self._match(c, query.text) if query.text is not None else None
        if match is not None:
            for row in self._text_matches(c, match, query.k, where, params):
                found[row[0]] = [*row[1:], None]
                text_hits.append(row[0])
        cosine = self._cosines(c, persona, query.vector)
        if cosine is not None and cosine.index is not None:
            mask = None
            if where != _ACTIVE_ONLY:  # filters beyond persona/active: ask SQL which rows qualify
                mask = np.isin(cosine.rowids, self._allowed(c, where, params))
            # (searching the vectors in a worker thread while SQLite ranks the text was
            # measured slower on the busy two-core machine: no free core to overlap on)
            idx, scores = cosine.index.nearest(cosine.vector, query.k, mask)
            for rowid, score in zip(cosine.rowids[idx].tolist(), scores.tolist(), strict=True):
                found.setdefault(rowid, [None, None, None, None, None, None])[5] = score
                vector_hits.append(rowid)
        anchors = [*text_hits[: query.context_anchors], *vector_hits[: query.context_anchors]]
        context = {} if query.context <= 0 or not anchors else self._context(c, persona, query, anchors, found, where, params)
        missing = [rowid for rowid, row in found.items() if row[0] is None]
        for start in range(0, len(missing), 500):  # rows known only by rowid so far
            chunk = missing[start : start + 500]
            for row in c.execute(
                f"SELECT m.rowid, {_CANDIDATE_COLUMNS} FROM memories m "
                f"WHERE m.rowid IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                found[row[0]][:4] = row[1:]
        if cosine is not None:  # every candidate carries its cosine, matches by text too
            lacking = [rowid for rowid, row in found.items() if row[5] is None]
            for rowid, cos in zip(lacking, cosine.lookup(lacking), strict=True):
                found[rowid][5] = cos
        ids = {rowid: row[0] for rowid, row in found.items()}
        result = []
        for rowid, (memory_id, importance, created, accesses, text, vector) in found.items():
            before, after = context.get(rowid, ((), ()))
            result.append(
                Candidate(
                    memory_id, importance, created, accesses, text, vector,
                    before=tuple(ids[r] for r in before if r in ids),
                    after=tuple(ids[r] for r in after if r in ids),
                )
            )
        if query.match_terms and query.text and text_hits:  # the absolute match, for a min_score
            shares = _term_shares(c, persona, terms(query.text), [r.id for r in result if r.text_score is not None])
            result = [replace(r, text_match=shares.get(r.id, 0.0)) if r.text_score is not None else r for r in result]
        return result

    def _text_matches(
        self, c: sqlite3.Connection, match: str, k: int, where: str, params: list[Any]
    ) -> list[tuple[Any, ...]]:
        """The ``k`` best full-text matches passing ``where``: ``(rowid, id, importance,
        created_at, access_count, text_score)``, best first.

        FTS5 ranks its own rows first, and only the best are looked up in ``memories`` to
        apply the filters: joining before ranking looked up every match (10 ms of 14 at 100k
        memories). If too few of the best pass the filters, more are ranked.
        """
        # bm25() is lower-is-better; negate it so that higher is better, as the contract says
        ranked_sql = (
            "SELECT rowid, -bm25(memories_fts, 1.0, 0.5) AS score FROM memories_fts "
            "WHERE memories_fts MATCH ? ORDER BY score DESC LIMIT ?"
        )
        # +m.persona: look the few rows up by rowid, not by walking the persona's index
        filter_sql = (
            f"SELECT m.rowid, {_CANDIDATE_COLUMNS} FROM memories m "
            f"WHERE m.rowid IN (SELECT value FROM json_each(?)) AND +{where}"
        )
        fetch = 2 * k
        while True:
            ranked = c.execute(ranked_sql, (match, fetch)).fetchall()
            score = dict(ranked)
            rows = c.execute(filter_sql, [json.dumps(list(score)), *params]).fetchall()
            if len(rows) >= k or len(ranked) < fetch:
                break
            fetch *= 4
        rows.sort(key=lambda row: score[row[0]], reverse=True)
        return [(*row, score[row[0]]) for row in rows[:k]]

    def _match(self, c: sqlite3.Connection, text: str) -> str | None:
        """The FTS5 expression for ``text``, leaving out words that are in too many memories.

        BM25 gives such words little weight (none past half the memories), yet FTS5 scores
        every memory containing any query word: "Caroline" in a store of Caroline's chats
        made a 10k-memory search take 20 ms. Left out only when a rarer query word remains; in a
        store of fewer than ``text.SMALL_STORE`` memories, only words that every memory holds. Counts
        are capped, so checking costs little.
        """
        quoted = fts5_terms(text)
        if len(quoted) < 2:
            return " OR ".join(quoted) or None
        size = c.execute("SELECT max(rowid) FROM memories").fetchone()[0] or 0
        cap = common_word_cap(size)
        if cap is None:
            return " OR ".join(quoted)
        rare = [term for term in quoted if self._count(c, term, size, cap) <= cap]
        return " OR ".join(rare or quoted)

    def _count(self, c: sqlite3.Connection, term: str, size: int, cap: int) -> int:
        """How many memories hold ``term``, counted up to ``cap + 1``; remembered until the
        store grows by a tenth (a word's share changes slowly)."""
        known = self._common.get(term)
        if known is not None and known[0] <= size <= known[0] * 1.1:
            return known[1]
        count = int(c.execute(
            "SELECT count(*) FROM (SELECT 1 FROM memories_fts WHERE memories_fts MATCH ? LIMIT ?)", (term, cap + 1)
        ).fetchone()[0])
        if len(self._common) > 10_000:
            self._common.clear()
        self._common[term] = (size, count)
        return count

    def _cosines(self, c: sqlite3.Connection, persona: str, vector: Vector | None) -> _Cosines | None:
        if vector is None:
            return None
        rowids, index = self._vectors.get(c, persona)
        if index is not None and vector.shape[0] != index.dimension:
            raise BackendError(
                f"query vector has {vector.shape[0]} dimensions, the store's have {index.dimension}"
            )
        return _Cosines(rowids, index, vector)

    def _context(
        self, c: sqlite3.Connection, persona: str, query: Query, anchors: list[int],
        found: dict[int, list[Any]], where: str, params: list[Any],
    ) -> dict[int, tuple[list[int], list[int]]]:
        """Neighbours of the ``anchors`` (see ``Query.context``); adds them to ``found``."""
        timeline = self._timeline.get(c, persona)
        context = timeline.around(dict.fromkeys(anchors), query.context, query.context_window)
        near = {r for before, after in context.values() for r in (*before, *after)} - found.keys()
        if near and where != _ACTIVE_ONLY:
            allowed = set(self._allowed(c, where, params, list(near)).tolist())
            near &= allowed
            context = {
                rowid: ([r for r in before if r in found or r in allowed], [r for r in after if r in found or r in allowed])
                for rowid, (before, after) in context.items()
            }
        for rowid in near:
            found[rowid] = [None, None, None, None, None, None]
        return context

    def _allowed(
        self, c: sqlite3.Connection, where: str, params: list[Any], among: list[int] | None = None
    ) -> np.ndarray:
        sql = f"SELECT m.rowid FROM memories m WHERE {where}"
        if among is not None:
            sql += f" AND m.rowid IN ({','.join('?' * len(among))})"
            params = [*params, *among]
        return np.asarray([r for (r,) in c.execute(sql, params)], dtype=np.int64)

    def check(self) -> list[str]:
        """``PRAGMA integrity_check`` and the full-text index's own integrity check."""

        def work(c: sqlite3.Connection) -> list[str]:
            problems = [row[0] for row in c.execute("PRAGMA integrity_check") if row[0] != "ok"]
            try:
                c.execute("INSERT INTO memories_fts (memories_fts) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as exc:
                problems.append(f"full-text index: {exc}")
            return problems

        try:
            problems = self._read("check", work)
        except CorruptStoreError as exc:
            return [str(exc)]
        return [self._damaged("; ".join(problems[:5]))] if problems else []

    def compact(self) -> None:
        """Purge deleted content from the file: merge the full-text index, then checkpoint.

        FTS5 (3.40 here, without its 'secure-delete' option) records a delete as a marker
        and keeps the old tokens in earlier segments until they are merged; ``optimize``
        merges every segment into one, and ``secure_delete=ON`` zeroes the pages freed. A
        ``TRUNCATE`` checkpoint then copies the WAL into the main file and empties it, so no
        old page image survives in ``-wal``. Cost: one rewrite of the full-text index
        (grows with the store; not benchmarked yet).
        """
        self._write(
            "compact", lambda c: c.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
        )

        def checkpoint() -> Any:
            with self._translate("compact"):
                return self._conn(for_write=True).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

        busy, _log, _done = self._retry("compact", checkpoint)
        if busy:  # readers in other processes: normal under load, so not a warning
            logger.info(
                "%s: the write-ahead log could not be emptied now (readers active); "
                "it will be at the next forget or checkpoint", self.path
            )
        self._vectors.clear()  # no in-process copy of a forgotten vector stays around

    def touch(self, persona: str, ids: Sequence[str], at: dt.datetime) -> None:
        if not ids:
            return
        marks = ",".join("?" * len(ids))
        self._write(
            "touch",
            lambda c: c.execute(
                f"UPDATE memories SET access_count = access_count + 1, last_accessed = ? "
                f"WHERE +persona = ? AND id IN ({marks})",
                (at.timestamp(), persona, *ids),
            ),
            signal=False,
        )

    def stats(self, persona: str) -> Stats:
        def work(c: sqlite3.Connection) -> Stats:
            total, avg, oldest, newest = c.execute(
                "SELECT count(*), avg(importance), min(created_at), max(created_at) "
                "FROM memories WHERE persona = ? AND superseded_by IS NULL",
                (persona,),
            ).fetchone()
            superseded = c.execute(
                "SELECT count(*) FROM memories WHERE persona = ? AND superseded_by IS NOT NULL",
                (persona,),
            ).fetchone()[0]
            top_tags = c.execute(
                "SELECT t.tag, count(*) AS n FROM memory_tags t "
                "JOIN memories m ON m.rowid = t.memory_rowid "
                "WHERE m.persona = ? AND m.superseded_by IS NULL "
                "GROUP BY t.tag ORDER BY n DESC, t.tag LIMIT 5",
                (persona,),
            ).fetchall()
            by_type = c.execute(
                "SELECT type, count(*) FROM memories WHERE persona = ? AND superseded_by IS NULL "
                "GROUP BY type ORDER BY type",
                (persona,),
            ).fetchall()
            return Stats(
                total=total,
                superseded=superseded,
                top_tags=[(tag, n) for tag, n in top_tags],
                oldest=_epoch(oldest),
                newest=_epoch(newest),
                avg_importance=avg,
                by_type={kind: n for kind, n in by_type},
            )

        return self._read("stats", work, snapshot=True)

    def export(self, persona: str) -> list[MemoryRecord]:
        return self._read(
            "export",
            lambda c: [
                _record(row)
                for row in c.execute(
                    f"SELECT {_COLUMNS} FROM memories WHERE persona = ? ORDER BY created_at, rowid",
                    (persona,),
                )
            ],
        )

    def import_records(self, records: Sequence[MemoryRecord]) -> int:
        def work(c: sqlite3.Connection) -> int:
            added = 0
            for record in records:
                if c.execute("SELECT 1 FROM memories WHERE id = ?", (record.id,)).fetchone():
                    continue
                if record.active and c.execute(
                    "SELECT 1 FROM memories WHERE persona = ? AND content_hash = ? AND superseded_by IS NULL",
                    (record.persona, content_hash(record.content)),
                ).fetchone():
                    continue  # the same memory is already here under another id
                _insert(c, record)
                added += 1
            return added

        return self._write("import", work)

    def set_vectors(self, persona: str, vectors: Mapping[str, Vector]) -> None:
        def work(c: sqlite3.Connection) -> None:
            for memory_id, vector in vectors.items():
                c.execute(
                    "INSERT INTO memory_vectors (memory_rowid, vector) "
                    "SELECT rowid, ? FROM memories WHERE +persona = ? AND id = ? "
                    "ON CONFLICT (memory_rowid) DO UPDATE SET vector = excluded.vector",
                    (to_blob(vector), persona, memory_id),
                )
            bump_epoch(c)

        self._write("reindex", work)

    def missing_vectors(self, persona: str, limit: int) -> list[tuple[str, str]]:
        rows = self._read(
            "reindex",
            lambda c: c.execute(
                "SELECT m.id, m.content FROM memories m "
                "LEFT JOIN memory_vectors v ON v.memory_rowid = m.rowid "
                "WHERE m.persona = ? AND m.superseded_by IS NULL AND v.memory_rowid IS NULL "
                "ORDER BY m.rowid LIMIT ?",
                (persona, limit),
            ).fetchall(),
        )
        return [(row[0], row[1]) for row in rows]

    def clear_vectors(self) -> None:
        def work(c: sqlite3.Connection) -> None:
            c.execute("DELETE FROM memory_vectors")
            bump_epoch(c)

        self._write("reindex", work)

    def get_meta(self, name: str) -> str | None:
        row = self._read(
            "settings", lambda c: c.execute("SELECT value FROM pmem_settings WHERE name = ?", (name,)).fetchone()
        )
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self._write(
            "settings",
            lambda c: c.execute(
                "INSERT INTO pmem_settings (name, value) VALUES (?, ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            ),
        )

    def personas(self) -> list[str]:
        rows = self._read(
            "personas",
            lambda c: c.execute("SELECT DISTINCT persona FROM memories ORDER BY persona").fetchall(),
        )
        return [row[0] for row in rows]


class _Cosines:
    """A query against a persona's vector index (rows in rowid order)."""

    def __init__(self, rowids: np.ndarray, index: VectorIndex | None, vector: Vector) -> None:
        self.rowids = rowids
        self.index = index
        self.vector = vector

    def lookup(self, rowids: list[int]) -> list[float | None]:
        """The cosine of each rowid (None: it has no vector)."""
        if not rowids or self.index is None:
            return [None] * len(rowids)
        wanted = np.asarray(rowids, dtype=np.int64)
        i = np.minimum(np.searchsorted(self.rowids, wanted), len(self.rowids) - 1)
        hit = self.rowids[i] == wanted
        scores = np.zeros(len(wanted), dtype=np.float32)
        if hit.any():
            scores[hit] = self.index.scores(self.vector, i[hit])
        return [float(s) if h else None for s, h in zip(scores.tolist(), hit.tolist(), strict=True)]


class _Busy(Exception):
    """Internal: the store was busy; retried by ``_retry`` until the deadline."""


def _is_permission(exc: sqlite3.Error) -> bool:
    return "readonly" in str(exc).lower() or "permission" in str(exc).lower()


class _DamagedRow(Exception):
    """Internal: a row read back does not parse (bytes changed on disk); becomes CorruptStoreError."""


def _epoch(seconds: float | None) -> dt.datetime | None:
    try:
        return from_epoch(seconds)
    except (OverflowError, OSError, ValueError) as exc:  # a damaged timestamp
        raise _DamagedRow(f"timestamp {seconds!r}: {exc}") from exc


def _record(row: Sequence[Any]) -> MemoryRecord:
    try:
        return _parse_record(row)
    except (ValueError, TypeError, KeyError, OverflowError, OSError) as exc:
        raise _DamagedRow(f"memory {row[0]!r}: {exc}") from exc


def _parse_record(row: Sequence[Any]) -> MemoryRecord:
    return MemoryRecord(
        id=row[0],
        persona=row[1],
        content=row[2],
        type=MemoryType(row[3]),
        tags=tuple(json.loads(row[4])),
        importance=row[5],
        created_at=from_epoch(row[6]),  # type: ignore[arg-type]
        metadata=json.loads(row[7]),
        access_count=row[8],
        last_accessed=from_epoch(row[9]),
        superseded_by=row[10],
        supersedes=row[11],
    )


def _insert(c: sqlite3.Connection, record: MemoryRecord, vector: Vector | None = None) -> None:
    rowid = c.execute(
        f"INSERT INTO memories ({_COLUMNS}, content_hash) VALUES ({','.join('?' * 13)})",
        (
            record.id,
            record.persona,
            record.content,
            record.type.value,
            json.dumps(list(record.tags), ensure_ascii=False),
            record.importance,
            record.created_at.timestamp(),
            json.dumps(record.metadata, ensure_ascii=False),
            record.access_count,
            record.last_accessed.timestamp() if record.last_accessed else None,
            record.superseded_by,
            record.supersedes,
            content_hash(record.content),
        ),
    ).lastrowid
    c.executemany(
        "INSERT INTO memory_tags (memory_rowid, tag) VALUES (?, ?)", [(rowid, t) for t in record.tags]
    )
    if vector is not None:
        c.execute("INSERT INTO memory_vectors (memory_rowid, vector) VALUES (?, ?)", (rowid, to_blob(vector)))


def _insert_or_reinforce(
    c: sqlite3.Connection, record: MemoryRecord, vector: Vector | None = None
) -> tuple[MemoryRecord, bool]:
    row = c.execute(
        f"SELECT rowid, {_COLUMNS} FROM memories "
        "WHERE persona = ? AND content_hash = ? AND superseded_by IS NULL",
        (record.persona, content_hash(record.content)),
    ).fetchone()
    if row is None:
        _insert(c, record, vector)
        return record, True
    rowid, existing = row[0], _record(row[1:])
    merged = reinforced(existing, record)
    assert merged.last_accessed is not None
    c.execute(
        "UPDATE memories SET tags = ?, importance = ?, access_count = access_count + 1, "
        "last_accessed = ? WHERE rowid = ?",
        (
            json.dumps(list(merged.tags), ensure_ascii=False),
            merged.importance,
            merged.last_accessed.timestamp(),
            rowid,
        ),
    )
    c.executemany(
        "INSERT OR IGNORE INTO memory_tags (memory_rowid, tag) VALUES (?, ?)",
        [(rowid, t) for t in merged.tags],
    )
    if vector is not None and c.execute(
        "INSERT OR IGNORE INTO memory_vectors (memory_rowid, vector) VALUES (?, ?)", (rowid, to_blob(vector))
    ).rowcount:
        bump_epoch(c)  # an older row gained a vector: not an append
    return merged, False


def _term_shares(
    c: sqlite3.Connection, persona: str, words: Sequence[str], ids: Iterable[str]
) -> dict[str, float]:
    """For each memory in ``ids``: the IDF-weighted share of ``words`` it contains (0-1).

    An absolute measure of how much of the query a memory answers, unlike BM25, whose scale
    depends on the query and the store. A word no memory contains weighs the most, so a
    question about something never said matches nothing well.
    """
    wanted = set(ids)
    if not words or not wanted:
        return {}
    total = c.execute(f"SELECT count(*) FROM memories m WHERE {_ACTIVE_ONLY}", (persona,)).fetchone()[0]
    rowid_of = {
        row[1]: row[0]
        for row in c.execute(
            f"SELECT rowid, id FROM memories WHERE id IN ({','.join('?' * len(wanted))})", list(wanted)
        )
    }
    marks = ",".join("?" * len(rowid_of))
    weight_sum = 0.0
    got: dict[str, float] = dict.fromkeys(wanted, 0.0)
    id_of = {rowid: memory_id for memory_id, rowid in rowid_of.items()}
    for word in words:
        match = fts5_match(word)
        # document frequency counted by FTS5 itself; membership only among the candidates
        having = c.execute(
            f"SELECT count(*) FROM memories_fts JOIN memories m ON m.rowid = memories_fts.rowid "
            f"WHERE memories_fts MATCH ? AND {_ACTIVE_ONLY}",
            (match, persona),
        ).fetchone()[0]
        weight = math.log(1.0 + (total - having + 0.5) / (having + 0.5))
        weight_sum += weight
        for (rowid,) in c.execute(
            f"SELECT rowid FROM memories_fts WHERE memories_fts MATCH ? AND rowid IN ({marks})",
            (match, *rowid_of.values()),
        ):
            got[id_of[rowid]] += weight
    return {i: (w / weight_sum if weight_sum else 0.0) for i, w in got.items()}


def _filter_sql(persona: str, query: Query) -> tuple[str, list[Any]]:
    f = query.filters
    clauses = ["m.persona = ?", "m.superseded_by IS NULL"]
    params: list[Any] = [persona]
    if f.type is not None:
        clauses.append("m.type = ?")
        params.append(f.type.value)
    if f.since is not None:
        clauses.append("m.created_at >= ?")
        params.append(f.since.timestamp())
    if f.until is not None:
        clauses.append("m.created_at < ?")
        params.append(f.until.timestamp())
    if f.tags:
        marks = ",".join("?" * len(f.tags))
        if f.match_all_tags:
            clauses.append(
                f"(SELECT count(*) FROM memory_tags t WHERE t.memory_rowid = m.rowid "
                f"AND t.tag IN ({marks})) = {len(f.tags)}"
            )
        else:
            clauses.append(
                f"EXISTS (SELECT 1 FROM memory_tags t WHERE t.memory_rowid = m.rowid "
                f"AND t.tag IN ({marks}))"
            )
        params.extend(f.tags)
    return " AND ".join(clauses), params
