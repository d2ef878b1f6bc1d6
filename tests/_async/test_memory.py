"""Key-value memory: input checking, defaults and several databases (behaviour is in the contract suite)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from persona_memory import AsyncMemory, InvalidInputError


@pytest.fixture
async def memory(tmp_path: Path):
    m = AsyncMemory(url=f"sqlite:///{tmp_path / 'kv.db'}")
    yield m
    await m.aclose()


@pytest.mark.parametrize(
    ("value", "where"),
    [({1, 2}, "set"), (object(), "object"), (float("nan"), "NaN"), ({"a": b"bytes"}, "bytes"), ({1: "x"}, "keys")],
)
async def test_non_json_values_are_refused_with_a_clear_error(
    memory: AsyncMemory, value: object, where: str
) -> None:
    with pytest.raises(InvalidInputError, match=where) as info:
        await memory.put("k", value)
    assert "data" in str(info.value)
    assert await memory.get("k") is None


@pytest.mark.parametrize("key", ["", 5, None, "a\x00b", "x" * 2000])
async def test_bad_keys_are_refused(memory: AsyncMemory, key: object) -> None:
    with pytest.raises(InvalidInputError, match="key"):
        await memory.put(key, 1)  # type: ignore[arg-type]


async def test_default_location_is_under_memory_base_path(clean_environ: Path) -> None:
    async with AsyncMemory() as memory:
        await memory.put("k", 1)
    assert (clean_environ / "kv.db").exists()


async def test_write_through_to_every_database_and_read_from_first_that_has_it(tmp_path: Path) -> None:
    fast, durable = f"sqlite:///{tmp_path / 'fast.db'}", f"sqlite:///{tmp_path / 'durable.db'}"
    async with AsyncMemory(databases=[fast, durable]) as memory:
        await memory.put("k", "both")
    async with AsyncMemory(databases=[durable]) as only_durable:
        assert await only_durable.get("k") == "both"
        await only_durable.put("only-in-durable", 42)
    async with AsyncMemory(databases=[fast, durable]) as memory:
        assert await memory.get("only-in-durable") == 42  # a miss in `fast` falls through
        assert await memory.delete("k") is True
    async with AsyncMemory(databases=[fast]) as only_fast:
        assert await only_fast.get("k") is None




async def test_redis_as_a_shared_fast_tier_in_front_of_sqlite(tmp_path: Path, backend_url) -> None:
    fast, durable = backend_url("redis"), f"sqlite:///{tmp_path / 'durable.db'}"
    async with AsyncMemory("bot", databases=[fast, durable]) as memory:
        await memory.put("user", {"name": "Ada", "since": dt.date(2024, 1, 2)})
        await memory.put("session", "temporary", ttl=3600)
        assert await memory.get("user") == {"name": "Ada", "since": dt.date(2024, 1, 2)}
    # another host sees it through the shared tier alone
    async with AsyncMemory("bot", databases=[fast]) as other_host:
        assert await other_host.get("user") == {"name": "Ada", "since": dt.date(2024, 1, 2)}
        assert await other_host.delete("user") is True  # e.g. evicted from the fast tier
    async with AsyncMemory("bot", databases=[fast, durable]) as memory:
        assert await memory.get("user") == {"name": "Ada", "since": dt.date(2024, 1, 2)}  # falls through
        assert await memory.keys() == ["session", "user"]
        assert await memory.delete("user") is True
    async with AsyncMemory("bot", databases=[durable]) as only_durable:
        assert await only_durable.get("user") is None
        assert await only_durable.get("session") == "temporary"
