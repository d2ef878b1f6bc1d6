"""Ingest and search speed as one persona's store grows: 10k, 100k (and 1M) memories.

    python bench/search_scale.py                         # 10k and 100k, about 8 minutes
    python bench/search_scale.py --sizes 10000 --queries 100

Memories are synthetic conversation turns made from the LoCoMo dev conversations (two turns
of different conversations spliced, a speaker from a pool of names, sessions of 20 turns a few
days apart), so word frequencies look like real chat. Every memory goes through the public
``store(content, at=...)``; every query is a LoCoMo question through ``search(q, limit=10)``.

Rows per size, measured in the same run:

* ingest memories/s with the default embedder (embedding included), and without an embedder
  (``embedder="none"``: the same store, text only) as the baseline, in alternating blocks;
* search latency p50/p95 (ms, query embedding included) of the default hybrid search, and of
  its parts: full text only (``mode="text", context=False``: the BM25 baseline), vectors only
  (``mode="vector", context=False``), hybrid without context;
* the first search after opening the store (loads the vector matrix and the timeline).

The machine is shared: numbers are medians, and the ratios between rows of one run matter
more than the absolute values.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo_data

from persona_memory import PersonaStore

NAMES = ["Caroline", "Melanie", "Jon", "Gina", "John", "Maria", "Joanna", "Nate", "Tim", "Audrey",
         "Andrew", "Evan", "Sam", "Calvin", "Dave", "Jolene", "Deborah", "James", "Tyler", "Sara"]
START = dt.datetime(2021, 1, 1, tzinfo=dt.UTC)


def synthetic(n: int, seed: int = 7) -> Iterator[tuple[str, dt.datetime]]:
    rng = random.Random(seed)
    turns = [t.text for conv in locomo_data.load_all() for t in conv.turns]
    when = START
    for i in range(n):
        if i % 20 == 0:  # a new conversation session every 20 memories
            when += dt.timedelta(days=rng.uniform(0.5, 4))
            speakers = rng.sample(NAMES, 2)
        first, second = rng.choice(turns), rng.choice(turns).split(". ")[0]
        yield f"{speakers[i % 2]}: {first} {second}", when + dt.timedelta(seconds=30 * (i % 20))


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) > 1 else values[0]


def ingest(root: Path, n: int, block: int = 500) -> tuple[float, float]:
    """Memories/s storing ``n`` synthetic memories one by one into two stores, one with the
    default embedder and one without, alternating blocks of ``block`` so that the load from
    other jobs on the machine falls on both alike."""
    seconds = {"hybrid": 0.0, "text": 0.0}
    stores = {
        "hybrid": PersonaStore("scale", url=f"sqlite:///{root}/hybrid-{n}.db"),
        "text": PersonaStore("scale", url=f"sqlite:///{root}/text-{n}.db", embedder="none"),
    }
    stores["hybrid"].embedder.embed_documents(["load the model before timing"])  # type: ignore[union-attr]
    data = list(synthetic(n))
    try:
        for start in range(0, n, block):
            for name, store in stores.items():
                began = time.perf_counter()
                for content, at in data[start : start + block]:
                    store.store(content, at=at)
                seconds[name] += time.perf_counter() - began
    finally:
        for store in stores.values():
            store.close()
    return n / seconds["hybrid"], n / seconds["text"]


def searches(url: str, questions: list[str]) -> dict[str, Any]:
    variants = {
        "hybrid + context (default)": {},
        "hybrid, no context": {"context": False},
        "full text only (BM25 baseline)": {"mode": "text", "context": False},
        "vectors only": {"mode": "vector", "context": False},
    }
    out: dict[str, Any] = {}
    with PersonaStore("scale", url=url) as store:
        start = time.perf_counter()
        store.search(questions[0], limit=10)
        out["first search after open (ms)"] = (time.perf_counter() - start) * 1000
        for q in questions[:5]:  # warm the page cache
            store.search(q, limit=10)
        times: dict[str, list[float]] = {name: [] for name in variants}
        for q in questions:  # interleaved, so load on the shared machine hits every variant alike
            for name, options in variants.items():
                start = time.perf_counter()
                store.search(q, limit=10, **options)
                times[name].append((time.perf_counter() - start) * 1000)
        for name, ms in times.items():
            out[name] = (statistics.median(ms), percentile(ms, 95))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--dir", type=Path, help="where the stores go (default: a temp dir, removed)")
    args = parser.parse_args()
    questions = [q.question for conv in locomo_data.load_all() for q in conv.questions]
    random.Random(1).shuffle(questions)
    questions = questions[: args.queries]
    root = Path(tempfile.mkdtemp(dir=args.dir))
    results = {}
    try:
        for n in args.sizes:
            rate, bare_rate = ingest(root, n)
            print(f"{n:,}: ingest {rate:,.0f}/s with embedding, {bare_rate:,.0f}/s without",
                  file=sys.stderr, flush=True)
            results[n] = {"ingest": rate, "ingest_bare": bare_rate,
                          **searches(f"sqlite:///{root}/hybrid-{n}.db", questions)}
            size_mb = (root / f"hybrid-{n}.db").stat().st_size / 2**20
            results[n]["file MB"] = size_mb
    finally:
        shutil.rmtree(root, ignore_errors=True)
    sizes = list(results)
    print("| | " + " | ".join(f"{n:,} memories" for n in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    print("| ingest, default embedder (memories/s) | " + " | ".join(f"{results[n]['ingest']:,.0f}" for n in sizes) + " |")
    print("| ingest, no embedder: baseline (memories/s) | " + " | ".join(f"{results[n]['ingest_bare']:,.0f}" for n in sizes) + " |")
    for name in ("hybrid + context (default)", "hybrid, no context", "full text only (BM25 baseline)", "vectors only"):
        print(f"| search {name}: p50 / p95 ms | " + " | ".join(
            f"{results[n][name][0]:.2f} / {results[n][name][1]:.2f}" for n in sizes) + " |")
    print("| first search after open (ms) | " + " | ".join(f"{results[n]['first search after open (ms)']:.0f}" for n in sizes) + " |")
    print("| store file (MB) | " + " | ".join(f"{results[n]['file MB']:.0f}" for n in sizes) + " |")
    print(f"\n{len(questions)} LoCoMo questions per variant, limit=10, query embedding and access counting included.")


if __name__ == "__main__":
    main()
