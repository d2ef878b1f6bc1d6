"""The PostgreSQL backend beyond the contract: many hosts, migrations, the HNSW index, errors."""

from __future__ import annotations

import multiprocessing as mp
import socket
from collections.abc import Callable

import numpy as np
import pytest

from persona_memory import BackendUnavailableError, ConfigError, Memory, PersonaStore
from persona_memory.backends._sync.base import Backend
from persona_memory.backends._sync.postgres import PostgresBackend
from persona_memory.models import Query
from persona_memory.registry import open_backend
from persona_memory.testing._sync.contract import record, unit

HOSTS = 4
STORES = 30


def _host(url: str, n: int, start: mp.Event, results: mp.Queue) -> None:  # type: ignore[type-arg]
    """One application host: stores shared and own memories and writes keys, all at once with the others."""
    start.wait(30)
    errors: list[str] = []
    try:
        store = PersonaStore("shared", url=url)
        memory = Memory("hosts", url=url)
        for i in range(STORES):
            store.store("the same content from every host", tags=[f"host{n}"])
            store.store(f"host {n} remembers item {i}")
            memory.put(f"host{n}-{i}", {"host": n, "i": i})
            memory.put("last-writer", n)
            if i % 10 == 0:
                store.search("item", limit=5)  # counts accesses while others write
        store.close()
        memory.close()
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
    results.put((n, errors))


@pytest.mark.parametrize("start_method", ["fork", "spawn"])
def test_many_hosts_lose_nothing_and_duplicate_nothing(backend_url: Callable[[str], str], start_method: str) -> None:
    url = backend_url("postgres")  # a fresh schema: the hosts also race to create and migrate it
    ctx = mp.get_context(start_method)
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_host, args=(url, n, start, results)) for n in range(HOSTS)]
    for p in procs:
        p.start()
    start.set()
    reports = dict(results.get(timeout=240) for _ in procs)
    for p in procs:
        p.join(timeout=60)
    assert [p.exitcode for p in procs] == [0] * HOSTS
    assert reports == {n: [] for n in range(HOSTS)}
    with PersonaStore("shared", url=url) as store, Memory("hosts", url=url) as memory:
        records = store.export()
        contents = [r.content for r in records]
        assert len(contents) == len(set(contents)) == HOSTS * STORES + 1  # no duplicate, no loss
        shared = next(r for r in records if r.content == "the same content from every host")
        assert shared.access_count >= HOSTS * STORES - 1  # every reinforcement counted
        assert set(shared.tags) == {f"host{n}" for n in range(HOSTS)}
        assert all(memory.get(f"host{n}-{i}") == {"host": n, "i": i} for n in range(HOSTS) for i in range(STORES))
        assert memory.get("last-writer") in range(HOSTS)
        backend = store.backend
        assert isinstance(backend, PostgresBackend)
        with backend._transaction("check") as conn:
            applied = conn.execute("SELECT name FROM pmem_migrations").fetchall()
        assert applied == [("001_initial",)]


def test_vector_search_uses_the_hnsw_index(backend_url: Callable[[str], str]) -> None:
    backend = open_backend(backend_url("postgres"), Backend)
    assert isinstance(backend, PostgresBackend)
    rng = np.random.default_rng(7)
    for i in range(200):
        backend.add(record(f"memory {i}"), unit(*rng.normal(size=8)))
    target = backend.add(record("the one"), unit(1, 0, 0, 0, 0, 0, 0, 0))[0]
    with backend._transaction("check") as conn:
        indexes = [row[0] for row in conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'memories_embedding%'")]
        assert len(indexes) == 1 and "hnsw" in indexes[0] and "vector(8)" in indexes[0]
        assert "vector_cosine_ops" in indexes[0]
        conn.execute("SET LOCAL enable_seqscan = off")  # the query's expression must match the index's
        plan = conn.execute(
            "EXPLAIN SELECT id FROM memories m WHERE m.persona = 'ada' AND m.superseded_by IS NULL "
            "AND m.embedding IS NOT NULL ORDER BY m.embedding::vector(8) <=> %s::vector(8) LIMIT 5",
            (np.asarray(unit(1, 0, 0, 0, 0, 0, 0, 0)),),
        ).fetchall()
    assert "memories_embedding_8" in " ".join(row[0] for row in plan)
    found = backend.candidates("ada", Query(vector=unit(1, 0, 0, 0, 0, 0, 0, 0), k=5))
    assert max(found, key=lambda c: c.vector_score or -1).id == target.id
    backend.close()


def test_full_text_is_ranked_in_the_database_with_english_stemming(backend_url: Callable[[str], str]) -> None:
    backend = open_backend(backend_url("postgres"), Backend)
    assert isinstance(backend, PostgresBackend)
    backend.add(record("The children were running to school"))
    with backend._transaction("check") as conn:
        (vector,) = conn.execute("SELECT search::text FROM memories").fetchone() or ("",)
    assert "'run'" in vector and "'children'" in vector and "'school'" in vector
    assert len(backend.candidates("ada", Query(text="runs", k=5))) == 1
    backend.close()


def test_a_schema_from_a_newer_version_is_refused(backend_url: Callable[[str], str]) -> None:
    url = backend_url("postgres")
    backend = open_backend(url, Backend)
    backend.kv_put("ns", "k", '"v"')
    with backend._transaction("check") as conn:
        conn.execute("INSERT INTO pmem_migrations (name) VALUES ('999_from_the_future')")
    backend.close()
    with pytest.raises(ConfigError, match="newer persona-memory"):
        open_backend(url, Backend).kv_get("ns", "k")


def test_unreachable_server_is_a_clear_error_without_the_password() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = open_backend(f"postgresql://me:secret@127.0.0.1:{port}/db?timeout=2", Backend)
    with pytest.raises(BackendUnavailableError, match="cannot reach PostgreSQL at postgresql://me:\\*\\*\\*@") as info:
        backend.kv_get("ns", "k")
    assert "secret" not in str(info.value) and "secret" not in repr(backend)


def test_bad_options_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="schema"):
        open_backend("postgresql://localhost/db?schema=Robert'); DROP", Backend)
    with pytest.raises(ConfigError, match="pool_size"):
        open_backend("postgresql://localhost/db?pool_size=lots", Backend)


def test_a_backend_used_before_fork_works_in_the_child_and_the_parent(backend_url: Callable[[str], str]) -> None:
    import os

    backend = open_backend(backend_url("postgres"), Backend)
    backend.kv_put("ns", "parent", '"1"')  # the parent's pool is open now
    pid = os.fork()
    if pid == 0:  # child: the very same object, on its own connections
        code = 0
        try:
            backend.kv_put("ns", "child", '"2"')
            assert backend.kv_get("ns", "parent") == '"1"'
        except BaseException:
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert backend.kv_keys("ns") == ["child", "parent"]  # the parent's connections survived the child
    backend.close()


def test_a_pickled_backend_reopens_itself(backend_url: Callable[[str], str]) -> None:
    import pickle

    backend = open_backend(backend_url("postgres"), Backend)
    backend.kv_put("ns", "k", '"v"')
    copy = pickle.loads(pickle.dumps(backend))  # e.g. handed to a multiprocessing worker
    assert isinstance(copy, PostgresBackend) and copy.schema == backend.schema
    assert copy.kv_get("ns", "k") == '"v"'
    copy.close()
    backend.close()
