"""The Redis backend beyond the key-value contract: layout, TTL, isolation, errors."""

from __future__ import annotations

import socket
from collections.abc import Callable

import pytest
import redis

from persona_memory import AsyncPersonaStore, BackendError, BackendUnavailableError, InvalidInputError, Memory
from persona_memory.backends._sync.base import Backend
from persona_memory.backends._sync.redis import RedisBackend
from persona_memory.models import MemoryRecord, MemoryType, utcnow
from persona_memory.registry import open_backend


def test_keys_are_namespaced_strings_with_redis_ttl(backend_url: Callable[[str], str]) -> None:
    url = backend_url("redis")
    backend = open_backend(url, Backend)
    assert isinstance(backend, RedisBackend)
    with Memory("bot:one", databases=[backend]) as memory:
        memory.put("greeting", {"text": "hi"}, ttl=60)
        memory.put("forever", 1)
    client = redis.Redis.from_url(url.split("?")[0], decode_responses=True)
    name = f"{backend.prefix}kv:7:bot:one:greeting"
    assert client.get(name) == '{"text":"hi"}'
    assert 0 < client.pttl(name) <= 60_000
    assert client.pttl(f"{backend.prefix}kv:7:bot:one:forever") == -1
    client.close()


def test_prefixes_isolate_applications_on_one_server(backend_url: Callable[[str], str]) -> None:
    url = backend_url("redis")
    a = open_backend(url, Backend)
    b = open_backend(url.replace("prefix=", "prefix=other-"), Backend)
    a.kv_put("ns", "k", '"a"')
    assert b.kv_get("ns", "k") is None and b.kv_keys("ns") == []
    b.kv_put("ns", "k", '"b"')
    assert a.kv_get("ns", "k") == '"a"'
    b.kv_delete("ns", "k")


def test_persona_memories_are_refused_clearly(backend_url: Callable[[str], str]) -> None:
    url = backend_url("redis")
    with pytest.raises(InvalidInputError, match="key-value data only"):
        AsyncPersonaStore("ada", url=url)
    backend = open_backend(url, Backend)
    record = MemoryRecord("mem_0000000000000001", "ada", "x", MemoryType.GENERAL, (), 0.5, utcnow())
    with pytest.raises(BackendError, match="key-value data only"):
        backend.add(record)
    assert backend.personas() == []
    assert backend.version() is None  # Memory does not cache what it reads from Redis


def test_unreachable_server_is_a_clear_error() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    backend = open_backend(f"redis://:secret@127.0.0.1:{port}/0?timeout=2", Backend)
    with pytest.raises(BackendUnavailableError, match=f"cannot reach Redis at redis://:\\*\\*\\*@127.0.0.1:{port}/0") as info:
        backend.kv_get("ns", "k")
    assert "secret" not in str(info.value) and "secret" not in repr(backend)


def test_a_pickled_backend_reopens_itself(backend_url: Callable[[str], str]) -> None:
    import pickle

    backend = open_backend(backend_url("redis"), Backend)
    backend.kv_put("ns", "k", '"v"')
    copy = pickle.loads(pickle.dumps(backend))  # e.g. handed to a multiprocessing worker
    assert copy.kv_get("ns", "k") == '"v"' and copy.prefix == backend.prefix
    copy.close()
    backend.close()
