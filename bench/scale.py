"""How store and search scale with the number of memories, SQLite and PostgreSQL side by side.

    source scripts/servers.sh && VENV=.venv servers_start      # a PostgreSQL + pgvector on loopback
    .venv/bin/python bench/scale.py --sizes 10000,100000        # PMEM_TEST_POSTGRES_URL or --postgres URL
    servers_stop

For each backend the store grows to each size in turn (synthetic but realistic sentences about a
user, one ``store`` per memory, as a bot writes them), and at each size it measures:

* ingest/s over the memories added since the previous size;
* text search p50/p95 (``PersonaStore.search``: BM25 / ts_rank, ranking, access counting);
* vector search p50/p95 (embedding the query + nearest-neighbour candidates, k=10);
* recall@10 of the vector search against exact search (numpy over every stored vector):
  1.0 by construction for SQLite (exact), the HNSW index's recall for PostgreSQL;
* file size (SQLite: the file and its WAL) or table size (PostgreSQL: memories with indexes).

``--bulk-above N`` loads PostgreSQL past N memories with ``COPY`` and builds the HNSW index
afterwards (the way one would load a million rows), because one ``store`` at a time into a
growing HNSW graph runs at ~100/s on this machine; such rows are marked "bulk" and their
ingest/s counts the index build.

Vectors come from the embedder the store uses if it has one (``store.embedder.embed``);
otherwise from a deterministic synthetic embedding (feature hashing of the words into unit
vectors), which the output says. Timings on a shared 2-core machine are noisy: compare medians
and the ratio between the backends in one run, not absolute numbers across runs.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from persona_memory import PersonaStore
from persona_memory.models import MemoryRecord, MemoryType, Query, new_memory_id, utcnow
from persona_memory.vectors import normalize

SUBJECTS = ["User", "The user", "Their sister Ana", "Their son Leo", "Their partner Sam", "Their boss",
            "Their friend Priya", "Their neighbour", "Grandma Rosa", "Their dog Biscuit"]
VERBS = ["loves", "hates", "started", "stopped", "is learning", "wants to try", "talked about", "keeps forgetting",
         "booked", "finished", "is worried about", "celebrated", "recommended", "complained about", "dreams of"]
OBJECTS = ["Italian food", "jazz guitar", "rock climbing", "the marathon", "Japanese lessons", "a new job offer",
           "vegan recipes", "the garden", "chess tournaments", "a trip to Lisbon", "night shifts", "pottery class",
           "the old car", "sourdough bread", "board games", "yoga at dawn", "the piano", "cold showers",
           "a book club", "the mortgage", "spicy ramen", "mountain biking", "film photography", "the school play"]
WHEN = ["last week", "on Sunday", "every morning", "since January", "after work", "during the holidays",
        "this summer", "twice a month", "before the wedding", "at the weekend", "", "", ""]
FEELING = ["", "", "and felt proud", "and was nervous", "because it helps them relax", "with friends",
           "despite the cost", "and wants to continue", "but found it hard", "for the first time"]
QUESTIONS = ["what does the user like to eat", "who plays the piano", "what trip is planned",
             "how is the new job going", "which sport does the user do", "what worries the user",
             "what did they celebrate", "what music does the user like", "what hobby did they start",
             "who recommended the book club"]


def sentences(seed: int) -> Callable[[], str]:
    rng = random.Random(seed)

    def make() -> str:
        parts = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(WHEN), rng.choice(FEELING)]
        return " ".join(p for p in parts if p) + f" (note {rng.randrange(10**9)})"

    return make


class HashingEmbedder:
    """Deterministic stand-in embedder: a sum of per-word random unit vectors, normalised."""

    name = "synthetic feature hashing (no embedder in this store)"

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self._cache: dict[str, np.ndarray] = {}

    def _word(self, word: str) -> np.ndarray:
        vector = self._cache.get(word)
        if vector is None:
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "little")
            vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
            self._cache[word] = vector
        return vector

    def embed_documents(self, texts: Sequence[str]) -> list[np.ndarray]:
        out = []
        for text in texts:
            words = [w for w in text.lower().replace("(", " ").replace(")", " ").split() if not w.isdigit()]
            out.append(normalize(np.sum([self._word(w) for w in words], axis=0)))
        return out

    embed_queries = embed_documents


@dataclass
class Row:
    backend: str
    size: int
    ingest_per_s: float
    text_p50: float
    text_p95: float
    vector_p50: float
    vector_p95: float
    recall: float
    size_mb: float


CANDIDATES = 50


def recall_at_10(exact_scores: np.ndarray, ids: list[str], found: list[str]) -> float:
    """Share of the true 10 nearest found. Memories tied with the 10th (same words, so the same
    synthetic vector) are all true nearest neighbours: which of them is returned is arbitrary."""
    tenth = np.partition(exact_scores, -10)[-10]
    position = {memory_id: i for i, memory_id in enumerate(ids)}
    hits = sum(1 for memory_id in found if exact_scores[position[memory_id]] >= tenth - 1e-5)
    return min(hits, 10) / 10


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def storage_mb(store: PersonaStore) -> float:
    backend = store.backend
    path = getattr(backend, "path", None)
    if path is not None:
        return sum(os.path.getsize(p) for p in (str(path), f"{path}-wal") if os.path.exists(p)) / 1e6
    with backend._transaction("size") as conn:  # type: ignore[attr-defined]
        (size,) = conn.execute("SELECT pg_total_relation_size('memories')").fetchone()
    return float(size) / 1e6


def bulk_load(store: PersonaStore, texts: list[str], vectors: list[np.ndarray]) -> list[str]:
    """PostgreSQL only: COPY the rows in, then (re)build the HNSW index over all of them."""
    from persona_memory.backends import postgres_sql as sql
    from persona_memory.validation import content_hash

    backend = store.backend
    dim = int(vectors[0].shape[0])
    ids = [new_memory_id() for _ in texts]
    now = utcnow()
    with backend._transaction("bulk") as conn:  # type: ignore[attr-defined]
        conn.execute(f"DROP INDEX IF EXISTS memories_embedding_{dim}")
        columns = "id, persona, content, type, tags, importance, created_at, content_hash, embedding"
        with conn.cursor().copy(f"COPY memories ({columns}) FROM STDIN") as copy:
            for memory_id, text, vector in zip(ids, texts, vectors, strict=True):
                copy.write_row((memory_id, "bench", text, "general", [], 0.5, now, content_hash(text),
                                "[" + ",".join(f"{x:.9g}" for x in vector.tolist()) + "]"))
        conn.execute("SET LOCAL maintenance_work_mem = '2GB'")
        conn.execute("SET LOCAL max_parallel_maintenance_workers = 1")
        conn.execute(sql.vector_index_sql(dim))
        conn.execute("INSERT INTO pmem_settings (name, value) VALUES (%s, %s) ON CONFLICT (name) DO NOTHING",
                     (sql.VECTOR_DIMENSION, str(dim)))
        conn.execute("ANALYZE memories")
    return ids


def run_backend(
    name: str, url: str, sizes: list[int], dim: int, queries: int, seed: int, bulk_above: int | None = None
) -> tuple[list[Row], str]:
    store = PersonaStore("bench", url=url)
    embedder: Any = getattr(store, "embedder", None)
    uses_store_embedder = embedder is not None
    if not uses_store_embedder:
        embedder = HashingEmbedder(dim)
    source = f"the store's embedder {embedder.id}" if uses_store_embedder else HashingEmbedder.name
    make = sentences(seed)
    ids: list[str] = []
    vectors: list[np.ndarray] = []
    rows = []
    done = 0
    for size in sizes:
        started = time.perf_counter()
        batch = 256
        bulk = name == "postgres" and bulk_above is not None and size > bulk_above
        embed_seconds = 0.0
        if bulk:  # ingest/s then counts the embedding too, as store() would
            texts = [make() for _ in range(size - done)]
            new_vectors = embedder.embed_documents(texts)
            ids.extend(bulk_load(store, texts, new_vectors))
            vectors.extend(new_vectors)
            done = size
        while done < size:
            texts = [make() for _ in range(min(batch, size - done))]
            if uses_store_embedder:  # the public API embeds by itself
                for text in texts:
                    ids.append(store.store(text).id)
                t0 = time.perf_counter()  # the bench's own copy of the vectors, for recall: not ingest
                vectors.extend(embedder.embed_documents(texts))
                embed_seconds += time.perf_counter() - t0
            else:
                for text, vector in zip(texts, embedder.embed_documents(texts), strict=True):
                    now = utcnow()
                    record = MemoryRecord(new_memory_id(), "bench", text, MemoryType.GENERAL, (), 0.5, now)
                    ids.append(store.backend.add(record, vector)[0].id)
                    vectors.append(vector)
            done += len(texts)
        ingest = (size - (rows[-1].size if rows else 0)) / (time.perf_counter() - started - embed_seconds)
        matrix = np.vstack(vectors)
        text_times, vector_times, recalls = [], [], []
        rng = random.Random(seed + size)
        for i in range(queries):
            question = QUESTIONS[i % len(QUESTIONS)] + " " + rng.choice(OBJECTS)
            t0 = time.perf_counter()
            store.search(question, limit=10)
            text_times.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            query_vector = embedder.embed_queries([question])[0]
            # as search() asks: 50 candidates (ef_search 200 in PostgreSQL), of which the best 10 count
            found = store.backend.candidates("bench", Query(vector=query_vector, k=CANDIDATES))
            top = sorted(found, key=lambda c: -(c.vector_score or -1.0))[:10]
            vector_times.append((time.perf_counter() - t0) * 1000)
            recalls.append(recall_at_10(matrix @ query_vector, ids, [c.id for c in top]))
        rows.append(Row(
            name + (" (bulk)" if bulk else ""), size, ingest,
            statistics.median(text_times), percentile(text_times, 0.95),
            statistics.median(vector_times), percentile(vector_times, 0.95),
            statistics.mean(recalls), storage_mb(store),
        ))
        print(f"  {name} {size:>9,}: done", file=sys.stderr, flush=True)
    store.close()
    return rows, source


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated store sizes (default 10000,100000)")
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--postgres", default=os.environ.get("PMEM_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--dim", type=int, default=384, help="synthetic embedding size (default 384)")
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bulk-above", type=int, help="PostgreSQL: COPY + index build past this size")
    args = parser.parse_args()
    sizes = sorted(int(s) for s in args.sizes.split(","))
    results: list[Row] = []
    sources = {}
    with tempfile.TemporaryDirectory(prefix="pmem-scale-") as tmp:
        for name in args.backends.split(","):
            if name == "sqlite":
                url = f"sqlite://{Path(tmp) / 'scale.db'}"
            elif name == "postgres":
                if not args.postgres:
                    parser.error("--postgres URL (or PMEM_TEST_POSTGRES_URL) is needed for the postgres backend")
                url = args.postgres + ("&" if "?" in args.postgres else "?") + f"schema=bench_{uuid.uuid4().hex[:8]}"
            else:
                parser.error(f"unknown backend {name!r}")
            print(f"{name}: growing to {', '.join(f'{s:,}' for s in sizes)} memories", file=sys.stderr)
            rows, sources[name] = run_backend(name, url, sizes, args.dim, args.queries, args.seed, args.bulk_above)
            results.extend(rows)
    print(f"\nvectors: {', '.join(f'{k}: {v}' for k, v in sources.items())}; "
          f"{args.queries} queries per size; {CANDIDATES} vector candidates, best 10 compared with exact search")
    print("\n| backend | memories | ingest/s | search() p50 / p95 ms | vector candidates p50 / p95 ms "
          "| recall@10 vs exact | size MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in sorted(results, key=lambda r: (r.size, r.backend)):
        print(f"| {r.backend} | {r.size:,} | {r.ingest_per_s:,.0f} | {r.text_p50:.1f} / {r.text_p95:.1f} "
              f"| {r.vector_p50:.1f} / {r.vector_p95:.1f} | {r.recall:.3f} | {r.size_mb:,.1f} |")
    by = {(r.backend, r.size): r for r in results}
    if len(sizes) > 1:
        print("\ngrowth from the smallest to the largest store (search p50 ratio):")
        for name in sources:
            small, big = by.get((name, sizes[0])), by.get((name, sizes[-1])) or by.get((name + " (bulk)", sizes[-1]))
            if small is None or big is None:
                continue
            print(f"  {name}: x{big.size / small.size:.0f} memories -> search() x{big.text_p50 / small.text_p50:.1f}, "
                  f"vector x{big.vector_p50 / small.vector_p50:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
