"""Many processes on one store: no lost write, no "database is locked" escaping to the caller."""

from __future__ import annotations

import multiprocessing as mp
import os
import random
from pathlib import Path

import pytest

from persona_memory import Memory, PersonaStore

PROCESSES = 8
OPS = 500


def mixed_worker(base: str, n: int, ops: int, results: mp.Queue) -> None:  # type: ignore[type-arg]
    """Writes and reads; reports what was acknowledged and any error that escaped."""
    rng = random.Random(n)
    acknowledged_keys: list[str] = []
    acknowledged_ids: list[str] = []
    errors: list[str] = []
    memory = Memory("mp", base_path=base)
    store = PersonaStore("mp", base_path=base)
    for i in range(ops):
        try:
            op = rng.random()
            if op < 0.45:
                key = f"w{n}-{i}"
                memory.put(key, {"writer": n, "i": i})
                acknowledged_keys.append(key)
            elif op < 0.7:
                record = store.store(f"process {n} remembers item {i}", tags=[f"p{n}"])
                acknowledged_ids.append(record.id)
            elif op < 0.9 and acknowledged_keys:
                key = rng.choice(acknowledged_keys)
                value = memory.get(key)
                if value != {"writer": n, "i": int(key.split("-")[1])}:
                    errors.append(f"read {key} -> {value!r}")
            else:
                store.search(f"item {rng.randrange(ops)}", limit=3)
        except Exception as exc:
            errors.append(f"{type(exc).__name__}: {exc}")
    memory.close()
    store.close()
    results.put((n, acknowledged_keys, acknowledged_ids, errors))


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_processes_share_one_store_without_losing_writes(tmp_path: Path, start_method: str) -> None:
    ctx = mp.get_context(start_method)
    results = ctx.Queue()
    base = str(tmp_path / "base")
    procs = [ctx.Process(target=mixed_worker, args=(base, n, OPS, results)) for n in range(PROCESSES)]
    for p in procs:
        p.start()
    reports = [results.get(timeout=240) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * PROCESSES
    assert [r[3] for r in reports] == [[]] * PROCESSES, "errors escaped to callers"
    with Memory("mp", base_path=base) as memory, PersonaStore("mp", base_path=base) as store:
        for n, keys, ids, _ in reports:
            for key in keys:
                assert memory.get(key) == {"writer": n, "i": int(key.split("-")[1])}
            assert len(store.backend.get_records("mp", ids)) == len(ids)
        total_ids = sum(len(r[2]) for r in reports)
        assert store.stats().total == total_ids
        assert total_ids > PROCESSES * OPS * 0.15


def test_same_keys_from_many_processes_never_raise(tmp_path: Path) -> None:
    ctx = mp.get_context("fork")
    base = str(tmp_path / "base")

    def hammer(n: int) -> None:
        memory = Memory("same", base_path=base)
        for i in range(150):
            memory.put(f"shared-{i % 10}", {"writer": n, "i": i})
            memory.get(f"shared-{(i + 3) % 10}")
        memory.close()

    procs = [ctx.Process(target=hammer, args=(n,)) for n in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    with Memory("same", base_path=base) as memory:
        assert all(memory.get(f"shared-{i}")["i"] % 10 == i for i in range(10))


def test_store_used_before_fork_works_in_the_child(tmp_path: Path) -> None:
    """A connection opened before fork is never reused in the child (opsdroid's hang)."""
    store = PersonaStore("ada", base_path=str(tmp_path))
    memory = Memory(base_path=str(tmp_path))
    store.store("parent wrote this")
    memory.put("parent", 1)
    pid = os.fork()
    if pid == 0:  # child: use the very same objects
        code = 0
        try:
            memory.put("child", 2)
            assert memory.get("parent") == 1
            store.store("child wrote this")
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert memory.get("child") == 2
    assert {h.content for h in store.search("wrote")} == {"parent wrote this", "child wrote this"}
    store.close()
    memory.close()
