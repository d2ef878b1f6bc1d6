"""Storage backends. This module only declares them; nothing here imports a driver.

Each :class:`~persona_memory.registry.BackendSpec` below is also published under the
``persona_memory.backends`` entry-point group, the way a third-party backend registers itself.
"""

from __future__ import annotations

from ..registry import BackendSpec

SQLITE = BackendSpec(
    name="sqlite",
    schemes=("sqlite",),
    sync_cls="persona_memory.backends.sqlite:SQLiteBackend",
    description="one SQLite file in WAL mode (the embedded default)",
    versions=("sqlite3:sqlite_version",),
)

JSONL = BackendSpec(
    name="jsonl",
    schemes=("jsonl",),
    sync_cls="persona_memory.backends.jsonl:JsonlBackend",
    description="OpenPersona's JSON-lines files: <dir>/persona-<slug>/memories.jsonl",
    requires=("filelock",),
    versions=("filelock",),
)

REDIS = BackendSpec(
    name="redis",
    schemes=("redis", "rediss"),
    sync_cls="persona_memory.backends._sync.redis:RedisBackend",
    async_cls="persona_memory.backends._async.redis:AsyncRedisBackend",
    extra="redis",
    description="key-value only: a shared fast tier (namespaced keys, JSON values, TTL)",
    requires=("redis",),
    versions=("redis",),
)

POSTGRES = BackendSpec(
    name="postgres",
    schemes=("postgresql", "postgres"),
    sync_cls="persona_memory.backends._sync.postgres:PostgresBackend",
    async_cls="persona_memory.backends._async.postgres:AsyncPostgresBackend",
    extra="postgres",
    description="PostgreSQL: full-text in tsvector, vectors in pgvector (HNSW), many hosts",
    requires=("psycopg", "psycopg_pool", "pgvector"),
    versions=("psycopg", "psycopg-pool", "pgvector"),
)

BUILTIN: tuple[BackendSpec, ...] = (SQLITE, JSONL, REDIS, POSTGRES)

__all__ = ["BUILTIN", "JSONL", "POSTGRES", "REDIS", "SQLITE"]
