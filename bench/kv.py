"""Key-value throughput: persona-memory's Memory against opsdroid's own Memory + sqlite database.

    python bench/kv.py                       # defaults below, about 3 minutes
    python bench/kv.py --n 500 --reps 1      # quick look

Phases (ops/s, median of --reps runs, each on a fresh file in a temp dir on disk):
put N keys; get them from a new instance ("cold", after a restart); get them again from the
same instance ("warm"); delete them. Values are small dicts (~200 bytes of JSON), as in
``shared/research/opsdroid.md`` §7. opsdroid needs ``pip install opsdroid==0.31.0
"setuptools<82" aiosqlite`` (the ``bench`` dependency group); without it its rows are skipped.

Then the multi-process case: P processes (fork) each doing --mp-ops mixed operations (half
puts of distinct keys, half gets) on one store: total ops/s, errors raised to the caller, keys
missing afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from persona_memory import AsyncMemory, Memory

PHASES = ("put", "get cold", "get warm", "delete")


def value(i: int) -> dict[str, Any]:
    return {"user": f"user-{i}", "note": "remember the milk " * 5, "count": i, "tags": ["a", "b", "c"]}


# ---- the systems under test: each returns {phase: seconds} for n keys ----


def run_memory(path: Path, n: int, durability: str) -> dict[str, float]:
    url = f"sqlite:///{path}"
    times = {}
    m = Memory(url=url, durability=durability)
    start = time.perf_counter()
    for i in range(n):
        m.put(f"key-{i}", value(i))
    times["put"] = time.perf_counter() - start
    m.close()
    m = Memory(url=url, durability=durability)  # "restart"
    for phase in ("get cold", "get warm"):
        start = time.perf_counter()
        for i in range(n):
            assert m.get(f"key-{i}") is not None
        times[phase] = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(n):
        m.delete(f"key-{i}")
    times["delete"] = time.perf_counter() - start
    m.close()
    return times


async def run_async_phases(
    open_memory: Callable[[], Awaitable[Any]], close: Callable[[Any], Awaitable[None]], n: int
) -> dict[str, float]:
    """The four phases for any memory with async get/put/delete (ours and opsdroid's)."""
    times = {}
    m = await open_memory()
    start = time.perf_counter()
    for i in range(n):
        await m.put(f"key-{i}", value(i))
    times["put"] = time.perf_counter() - start
    await close(m)
    m = await open_memory()  # "restart"
    for phase in ("get cold", "get warm"):
        start = time.perf_counter()
        for i in range(n):
            assert await m.get(f"key-{i}") is not None
        times[phase] = time.perf_counter() - start
    start = time.perf_counter()
    for i in range(n):
        await m.delete(f"key-{i}")
    times["delete"] = time.perf_counter() - start
    await close(m)
    return times


async def run_async_memory(path: Path, n: int) -> dict[str, float]:
    async def open_memory() -> AsyncMemory:
        return AsyncMemory(url=f"sqlite:///{path}")

    return await run_async_phases(open_memory, lambda m: m.aclose(), n)


def opsdroid_available() -> bool:
    try:
        import gettext

        gettext.install("opsdroid")  # opsdroid's modules log through a builtin _()
        import opsdroid.database.sqlite
        import opsdroid.memory  # noqa: F401
    except Exception:
        return False
    return True


async def opsdroid_memory(path: Path) -> Any:
    from opsdroid.database.sqlite import DatabaseSqlite
    from opsdroid.memory import Memory as OpsdroidMemory

    database = DatabaseSqlite({"path": str(path)})
    await database.connect()
    memory = OpsdroidMemory()
    memory.databases = [database]
    return memory


async def run_opsdroid(path: Path, n: int) -> dict[str, float]:
    return await run_async_phases(lambda: opsdroid_memory(path), lambda m: m.databases[0].disconnect(), n)


# ---- multi-process ----


def mp_worker_memory(path: str, worker: int, ops: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    rng = random.Random(worker)
    memory = Memory(url=f"sqlite:///{path}")
    written, errors = [], []
    start = time.perf_counter()
    for i in range(ops):
        try:
            if i % 2 == 0 or not written:
                key = f"w{worker}-{i}"
                memory.put(key, value(i))
                written.append(key)
            else:
                memory.get(rng.choice(written))
        except Exception as exc:
            errors.append(type(exc).__name__)
    out.put((worker, time.perf_counter() - start, written, errors))
    memory.close()


def mp_worker_opsdroid(path: str, worker: int, ops: int, out: mp.Queue) -> None:  # type: ignore[type-arg]
    async def work() -> None:
        rng = random.Random(worker)
        memory = await opsdroid_memory(Path(path))  # connection opened after the fork
        written, errors = [], []
        start = time.perf_counter()
        for i in range(ops):
            try:
                if i % 2 == 0 or not written:
                    key = f"w{worker}-{i}"
                    await memory.put(key, value(i))
                    written.append(key)
                else:
                    await memory.get(rng.choice(written))
            except Exception as exc:
                errors.append(type(exc).__name__)
        out.put((worker, time.perf_counter() - start, written, errors))
        await memory.databases[0].disconnect()

    asyncio.run(work())


def count_missing(system: str, path: Path, written: list[str]) -> int:
    if system == "opsdroid":

        async def missing() -> int:
            m = await opsdroid_memory(path)
            n = sum([await m.get(k) is None for k in written])
            await m.databases[0].disconnect()
            return n

        return asyncio.run(missing())
    with Memory(url=f"sqlite:///{path}") as m:
        return sum(m.get(k) is None for k in written)


def run_multiprocess(system: str, workdir: Path, procs: int, ops: int) -> dict[str, Any]:
    path = workdir / f"mp-{system}-{procs}.db"
    if system == "opsdroid":  # create the table once, before the workers race to
        asyncio.run(opsdroid_memory(path))
    target = mp_worker_opsdroid if system == "opsdroid" else mp_worker_memory
    ctx = mp.get_context("fork")
    out = ctx.Queue()
    workers = [ctx.Process(target=target, args=(str(path), w, ops, out)) for w in range(procs)]
    start = time.perf_counter()
    for w in workers:
        w.start()
    reports = [out.get(timeout=3600) for _ in workers]
    wall = time.perf_counter() - start
    for w in workers:
        w.join()
    written = [k for r in reports for k in r[2]]
    errors = [e for r in reports for e in r[3]]
    return {
        "ops_per_s": procs * ops / wall,
        "errors": len(errors),
        "error_kinds": sorted(set(errors)),
        "missing": count_missing(system, path, written),
        "exit_codes": [w.exitcode for w in workers],
    }


# ---- report ----


def median_rates(samples: list[dict[str, float]], n: int) -> dict[str, float]:
    return {phase: statistics.median(n / s[phase] for s in samples) for phase in PHASES}


def print_table(title: str, headers: list[str], rows: list[list[str]]) -> None:
    print(f"\n{title}\n")
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    print("| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for row in rows:
        print("| " + " | ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) + " |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="keys per run for persona-memory")
    parser.add_argument("--n-slow", type=int, default=300, help="keys per run for the fsync-bound systems")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--procs", default="1,2,4,8")
    parser.add_argument("--mp-ops", type=int, default=400, help="operations per process (persona-memory)")
    parser.add_argument("--mp-ops-slow", type=int, default=60, help="operations per process (opsdroid)")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    parser.add_argument("--dir", type=Path, help="work directory (default: a temp dir on /var/tmp)")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="pmem-bench-", dir=args.dir or "/var/tmp"))
    with_opsdroid = opsdroid_available()
    systems: dict[str, tuple[int, Callable[[Path, int], dict[str, float]]]] = {
        "persona-memory Memory": (args.n, lambda p, n: run_memory(p, n, "normal")),
        "persona-memory AsyncMemory": (args.n, lambda p, n: asyncio.run(run_async_memory(p, n))),
        "persona-memory Memory, durability=full": (args.n_slow, lambda p, n: run_memory(p, n, "full")),
    }
    if with_opsdroid:
        systems["opsdroid 0.31 Memory + sqlite"] = (args.n_slow, lambda p, n: asyncio.run(run_opsdroid(p, n)))
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in systems}
    try:
        for rep in range(args.reps):
            for name, (n, run) in systems.items():  # interleaved, so load changes hit all alike
                path = workdir / f"{rep}-{len(samples[name])}-{abs(hash(name))}.db"
                samples[name].append(run(path, n))
                print(f"rep {rep + 1}/{args.reps} {name}: done", file=sys.stderr)
        rates = {name: median_rates(samples[name], systems[name][0]) for name in systems}
        base = rates.get("opsdroid 0.31 Memory + sqlite")
        headers = ["system", "keys", *[f"{p} ops/s" for p in PHASES]]
        if base:
            headers += [f"{p} vs opsdroid" for p in PHASES]
        rows = []
        for name, rate in rates.items():
            row = [name, str(systems[name][0]), *[f"{rate[p]:,.0f}" for p in PHASES]]
            if base:
                row += [f"{rate[p] / base[p]:,.1f}x" for p in PHASES]
            rows.append(row)
        print_table(
            f"Single process, median of {args.reps} runs (machine load avg {os.getloadavg()[0]:.1f})",
            headers, rows,
        )

        mp_rows = []
        mp_results: dict[str, dict[int, Any]] = {}
        mp_systems = [("persona-memory", args.mp_ops)] + ([("opsdroid", args.mp_ops_slow)] if with_opsdroid else [])
        for system, ops in mp_systems:
            mp_results[system] = {}
            for procs in [int(p) for p in args.procs.split(",")]:
                result = run_multiprocess(system, workdir, procs, ops)
                mp_results[system][procs] = result
                mp_rows.append([
                    system, str(procs), str(ops), f"{result['ops_per_s']:,.0f}",
                    str(result["errors"]) + (f" ({', '.join(result['error_kinds'])})" if result["errors"] else ""),
                    str(result["missing"]),
                ])
                print(f"multi-process {system} x{procs}: done", file=sys.stderr)
        print_table(
            "Multi-process, one store (fork; half puts of distinct keys, half gets)",
            ["system", "processes", "ops/process", "total ops/s", "errors raised", "keys missing"],
            mp_rows,
        )
        if args.json:
            args.json.write_text(json.dumps({"samples": samples, "rates": rates, "multiprocess": mp_results}, indent=2))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
