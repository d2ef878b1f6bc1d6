"""Load: 16 processes doing mixed operations on one store for a fixed time.

    python bench/load.py                              # SQLite, 16 processes x 20 s
    python bench/load.py --url postgresql://...       # the same against PostgreSQL
    python bench/load.py --processes 4 --seconds 5    # quick look

Each process loops over store (30 %), search (25 %), kv put (20 %), kv get (15 %) and forget
(10 %) on one persona and one key-value namespace, records every call's latency, counts every
exception that escaped to it, and reports what it acknowledged. Afterwards every acknowledged
store and put that was not later forgotten must still be there.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing as mp
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any

from persona_memory import Memory, PersonaStore

OPERATIONS = [("store", 0.30), ("search", 0.25), ("put", 0.20), ("get", 0.15), ("forget", 0.10)]
WORDS = ["garden", "violin", "pasta", "marathon", "lisbon", "kitten", "chess", "sailing", "river", "mountain", "coffee", "book"]


def worker(n: int, url: str | None, base: str, seconds: float, out: mp.Queue) -> None:  # type: ignore[type-arg]
    rng = random.Random(n)
    store = PersonaStore("load", url=url, base_path=base)
    memory = Memory("load", url=url, base_path=base)
    latencies: dict[str, list[float]] = defaultdict(list)
    errors: Counter[str] = Counter()
    stored: list[str] = []
    forgotten: list[str] = []
    put: dict[str, int] = {}
    names, weights = zip(*OPERATIONS, strict=True)
    deadline = time.monotonic() + seconds
    i = 0
    while time.monotonic() < deadline:
        i += 1
        op = rng.choices(names, weights)[0]
        start = time.perf_counter()
        try:
            if op == "store":
                stored.append(store.store(f"process {n} note {i}: " + " ".join(rng.choices(WORDS, k=6))).id)
            elif op == "search":
                store.search(" ".join(rng.choices(WORDS, k=2)), limit=5)
            elif op == "put":
                key = f"p{n}-{rng.randrange(200)}"
                memory.put(key, {"i": i})
                put[key] = i
            elif op == "get":
                memory.get(f"p{n}-{rng.randrange(200)}")
            elif op == "forget" and stored:
                victim = stored.pop(rng.randrange(len(stored)))
                store.forget(victim)
                forgotten.append(victim)
        except Exception as exc:  # anything escaping to the caller is a failure of the library
            errors[f"{op}: {type(exc).__name__}: {exc}"[:160]] += 1
            continue
        latencies[op].append(time.perf_counter() - start)
    store.close()
    memory.close()
    out.put({"latencies": dict(latencies), "errors": errors, "stored": stored, "forgotten": forgotten, "put": put})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--processes", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--url", help="backend URL (default: a fresh SQLite store)")
    args = parser.parse_args()
    base = tempfile.mkdtemp(prefix="pmem-load-", dir="/var/tmp")
    url = args.url
    if url and url.startswith("postgres"):  # a fresh persona on a shared server: clear it first
        PersonaStore("load", url=url).forget_everything()
    ctx = mp.get_context("spawn")  # no state shared with this process: each opens its own store
    out = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(n, url, base, args.seconds, out)) for n in range(args.processes)]
    started = time.monotonic()
    for p in procs:
        p.start()
    reports = [out.get(timeout=args.seconds + 600) for _ in procs]
    for p in procs:
        p.join()
    wall = time.monotonic() - started
    try:
        lost = verify(reports, url, base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    where = url.split("@")[-1] if url else "SQLite (embedded default)"
    print(f"\nLoad on {where}: {args.processes} processes x {args.seconds:g} s ({dt.date.today()})\n")
    print("| operation | calls | ops/s | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    total = 0
    for op, _ in OPERATIONS:
        samples = sorted(x for r in reports for x in r["latencies"].get(op, []))
        total += len(samples)
        if samples:
            p99 = samples[min(len(samples) - 1, int(len(samples) * 0.99))]
            print(f"| {op} | {len(samples)} | {len(samples) / args.seconds:,.0f} | "
                  f"{statistics.median(samples) * 1000:.1f} | {p99 * 1000:.1f} |")
    errors = sum((r["errors"] for r in reports), Counter())
    print(f"| **all** | {total} | {total / args.seconds:,.0f} | | |")
    print(f"\nerrors escaping to callers: {sum(errors.values())}; lost writes: {lost}; "
          f"exit codes: {sorted({p.exitcode for p in procs})}; wall {wall:.0f} s")
    for message, count in errors.most_common(5):
        print(f"  {count} x {message}")
    return 0 if not errors and not lost else 1


def verify(reports: list[dict[str, Any]], url: str | None, base: str) -> int:
    """Every acknowledged store (not forgotten) and put must be readable."""
    lost = 0
    with PersonaStore("load", url=url, base_path=base) as store, Memory("load", url=url, base_path=base) as memory:
        alive = [i for r in reports for i in r["stored"]]
        found = {r.id for r in store.backend.get_records("load", alive)}
        lost += len(set(alive) - found)
        gone = [i for r in reports for i in r["forgotten"]]
        lost += len({r.id for r in store.backend.get_records("load", gone)})  # forgotten must be gone
        for r in reports:
            for key, i in r["put"].items():
                lost += (memory.get(key) or {}).get("i") != i
    return lost


if __name__ == "__main__":
    sys.exit(main())
