"""The PostgreSQL backend's schema (as migrations) and the SQL it builds. Pure: no I/O.

Shared by the async backend and its generated sync twin. Migrations are applied in order by the
library and recorded in ``pmem_migrations``; a new one is appended, never edited in place.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..models import Query
from ..text import terms

#: ts_rank weights {D, C, B, A}: content is weight A, tags weight B (half, as in the SQLite index)
RANK_WEIGHTS = "{0.1, 0.2, 0.5, 1.0}"
#: ts_rank normalisation 1: divide by 1 + log(length), so long memories do not win by size (as BM25)
RANK_NORMALIZATION = 1
VECTOR_DIMENSION = "vector_dimension"
#: advisory-lock keys (pg_advisory_xact_lock): schema changes, and one persona's version chains
MIGRATION_LOCK = 0x706D656D  # "pmem"

MIGRATIONS: list[tuple[str, str]] = [
    (
        "001_initial",
        """
        CREATE TABLE kv (
            namespace text NOT NULL,
            key text NOT NULL,
            value text NOT NULL,
            expires_at timestamptz,
            PRIMARY KEY (namespace, key)
        );
        CREATE INDEX kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;

        CREATE TABLE pmem_settings (name text PRIMARY KEY, value text NOT NULL);

        -- the text the full-text index sees for the tags (array_to_string is only STABLE)
        CREATE FUNCTION pmem_tags_text(text[]) RETURNS text
            LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT array_to_string($1, ' ') $$;

        CREATE TABLE memories (
            pk bigserial PRIMARY KEY,
            id text NOT NULL UNIQUE,
            persona text NOT NULL,
            content text NOT NULL,
            content_hash text NOT NULL,
            type text NOT NULL,
            tags text[] NOT NULL DEFAULT '{}',
            importance double precision NOT NULL,
            created_at timestamptz NOT NULL,
            metadata jsonb NOT NULL DEFAULT '{}',
            access_count integer NOT NULL DEFAULT 0,
            last_accessed timestamptz,
            superseded_by text,
            supersedes text,
            -- any size; the HNSW index casts to the store's one size (see vector_index_sql)
            embedding vector,
            search tsvector GENERATED ALWAYS AS (
                setweight(to_tsvector('english', content), 'A')
                || setweight(to_tsvector('english', pmem_tags_text(tags)), 'B')
            ) STORED
        );
        -- one active memory per normalised content: a duplicate store reinforces instead
        CREATE UNIQUE INDEX memories_active_content ON memories (persona, content_hash)
            WHERE superseded_by IS NULL;
        CREATE INDEX memories_persona_created ON memories (persona, created_at);
        CREATE INDEX memories_search ON memories USING gin (search);
        CREATE INDEX memories_tags ON memories USING gin (tags);
        CREATE INDEX memories_supersedes ON memories (supersedes) WHERE supersedes IS NOT NULL;
        CREATE INDEX memories_superseded_by ON memories (superseded_by) WHERE superseded_by IS NOT NULL;
        """,
    ),
    (
        "002_timeline",
        """
        -- conversation context walks from a match to its neighbours in time order (created_at, pk);
        -- many memories can share one created_at (an import), so pk is part of the key
        CREATE INDEX memories_timeline ON memories (persona, created_at, pk) WHERE superseded_by IS NULL;
        DROP INDEX memories_persona_created;
        -- room on each page, so that touching a memory (access count) is a HOT update that
        -- leaves the HNSW and GIN indexes alone: 10 touches took 23 ms at 100k memories
        ALTER TABLE memories SET (fillfactor = 80);
        """,
    ),
]

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_MEMORY_COLUMNS = (
    "id, persona, content, type, tags, importance, created_at, metadata, "
    "access_count, last_accessed, superseded_by, supersedes"
)
COLUMNS = ", ".join(f"m.{c}" for c in _MEMORY_COLUMNS.split(", "))
CANDIDATE_COLUMNS = "m.id, m.importance, extract(epoch FROM m.created_at)::float8, m.access_count"
INSERT = (
    f"INSERT INTO memories ({_MEMORY_COLUMNS}, content_hash, embedding) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
)
# Store, or reinforce the active memory with the same content, in one statement: concurrent
# stores of one content from many hosts serialise on the unique index, none is lost or doubled.
UPSERT = (
    INSERT.replace("INSERT INTO memories", "INSERT INTO memories AS m")
    + """
    ON CONFLICT (persona, content_hash) WHERE superseded_by IS NULL DO UPDATE SET
        tags = m.tags || ARRAY(
            SELECT t FROM unnest(excluded.tags) WITH ORDINALITY AS u(t, n)
            WHERE NOT t = ANY(m.tags) ORDER BY n),
        importance = greatest(m.importance, excluded.importance),
        access_count = m.access_count + 1,
        last_accessed = greatest(m.last_accessed, excluded.created_at),
        embedding = coalesce(m.embedding, excluded.embedding)
    RETURNING """
    + COLUMNS
    + ", (xmax = 0) AS created"
)
FAMILY = """
    WITH RECURSIVE family(id) AS (
        SELECT id FROM memories WHERE persona = %s AND id = ANY(%s)
        UNION
        SELECT m.id FROM memories m JOIN family f ON m.supersedes = f.id OR m.superseded_by = f.id
    )
    SELECT id FROM family ORDER BY id
"""


def check_schema(name: str) -> str:
    """A schema name we can put in SQL and in ``search_path`` without quoting."""
    from ..errors import ConfigError

    if not _SCHEMA_NAME.fullmatch(name):
        raise ConfigError(
            f"invalid schema={name!r}: use lowercase letters, digits and '_' (at most 63, not starting with a digit)"
        )
    return name


#: Document counts for the IDF weights stop here: a word in more memories than this weighs ~0.
DF_CAP = 10_000
#: With a query vector, a word in more memories than this is scored, never matched on (see _weigh).
MATCH_MAX = 5_000
#: From this many active memories, counts for IDF are reused for COUNT_TTL seconds.
CACHED_FROM = 10_000
COUNT_TTL = 300.0
COUNT_ACTIVE = "SELECT count(*) FROM memories WHERE persona = %s AND superseded_by IS NULL"
COUNT_HOLDING = (
    "SELECT count(*) FROM (SELECT 1 FROM memories WHERE persona = %s AND superseded_by IS NULL "
    "AND search @@ to_tsquery('english', %s) LIMIT %s) hits"
)


def words(text: str) -> list[str]:
    """The query's search words, each a quoted ``to_tsquery`` operand (never query syntax).

    Words are ``\\w+``, so they hold no quote: ``&``, ``!``, ``:*`` typed by a user stay words.
    """
    return ["'" + word + "'" for word in terms(text)]


def any_of(quoted: list[str]) -> str:
    """A ``to_tsquery`` expression matching any of the words."""
    return " | ".join(quoted)


def idf(total: int, df: int) -> float:
    """BM25's inverse document frequency (never negative)."""
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def text_score(n_words: int) -> str:
    """SQL for a memory's (``m``) text score: each word's ``ts_rank`` times its IDF weight.

    Its parameters, in order: ``score_params(words, weights)``.
    """
    return " + ".join(
        f"%s * ts_rank('{RANK_WEIGHTS}', m.search, to_tsquery('english', %s), {RANK_NORMALIZATION})"
        for _ in range(n_words)
    )


def score_params(words: list[str], weights: list[float]) -> list[Any]:
    return [value for pair in zip(weights, words, strict=True) for value in pair]


def filter_sql(persona: str, query: Query) -> tuple[str, list[Any]]:
    """The WHERE clause (on ``memories m``) for the active memories ``query`` may return."""
    f = query.filters
    clauses = ["m.persona = %s", "m.superseded_by IS NULL"]
    params: list[Any] = [persona]
    if f.type is not None:
        clauses.append("m.type = %s")
        params.append(f.type.value)
    if f.since is not None:
        clauses.append("m.created_at >= %s")
        params.append(f.since)
    if f.until is not None:
        clauses.append("m.created_at < %s")
        params.append(f.until)
    if f.tags:
        clauses.append("m.tags @> %s" if f.match_all_tags else "m.tags && %s")
        params.append(list(f.tags))
    return " AND ".join(clauses), params


def vector_index_sql(dimension: int) -> str:
    """The HNSW index (cosine) over the active memories' vectors of one size.

    An expression index on ``embedding::vector(n)``: the column itself takes any size, so a
    re-index with another embedder needs no table rewrite, and a vector of the wrong size is
    refused by the index when it is written.
    """
    return (
        f"CREATE INDEX IF NOT EXISTS memories_embedding_{dimension} ON memories "
        f"USING hnsw ((embedding::vector({dimension})) vector_cosine_ops) WHERE superseded_by IS NULL"
    )
