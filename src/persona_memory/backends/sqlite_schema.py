"""The SQLite schema, as an ordered list of migrations.

``PRAGMA user_version`` counts the migrations a file has had; the missing ones are applied in
one write transaction when a connection opens. A new migration is appended, never edited in place.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(function: Migration) -> Migration:
    MIGRATIONS.append((function.__name__, function))
    return function


def run_script(conn: sqlite3.Connection, script: str) -> None:
    """Run several statements inside the caller's transaction.

    ``Connection.executescript`` would commit the open transaction first, so statements are
    split with ``sqlite3.complete_statement`` (which understands trigger bodies) and run one by one.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement!r}")


@migration
def m001_initial(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        CREATE TABLE kv (
            namespace TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            expires_at REAL,
            PRIMARY KEY (namespace, key)
        ) WITHOUT ROWID;

        CREATE TABLE memories (
            rowid INTEGER PRIMARY KEY,
            id TEXT NOT NULL UNIQUE,
            persona TEXT NOT NULL,
            content TEXT NOT NULL,
            content_hash TEXT NOT NULL,
            type TEXT NOT NULL,
            tags TEXT NOT NULL DEFAULT '[]',
            importance REAL NOT NULL,
            created_at REAL NOT NULL,
            metadata TEXT NOT NULL DEFAULT '{}',
            access_count INTEGER NOT NULL DEFAULT 0,
            last_accessed REAL,
            superseded_by TEXT,
            supersedes TEXT
        );
        -- one active memory per normalised content: duplicates reinforce instead
        CREATE UNIQUE INDEX memories_active_content
            ON memories (persona, content_hash) WHERE superseded_by IS NULL;
        CREATE INDEX memories_persona_created ON memories (persona, created_at);
        CREATE INDEX memories_supersedes ON memories (supersedes) WHERE supersedes IS NOT NULL;
        CREATE INDEX memories_superseded_by ON memories (superseded_by)
            WHERE superseded_by IS NOT NULL;

        CREATE TABLE memory_tags (
            memory_rowid INTEGER NOT NULL REFERENCES memories (rowid) ON DELETE CASCADE,
            tag TEXT NOT NULL,
            PRIMARY KEY (tag, memory_rowid)
        ) WITHOUT ROWID;
        CREATE INDEX memory_tags_rowid ON memory_tags (memory_rowid);

        -- full-text index over content and tags; porter stemming, any script
        CREATE VIRTUAL TABLE memories_fts USING fts5 (
            content, tags,
            content = 'memories', content_rowid = 'rowid',
            tokenize = 'porter unicode61 remove_diacritics 2'
        );
        CREATE TRIGGER memories_fts_insert AFTER INSERT ON memories BEGIN
            INSERT INTO memories_fts (rowid, content, tags) VALUES (new.rowid, new.content, new.tags);
        END;
        CREATE TRIGGER memories_fts_delete AFTER DELETE ON memories BEGIN
            INSERT INTO memories_fts (memories_fts, rowid, content, tags)
                VALUES ('delete', old.rowid, old.content, old.tags);
        END;
        CREATE TRIGGER memories_fts_update AFTER UPDATE OF content, tags ON memories BEGIN
            INSERT INTO memories_fts (memories_fts, rowid, content, tags)
                VALUES ('delete', old.rowid, old.content, old.tags);
            INSERT INTO memories_fts (rowid, content, tags) VALUES (new.rowid, new.content, new.tags);
        END;

        -- settings every process must agree on (embedder, dimension, ...)
        CREATE TABLE pmem_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);
        """
    )


@migration
def m002_vectors(conn: sqlite3.Connection) -> None:
    run_script(
        conn,
        """
        -- one embedding per memory: float32 bytes, L2-normalised (see models.Vector)
        CREATE TABLE memory_vectors (
            memory_rowid INTEGER PRIMARY KEY REFERENCES memories (rowid) ON DELETE CASCADE,
            vector BLOB NOT NULL
        );
        """,
    )
