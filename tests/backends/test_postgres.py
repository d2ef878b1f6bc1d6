"""The PostgreSQL backend beyond the contract: many hosts, migrations, the HNSW index, errors."""

from __future__ import annotations

import multiprocessing as mp
import socket
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from persona_memory import BackendUnavailableError, ConfigError, Memory, PersonaStore
from persona_memory.backends import postgres_sql as sql
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
        assert applied == [(name,) for name, _ in sql.MIGRATIONS]  # each once, whoever raced


def test_vector_search_uses_the_hnsw_index(backend_url: Callable[[str], str]) -> None:
    backend = open_backend(backend_url("postgres"), Backend)
    assert isinstance(backend, PostgresBackend)
    rng = np.random.default_rng(7)
    for i in range(200):
        backend.add(record(f"memory {i}"), unit(*rng.normal(size=8)))
    target = backend.add(record("the one"), unit(1, 0, 0, 0, 0, 0, 0, 0))[0]
    with backend._transaction("check") as conn:
        indexes = [row[0] for row in conn.execute("SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'memories_embedding%' AND schemaname = current_schema()")]
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


def test_a_schema_of_the_first_release_is_migrated_with_its_memories(
    backend_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = backend_url("postgres")
    with monkeypatch.context() as patch:
        patch.setattr(sql, "MIGRATIONS", sql.MIGRATIONS[:1])
        old = open_backend(url, Backend)
        at = record("x").created_at  # one moment for all, as an import gives: order falls to pk
        stored = [old.add(replace(record(f"step {i} of the recipe"), created_at=at))[0].id for i in range(3)]
        old.close()
    backend = open_backend(url, Backend)
    assert isinstance(backend, PostgresBackend)
    found = {c.id: c for c in backend.candidates("ada", Query(text="step", k=1, context=2, context_window=60))}
    assert set(found) == set(stored)
    anchor = next(c for c in found.values() if c.before or c.after)
    assert set(anchor.before + anchor.after) == set(stored) - {anchor.id}
    with backend._transaction("check") as conn:
        applied = [row[0] for row in conn.execute("SELECT name FROM pmem_migrations ORDER BY name")]
        indexes = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'memories' AND schemaname = current_schema()")}
    assert applied == [name for name, _ in sql.MIGRATIONS]
    assert "memories_timeline" in indexes and "memories_persona_created" not in indexes
    backend.close()


def test_words_in_most_memories_are_scored_but_not_matched_while_rarer_ones_remain(
    backend_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from persona_memory import text

    monkeypatch.setattr(text, "SMALL_STORE", 5)  # as if the store were large
    monkeypatch.setattr(text, "COMMON_MIN", 5)
    backend = open_backend(backend_url("postgres"), Backend)
    for i in range(10):
        backend.add(record(f"the user said thing number {i}"))
    pizza = backend.add(record("the user loves pizza"))[0]
    plain = backend.add(record("the chef loves pizza"))[0]
    found = backend.candidates("ada", Query(text="user pizza", k=50))
    assert {c.id for c in found} == {pizza.id, plain.id}  # "user" is everywhere: not matched on
    assert max(found, key=lambda c: c.text_score or 0).id == pizza.id  # but it still counts
    assert len(backend.candidates("ada", Query(text="user", k=50))) == 11  # nothing rarer: kept
    backend.close()


def test_with_a_vector_words_too_common_to_match_only_score_what_the_vectors_find(
    backend_url: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from persona_memory import text

    monkeypatch.setattr(text, "SMALL_STORE", 5)
    monkeypatch.setattr(text, "COMMON_MIN", 5)
    monkeypatch.setattr(sql, "MATCH_MAX", 5)  # as if "user" were in millions of memories
    backend = open_backend(backend_url("postgres"), Backend)
    for i in range(10):
        backend.add(record(f"the user said thing number {i}"), unit(0, 1, 0, 0))
    near = backend.add(record("the user loves the sea"), unit(1, 0, 0, 0))[0]
    found = backend.candidates("ada", Query(text="user", vector=unit(1, 0.1, 0, 0), k=3))
    assert len(found) == 3 and near.id in {c.id for c in found}  # the vector side alone
    assert all(c.text_score is not None and c.text_score > 0 for c in found)  # scored, not matched
    assert len(backend.candidates("ada", Query(text="user", k=50))) == 11  # no vector: matched
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
    with pytest.raises(ConfigError, match="ef_search"):
        open_backend("postgresql://localhost/db?ef_search=-3", Backend)


def test_ef_search_from_the_url_is_used_by_vector_search(backend_url: Callable[[str], str]) -> None:
    backend = open_backend(backend_url("postgres") + "&ef_search=123", Backend)
    assert isinstance(backend, PostgresBackend) and backend.ef_search == 123
    backend.add(record("the one"), unit(1, 0, 0, 0))
    seen: list[str] = []
    real = backend._nearest

    def spy(conn, *args):  # type: ignore[no-untyped-def]
        result = real(conn, *args)
        seen.append(conn.execute("SHOW hnsw.ef_search").fetchone()[0])
        return result

    backend._nearest = spy  # type: ignore[method-assign]
    assert len(backend.candidates("ada", Query(vector=unit(1, 0, 0, 0), k=5))) == 1
    assert seen == ["123"]
    backend.close()


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
