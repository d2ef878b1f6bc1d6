"""PostgreSQL: key-value and persona memories for many hosts on one database (``[postgres]`` extra).

``postgresql://user[:password]@host[:port]/dbname`` plus our own options ``?schema=`` (default
``public``; one schema per application or tenant), ``pool_size=`` (default 4), ``ef_search=`` (HNSW
search breadth; default 4 x the candidates a search asks for, raise it for recall past 1M memories) and ``timeout=``
(seconds to wait for a connection, default 30); every other option goes to libpq. Needs
PostgreSQL 12 or later with the pgvector extension available (the library runs
``CREATE EXTENSION IF NOT EXISTS vector``, or a DBA does it once).

* **Schema**: created and migrated by the library, under an advisory lock so that many hosts
  starting at once migrate once; applied migrations are recorded in ``pmem_migrations``.
* **Durable on return**: every write is one transaction, committed before the call returns.
* **Many hosts**: a store is one ``INSERT ... ON CONFLICT`` on a unique index of the active
  memories' normalised content, so concurrent stores of one content reinforce one row (no
  duplicate, no lost reinforcement); updates and forgets of one persona take a transaction-level
  advisory lock, so version chains never interleave; rows are locked in id order.
* **Search**: full-text in a generated ``tsvector`` column (English stemming, GIN index) ranked
  by ``ts_rank`` in the database; vectors in a pgvector column with an HNSW cosine index over the
  active memories (``hnsw.iterative_scan`` where pgvector has it, so filters still fill ``k``).
  There is no client-side cache: every read sees every host's committed writes.
* **Connections**: a ``psycopg_pool`` pool, opened on first use, one per process and event loop.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import time
from collections.abc import AsyncIterator, Generator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from typing import Any

import numpy as np
import psycopg
import psycopg.errors
from pgvector.psycopg import register_vector_async
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from psycopg_pool import AsyncConnectionPool, PoolTimeout

from ... import signals
from ...errors import (
    BackendError,
    BackendUnavailableError,
    ConfigError,
    MemoryNotFoundError,
    StorageFullError,
    StoreBusyError,
    StoreReadOnlyError,
)
from ...models import Candidate, MemoryRecord, MemoryType, Query, Stats, Vector
from ...records import TOP_TAGS
from ...text import common_word_cap
from ...validation import content_hash
from .. import postgres_sql as sql
from ..process import ABANDONED, owner
from ..urls import positive_number, redacted, split_options
from .base import AsyncBackend

DEFAULT_POOL_SIZE = 4
DEFAULT_TIMEOUT = 30.0


class AsyncPostgresBackend(AsyncBackend):
    """Key-value entries and persona memories in PostgreSQL (with pgvector)."""

    name = "postgres"
    supports_vectors = True
    supports_context = True
    url_options = ()

    def __init__(
        self, dsn: str, *, schema: str = "public", pool_size: int = DEFAULT_POOL_SIZE,
        timeout: float = DEFAULT_TIMEOUT, ef_search: int | None = None,
    ) -> None:
        self._dsn = dsn
        self.schema = sql.check_schema(schema)
        self.pool_size = pool_size
        self.ef_search = ef_search  # None: 4 x the candidates asked for (see _nearest)
        self.timeout = timeout
        self.url = redacted(dsn) + ("" if schema == "public" else f" schema={schema}")
        self._pool: AsyncConnectionPool | None = None
        self._owner: tuple[int, int] | None = None
        self._ready = False
        self._iterative_scan = False
        self._counts: dict[tuple[str, str | None], tuple[int, float]] = {}  # see _count

    @classmethod
    def from_url(cls, url: str, **options: Any) -> AsyncPostgresBackend:
        """``postgresql://user@host/db?schema=public&pool_size=4&timeout=30&ef_search=200``
        (other options go to libpq)."""
        dsn, ours = split_options(url, ("schema", "pool_size", "timeout", "ef_search"))
        if dsn.startswith("postgres://"):
            dsn = "postgresql://" + dsn[len("postgres://") :]
        pool_size = DEFAULT_POOL_SIZE
        if "pool_size" in ours:
            pool_size = int(positive_number("pool_size", ours["pool_size"], url))
        timeout = positive_number("timeout", ours["timeout"], url) if "timeout" in ours else DEFAULT_TIMEOUT
        ef_search = int(positive_number("ef_search", ours["ef_search"], url)) if "ef_search" in ours else None
        return cls(dsn, schema=ours.get("schema", "public"), pool_size=pool_size, timeout=timeout, ef_search=ef_search)

    def __getstate__(self) -> dict[str, Any]:
        return {
            "dsn": self._dsn, "schema": self.schema, "pool_size": self.pool_size, "timeout": self.timeout,
            "ef_search": self.ef_search,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["dsn"], schema=state["schema"], pool_size=state["pool_size"], timeout=state["timeout"],
            ef_search=state.get("ef_search"),
        )

    # ---- connections, schema, errors ----

    async def _connection_pool(self) -> AsyncConnectionPool:
        current = owner()
        if self._pool is None or self._owner != current:
            if self._pool is not None:
                ABANDONED.append(self._pool)  # another process or event loop owns it
            self._pool = AsyncConnectionPool(
                self._dsn,
                min_size=1,
                max_size=self.pool_size,
                timeout=self.timeout,
                open=False,
                configure=self._configure,
                kwargs={"autocommit": True, "options": f"-c search_path={self.schema},public"},
                name=f"persona-memory {self.url}",
            )
            self._owner = current
            self._ready = False
        pool = self._pool
        if not self._ready:  # idempotent, so concurrent first calls may both run it
            await self._migrate()
            await pool.open(wait=True, timeout=self.timeout)
            self._ready = True
        return pool

    async def _configure(self, conn: AsyncConnection[Any]) -> None:
        await register_vector_async(conn)

    async def _migrate(self) -> None:
        """Create the schema and apply the missing migrations, once across every host."""
        # errors are translated by the caller (_transaction)
        conn = await AsyncConnection.connect(
            self._dsn, autocommit=True, connect_timeout=max(1, round(self.timeout))
        )
        async with conn:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.MIGRATION_LOCK,))
                await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self.schema}")
                await conn.execute(f"SET LOCAL search_path TO {self.schema}, public")
                if not await (
                    await conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'")
                ).fetchone():
                    await conn.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS pmem_migrations "
                    "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                applied = {row[0] for row in await (await conn.execute("SELECT name FROM pmem_migrations")).fetchall()}
                known = {name for name, _ in sql.MIGRATIONS}
                if applied - known:
                    raise ConfigError(
                        f"{self.url} was migrated by a newer persona-memory ({sorted(applied - known)}); "
                        "upgrade persona-memory"
                    )
                for name, script in sql.MIGRATIONS:
                    if name not in applied:
                        await conn.execute(script)
                        await conn.execute("INSERT INTO pmem_migrations (name) VALUES (%s)", (name,))
            row = await (await conn.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")).fetchone()
        # pgvector >= 0.8 can keep scanning the HNSW index until k rows pass the filters
        self._iterative_scan = row is not None and tuple(int(p) for p in str(row[0]).split(".")[:2]) >= (0, 8)

    @contextlib.contextmanager
    def _translate(self, operation: str, *, signal: bool = True) -> Generator[None, None, None]:
        """Map psycopg errors to ours (the password never appears in a message)."""
        try:
            yield
        except PoolTimeout as exc:
            raise StoreBusyError(
                f"{operation} on {self.url}: no connection free within {self.timeout:g} s "
                "(the server may be down, or the pool too small)"
            ) from exc
        except psycopg.errors.DiskFull as exc:
            error: BackendError = StorageFullError(
                f"{operation} on {self.url}: the database disk is full; everything stored before is intact"
            )
            if signal:
                signals.emit(signals.RESOURCE_LIMIT, store=self.url, error=error, operation=operation)
            raise error from exc
        except psycopg.errors.ReadOnlySqlTransaction as exc:
            error = StoreReadOnlyError(f"{operation} on {self.url}: the server is read-only ({exc})")
            if signal:
                signals.emit(signals.RESOURCE_LIMIT, store=self.url, error=error, operation=operation)
            raise error from exc
        except (psycopg.errors.LockNotAvailable, psycopg.errors.QueryCanceled, psycopg.errors.DeadlockDetected) as exc:
            raise StoreBusyError(f"{operation} on {self.url}: other writers held it too long ({exc})") from exc
        except psycopg.errors.InsufficientPrivilege as exc:
            raise BackendError(f"{operation} on {self.url}: permission denied ({exc})") from exc
        except psycopg.errors.DataException as exc:
            if "dimensions" in str(exc):
                raise BackendError(
                    f"{operation} on {self.url}: vectors of different dimensions ({exc}); run `pmem reindex`"
                ) from exc
            raise BackendError(f"{operation} on {self.url} failed: {exc}") from exc
        except psycopg.OperationalError as exc:
            raise BackendUnavailableError(f"{operation}: cannot reach PostgreSQL at {self.url} ({exc})") from exc
        except psycopg.Error as exc:
            raise BackendError(f"{operation} on {self.url} failed: {exc}") from exc

    @asynccontextmanager
    async def _transaction(self, operation: str, *, signal: bool = True) -> AsyncIterator[AsyncConnection[Any]]:
        """One transaction, committed (durable) when the block ends without error."""
        with self._translate(operation, signal=signal):
            pool = await self._connection_pool()
            async with pool.connection() as conn, conn.transaction():
                yield conn

    async def _fetch(self, operation: str, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        async with self._transaction(operation) as conn:
            return await (await conn.execute(query, params)).fetchall()

    async def aclose(self) -> None:
        pool, self._pool = self._pool, None
        self._ready = False
        if pool is not None and self._owner == owner():
            await pool.close()

    # ---- key-value ----

    async def kv_get(self, namespace: str, key: str) -> str | None:
        rows = await self._fetch(
            "get",
            "SELECT value FROM kv WHERE namespace = %s AND key = %s AND (expires_at IS NULL OR expires_at > now())",
            (namespace, key),
        )
        return str(rows[0][0]) if rows else None

    async def kv_put(self, namespace: str, key: str, value: str, ttl: float | None = None) -> None:
        async with self._transaction("put") as conn:
            await conn.execute(
                "INSERT INTO kv (namespace, key, value, expires_at) "
                "VALUES (%s, %s, %s, now() + %s * interval '1 second') "
                "ON CONFLICT (namespace, key) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at",
                (namespace, key, value, ttl),
            )
            # expired entries are invisible; this keeps them from piling up
            await conn.execute(
                "DELETE FROM kv WHERE namespace = %s AND expires_at <= now() - interval '1 minute'", (namespace,)
            )

    async def kv_delete(self, namespace: str, key: str) -> bool:
        rows = await self._fetch(
            "delete",
            "DELETE FROM kv WHERE namespace = %s AND key = %s RETURNING expires_at IS NULL OR expires_at > now()",
            (namespace, key),
        )
        return bool(rows and rows[0][0])

    async def kv_keys(self, namespace: str) -> list[str]:
        rows = await self._fetch(
            "keys",
            "SELECT key FROM kv WHERE namespace = %s AND (expires_at IS NULL OR expires_at > now()) "
            'ORDER BY key COLLATE "C"',
            (namespace,),
        )
        return [row[0] for row in rows]

    # ---- persona memories ----

    async def _check_dimension(self, conn: AsyncConnection[Any], vectors: Sequence[Vector]) -> None:
        """Vectors of one store have one size; the first one fixes it and creates its HNSW index."""
        sizes = {int(v.shape[0]) for v in vectors}
        if not sizes:
            return
        if len(sizes) > 1:
            raise BackendError(f"vectors of different dimensions in one call: {sorted(sizes)}")
        (size,) = sizes
        stored = await self._dimension(conn)
        if stored is None:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.MIGRATION_LOCK,))
            stored = await self._dimension(conn)
            if stored is None:
                await conn.execute(sql.vector_index_sql(size))
                await conn.execute(
                    "INSERT INTO pmem_settings (name, value) VALUES (%s, %s)", (sql.VECTOR_DIMENSION, str(size))
                )
                stored = size
        if stored != size:
            raise BackendError(
                f"vectors of different dimensions in one store ({stored} and {size}): run `pmem reindex`"
            )

    async def _dimension(self, conn: AsyncConnection[Any]) -> int | None:
        row = await (
            await conn.execute("SELECT value FROM pmem_settings WHERE name = %s", (sql.VECTOR_DIMENSION,))
        ).fetchone()
        return None if row is None else int(row[0])

    async def _upsert(
        self, conn: AsyncConnection[Any], record: MemoryRecord, vector: Vector | None
    ) -> tuple[MemoryRecord, bool]:
        if vector is not None:
            await self._check_dimension(conn, [vector])
        row = await (await conn.execute(sql.UPSERT, _insert_params(record, vector))).fetchone()
        assert row is not None
        return _record(row[:-1]), bool(row[-1])

    async def add(self, record: MemoryRecord, vector: Vector | None = None) -> tuple[MemoryRecord, bool]:
        async with self._transaction("store") as conn:
            return await self._upsert(conn, record, vector)

    async def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        if not ids:
            return []
        rows = await self._fetch(
            "get", f"SELECT {sql.COLUMNS} FROM memories m WHERE m.persona = %s AND m.id = ANY(%s)", (persona, list(ids))
        )
        by_id = {row[0]: _record(row) for row in rows}
        return [by_id[i] for i in ids if i in by_id]

    async def supersede(
        self, persona: str, old_id: str, new: MemoryRecord, vector: Vector | None = None
    ) -> MemoryRecord:
        async with self._transaction("update") as conn:
            await self._lock_persona(conn, persona)
            retired = await (
                await conn.execute(
                    "UPDATE memories SET superseded_by = %s "
                    "WHERE persona = %s AND id = %s AND superseded_by IS NULL RETURNING pk",
                    (new.id, persona, old_id),
                )
            ).fetchone()
            if retired is None:
                raise MemoryNotFoundError(old_id, persona)
            stored, created = await self._upsert(conn, new, vector)
            if not created:  # the new content already existed as another memory: it is the new version
                await conn.execute("UPDATE memories SET superseded_by = %s WHERE pk = %s", (stored.id, retired[0]))
            return stored

    async def _lock_persona(self, conn: AsyncConnection[Any], persona: str) -> None:
        # version chains of one persona change one transaction at a time (any host)
        await conn.execute("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (sql.MIGRATION_LOCK, persona))

    async def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        if not ids:
            return []
        async with self._transaction("forget") as conn:
            await self._lock_persona(conn, persona)
            family = [row[0] for row in await (await conn.execute(sql.FAMILY, (persona, list(ids)))).fetchall()]
            if family:
                await conn.execute("SELECT 1 FROM memories WHERE id = ANY(%s) ORDER BY id FOR UPDATE", (family,))
                await conn.execute("DELETE FROM memories WHERE id = ANY(%s)", (family,))
            return family

    async def candidates(self, persona: str, query: Query) -> list[Candidate]:
        where, params = sql.filter_sql(persona, query)
        if query.text is None and query.vector is None:
            rows = await self._fetch(
                "retrieve", f"SELECT {sql.CANDIDATE_COLUMNS}, NULL, NULL FROM memories m WHERE {where}", params
            )
            return [Candidate(*row) for row in rows]
        found: dict[str, Candidate] = {}
        anchors: list[str] = []  # best text matches, then best vector matches
        async with self._transaction("search") as conn:
            words = sql.words(query.text) if query.text is not None else []
            weights, matched = await self._weigh(conn, persona, words, query.vector is not None)
            if matched:
                rows = await self._text_matches(conn, words, weights, matched, query.k, where, params)
                found = {row[0]: Candidate(*row) for row in rows}
                anchors += [row[0] for row in rows[: query.context_anchors]]
            if query.vector is not None:
                nearest = await self._nearest(conn, query, where, params)
                anchors += [c.id for c in nearest[: query.context_anchors]]
                for candidate in nearest:
                    hit = found.get(candidate.id)
                    found[candidate.id] = replace(hit, vector_score=candidate.vector_score) if hit else candidate
            if query.context > 0 and anchors:
                await self._add_context(conn, query, where, params, list(dict.fromkeys(anchors)), found)
            if query.vector is not None:  # every candidate carries its cosine, matches by text too
                await self._add_cosines(conn, persona, query.vector, found)
            if words and not matched:  # every word too common to match on: score what was found
                await self._add_text_scores(conn, persona, words, weights, found)
        return list(found.values())

    async def _weigh(
        self, conn: AsyncConnection[Any], persona: str, words: list[str], has_vector: bool
    ) -> tuple[list[float], list[str]]:
        """Each word's IDF weight, and the words to match on.

        ``ts_rank`` alone weighs every word the same (it has no inverse document frequency), so
        "the user" counts as much as "vegetarian": measured on LoCoMo, R@10 0.53 against 0.63
        for SQLite's BM25. So each word's ``ts_rank`` is weighted by its IDF among the persona's
        active memories. As in SQLite, a word in many memories (``text.common_word_cap``) is
        not matched on while rarer words remain, only scored. Matching costs PostgreSQL a heap
        fetch per memory holding the word (~0.4 s for 40k at 1M memories), so when the query
        also has a vector, a word in more than ``sql.MATCH_MAX`` memories is never matched on;
        if no word is left, the vector side finds the candidates and the words score them. Stores
        under ``MATCH_MAX`` memories (LoCoMo's are under 700) search exactly as SQLite does.
        """
        if not words:
            return [], []
        total = await self._count(conn, persona, None, None)
        cap = common_word_cap(total)
        counts = [await self._count(conn, persona, word, max(sql.DF_CAP, (cap or 0) + 1)) for word in words]
        weights = [sql.idf(total, df) for df in counts]
        if cap is None:
            return weights, words
        def held_by_at_most(limit: int) -> list[str]:
            return [w for w, df in zip(words, counts, strict=True) if df <= limit]

        if not has_vector:  # nothing else to search with: all words when none is rarer
            return weights, held_by_at_most(cap) or words
        # all common: still matched while that is cheap, else only scored
        return weights, held_by_at_most(min(cap, sql.MATCH_MAX)) or held_by_at_most(sql.MATCH_MAX)

    async def _text_matches(
        self, conn: AsyncConnection[Any], words: list[str], weights: list[float], matched: list[str],
        k: int, where: str, params: list[Any],
    ) -> list[tuple[Any, ...]]:
        """The ``k`` best memories holding any of the ``matched`` words, best first, scored
        over all the ``words`` like BM25 (see ``_weigh``)."""
        return await (
            await conn.execute(
                f"SELECT {sql.CANDIDATE_COLUMNS}, ({sql.text_score(len(words))})::float8 AS score, NULL "
                f"FROM memories m WHERE m.search @@ to_tsquery('english', %s) AND {where} "
                f"ORDER BY score DESC LIMIT %s",
                [*sql.score_params(words, weights), sql.any_of(matched), *params, k],
            )
        ).fetchall()

    async def _add_text_scores(
        self, conn: AsyncConnection[Any], persona: str, words: list[str], weights: list[float],
        found: dict[str, Candidate],
    ) -> None:
        if not found:
            return
        rows = await (
            await conn.execute(
                f"SELECT m.id, ({sql.text_score(len(words))})::float8 FROM memories m "
                f"WHERE m.persona = %s AND m.id = ANY(%s) AND m.search @@ to_tsquery('english', %s)",
                [*sql.score_params(words, weights), persona, list(found), sql.any_of(words)],
            )
        ).fetchall()
        for memory_id, score in rows:
            found[memory_id] = replace(found[memory_id], text_score=score)

    async def _count(self, conn: AsyncConnection[Any], persona: str, word: str | None, cap: int | None) -> int:
        """The persona's active memories (``word`` None), or those holding ``word`` (up to ``cap``).

        Counting costs ~15-40 ms at 100k memories, so in a store that large a count is reused
        for ``sql.COUNT_TTL`` seconds: IDF weights move slowly. Smaller stores count every time.
        """
        key = (persona, word)
        known = self._counts.get(key)
        now = time.monotonic()
        if known is not None and now - known[1] < sql.COUNT_TTL:
            return known[0]
        if word is None:
            cursor = await conn.execute(sql.COUNT_ACTIVE, (persona,))
        else:
            cursor = await conn.execute(sql.COUNT_HOLDING, (persona, word, cap))
        count = int((await cursor.fetchone() or (0,))[0])
        if count >= sql.CACHED_FROM or (word is not None and (persona, None) in self._counts):
            if len(self._counts) > 10_000:
                self._counts.clear()
            self._counts[key] = (count, now)
        return count

    async def _add_context(
        self, conn: AsyncConnection[Any], query: Query, where: str, params: list[Any],
        anchors: list[str], found: dict[str, Candidate],
    ) -> None:
        """The memories stored just before and after each anchor (see ``Query.context``)."""
        sides = []
        # each side is a short walk along the memories_timeline index from the anchor
        for side, compare, bound, order in (
            ("before", "<", ">= a.created_at -", "DESC"),
            ("after", ">", "<= a.created_at +", "ASC"),
        ):
            sides.append(
                f"SELECT a.id, '{side}', n.* FROM memories a CROSS JOIN LATERAL ("
                f"SELECT {sql.CANDIDATE_COLUMNS} FROM memories m WHERE {where} "
                f"AND (m.created_at, m.pk) {compare} (a.created_at, a.pk) "
                f"AND m.created_at {bound} make_interval(secs => %s) "
                f"ORDER BY m.created_at {order}, m.pk {order} LIMIT %s) n "
                f"WHERE a.id = ANY(%s)"
            )
        rows = await (
            await conn.execute(
                " UNION ALL ".join(sides),
                [*params, query.context_window, query.context, anchors] * 2,
            )
        ).fetchall()
        near: dict[str, dict[str, list[str]]] = {}
        for anchor, side, memory_id, importance, created, accesses in rows:
            near.setdefault(anchor, {"before": [], "after": []})[side].append(memory_id)
            if memory_id not in found:
                found[memory_id] = Candidate(memory_id, importance, created, accesses)
        for anchor, sides_of in near.items():
            if anchor in found:
                found[anchor] = replace(found[anchor], before=tuple(sides_of["before"]), after=tuple(sides_of["after"]))

    async def _add_cosines(
        self, conn: AsyncConnection[Any], persona: str, vector: Vector, found: dict[str, Candidate]
    ) -> None:
        lacking = [i for i, c in found.items() if c.vector_score is None]
        if not lacking:
            return
        size = int(vector.shape[0])
        rows = await (
            await conn.execute(
                f"SELECT id, (1 - (embedding::vector({size}) <=> %s::vector({size})))::float8 FROM memories "
                f"WHERE persona = %s AND id = ANY(%s) AND embedding IS NOT NULL",
                [np.asarray(vector, dtype=np.float32), persona, lacking],
            )
        ).fetchall()
        for memory_id, cosine in rows:
            found[memory_id] = replace(found[memory_id], vector_score=cosine)

    async def _nearest(
        self, conn: AsyncConnection[Any], query: Query, where: str, params: list[Any]
    ) -> list[Candidate]:
        assert query.vector is not None
        size = int(query.vector.shape[0])
        # the expression matches the HNSW index's, so the planner can use it
        distance = f"m.embedding::vector({size}) <=> %s::vector({size})"
        # 4 x k: with the shipped embedder at 100k memories, recall@10 against exact search was
        # 0.91 at 2 x k and 0.97 at 4 x k, for the same time; at 1M, 0.87 (ef_search=800: 0.97)
        ef_search = self.ef_search or max(40, min(1000, 4 * query.k))
        await conn.execute(f"SET LOCAL hnsw.ef_search = {ef_search}")
        if self._iterative_scan:
            await conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
        vector = np.asarray(query.vector, dtype=np.float32)
        rows = await (
            await conn.execute(
                f"SELECT {sql.CANDIDATE_COLUMNS}, NULL, (1 - ({distance}))::float8 "
                f"FROM memories m WHERE m.embedding IS NOT NULL AND {where} "
                f"ORDER BY {distance} LIMIT %s",
                [vector, *params, vector, query.k],
            )
        ).fetchall()
        return [Candidate(*row) for row in rows]

    async def touch(self, persona: str, ids: Sequence[str], at: dt.datetime) -> None:
        if not ids:
            return
        async with self._transaction("touch", signal=False) as conn:
            # rows locked in id order: two hosts touching overlapping sets never deadlock
            await conn.execute(
                "SELECT 1 FROM memories WHERE persona = %s AND id = ANY(%s) ORDER BY id FOR UPDATE",
                (persona, sorted(set(ids))),
            )
            await conn.execute(
                "UPDATE memories SET access_count = access_count + 1, last_accessed = %s "
                "WHERE persona = %s AND id = ANY(%s)",
                (at, persona, list(ids)),
            )

    async def stats(self, persona: str) -> Stats:
        async with self._transaction("stats") as conn:
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")  # one snapshot
            total, avg, oldest, newest, superseded = (
                await (
                    await conn.execute(
                        "SELECT count(*) FILTER (WHERE superseded_by IS NULL), "
                        "avg(importance) FILTER (WHERE superseded_by IS NULL), "
                        "min(created_at) FILTER (WHERE superseded_by IS NULL), "
                        "max(created_at) FILTER (WHERE superseded_by IS NULL), "
                        "count(*) FILTER (WHERE superseded_by IS NOT NULL) "
                        "FROM memories WHERE persona = %s",
                        (persona,),
                    )
                ).fetchone()
                or (0, None, None, None, 0)
            )
            top_tags = await (
                await conn.execute(
                    "SELECT tag, count(*) AS n FROM memories, unnest(tags) AS tag "
                    "WHERE persona = %s AND superseded_by IS NULL "
                    'GROUP BY tag ORDER BY n DESC, tag COLLATE "C" LIMIT %s',
                    (persona, TOP_TAGS),
                )
            ).fetchall()
            by_type = await (
                await conn.execute(
                    "SELECT type, count(*) FROM memories WHERE persona = %s AND superseded_by IS NULL "
                    'GROUP BY type ORDER BY type COLLATE "C"',
                    (persona,),
                )
            ).fetchall()
        return Stats(
            total=total,
            superseded=superseded,
            top_tags=[(tag, n) for tag, n in top_tags],
            oldest=oldest,
            newest=newest,
            avg_importance=None if avg is None else float(avg),
            by_type={kind: n for kind, n in by_type},
        )

    async def export(self, persona: str) -> list[MemoryRecord]:
        rows = await self._fetch(
            "export", f"SELECT {sql.COLUMNS} FROM memories m WHERE m.persona = %s ORDER BY m.created_at, m.pk", (persona,)
        )
        return [_record(row) for row in rows]

    async def import_records(self, records: Sequence[MemoryRecord]) -> int:
        added = 0
        async with self._transaction("import") as conn:
            for record in records:
                cursor = await conn.execute(
                    sql.INSERT + " ON CONFLICT DO NOTHING",  # the same id, or the same active content
                    _insert_params(record, None),
                )
                added += cursor.rowcount
        return added

    async def personas(self) -> list[str]:
        rows = await self._fetch("personas", 'SELECT DISTINCT persona COLLATE "C" AS p FROM memories ORDER BY p')
        return [row[0] for row in rows]

    # ---- vectors and settings ----

    async def set_vectors(self, persona: str, vectors: Mapping[str, Vector]) -> None:
        if not vectors:
            return
        async with self._transaction("reindex") as conn:
            await self._check_dimension(conn, list(vectors.values()))
            for memory_id, vector in vectors.items():
                await conn.execute(
                    "UPDATE memories SET embedding = %s WHERE persona = %s AND id = %s",
                    (np.asarray(vector, dtype=np.float32), persona, memory_id),
                )

    async def missing_vectors(self, persona: str, limit: int) -> list[tuple[str, str]]:
        rows = await self._fetch(
            "reindex",
            "SELECT id, content FROM memories WHERE persona = %s AND superseded_by IS NULL "
            "AND embedding IS NULL ORDER BY pk LIMIT %s",
            (persona, limit),
        )
        return [(row[0], row[1]) for row in rows]

    async def clear_vectors(self) -> None:
        async with self._transaction("reindex") as conn:
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (sql.MIGRATION_LOCK,))
            indexes = await (
                await conn.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = 'memories' "
                    "AND indexname LIKE 'memories\\_embedding\\_%%'",
                    (self.schema,),
                )
            ).fetchall()
            for (index,) in indexes:
                await conn.execute(f'DROP INDEX "{index}"')
            await conn.execute("UPDATE memories SET embedding = NULL WHERE embedding IS NOT NULL")
            await conn.execute("DELETE FROM pmem_settings WHERE name = %s", (sql.VECTOR_DIMENSION,))

    async def get_meta(self, name: str) -> str | None:
        rows = await self._fetch("settings", "SELECT value FROM pmem_settings WHERE name = %s", (name,))
        return str(rows[0][0]) if rows else None

    async def set_meta(self, name: str, value: str) -> None:
        async with self._transaction("settings") as conn:
            await conn.execute(
                "INSERT INTO pmem_settings (name, value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (name, value),
            )


def _insert_params(record: MemoryRecord, vector: Vector | None) -> tuple[Any, ...]:
    return (
        record.id,
        record.persona,
        record.content,
        record.type.value,
        list(record.tags),
        record.importance,
        record.created_at,
        Jsonb(record.metadata, dumps=_dumps),
        record.access_count,
        record.last_accessed,
        record.superseded_by,
        record.supersedes,
        content_hash(record.content),
        None if vector is None else np.asarray(vector, dtype=np.float32),
    )


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _record(row: Sequence[Any]) -> MemoryRecord:
    return MemoryRecord(
        id=row[0],
        persona=row[1],
        content=row[2],
        type=MemoryType(row[3]),
        tags=tuple(row[4]),
        importance=float(row[5]),
        created_at=row[6].astimezone(dt.UTC),
        metadata=row[7],
        access_count=row[8],
        last_accessed=None if row[9] is None else row[9].astimezone(dt.UTC),
        superseded_by=row[10],
        supersedes=row[11],
    )
