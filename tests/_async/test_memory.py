"""Key-value memory: the opsdroid Memory contract (get / put / delete)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest

from persona_memory import AsyncMemory, InvalidInputError
from persona_memory.backends._async.base import AsyncBackend
from persona_memory.registry import open_backend


@pytest.fixture
async def memory(tmp_path: Path):
    m = AsyncMemory(url=f"sqlite:///{tmp_path / 'kv.db'}")
    yield m
    await m.aclose()


async def test_put_get_delete_roundtrip(memory: AsyncMemory) -> None:
    await memory.put("remember_this", "the milk")
    assert await memory.get("remember_this") == "the milk"
    assert await memory.delete("remember_this") is True
    assert await memory.get("remember_this") is None


async def test_missing_key_gives_none_or_default(memory: AsyncMemory) -> None:
    assert await memory.get("nothing") is None
    assert await memory.get("nothing", "wibble") == "wibble"


async def test_delete_missing_key_is_not_an_error(memory: AsyncMemory) -> None:
    assert await memory.delete("never-stored") is False


@pytest.mark.parametrize("value", [0, "", [], {}, False, 0.0, None])
async def test_falsy_values_come_back_as_themselves(memory: AsyncMemory, value: object) -> None:
    await memory.put("k", value)
    assert await memory.get("k", default="DEFAULT") == value
    assert type(await memory.get("k", default="DEFAULT")) is type(value)


async def test_json_values_roundtrip(memory: AsyncMemory) -> None:
    value = {"a": [1, 2.5, "x", None, True], "nested": {"deep": [{"k": "v"}]}, "unicode": "héllo ✓"}
    await memory.put("k", value)
    assert await memory.get("k") == value


async def test_datetimes_roundtrip_with_timezone(memory: AsyncMemory) -> None:
    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    value = {
        "aware": dt.datetime(2024, 5, 8, 13, 56, 7, 123456, tzinfo=berlin),
        "utc": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        "naive": dt.datetime(2024, 1, 1, 12, 0),
        "date": dt.date(2024, 2, 29),
        "time": dt.time(7, 30, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        "list": [dt.date(2020, 1, 1)],
    }
    await memory.put("when", value)
    back = await memory.get("when")
    assert back == value
    assert back["aware"].utcoffset() == dt.timedelta(hours=2)
    assert back["naive"].tzinfo is None
    assert back["time"].utcoffset() == dt.timedelta(hours=-5)


async def test_values_that_look_like_markers_are_not_misread(memory: AsyncMemory) -> None:
    value = {"$datetime": "2024-01-01T00:00:00"}
    await memory.put("k", value)
    assert await memory.get("k") == value
    await memory.put("k2", [{"$$date": "x"}, {"$escape": 1}])
    assert await memory.get("k2") == [{"$$date": "x"}, {"$escape": 1}]


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


async def test_namespaces_are_isolated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    async with AsyncMemory("bot-a", url=url) as a, AsyncMemory("bot-b", url=url) as b:
        await a.put("name", "Ada")
        assert await b.get("name") is None
        await b.put("name", "Bob")
        assert await a.get("name") == "Ada"
        assert await a.keys() == ["name"]


async def test_persists_across_a_new_instance(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kv.db'}"
    async with AsyncMemory(url=url) as first:
        await first.put("k", {"v": 1})
    async with AsyncMemory(url=url) as second:
        assert await second.get("k") == {"v": 1}


async def test_default_location_is_under_memory_base_path(clean_environ: Path) -> None:
    async with AsyncMemory() as memory:
        await memory.put("k", 1)
    assert (clean_environ / "kv.db").exists()


async def test_cache_sees_writes_from_another_instance(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'kv.db'}"
    async with AsyncMemory(url=url) as reader, AsyncMemory(url=url) as writer:
        await writer.put("k", "v1")
        assert await reader.get("k") == "v1"
        assert await reader.get("k") == "v1"  # now served from the cache
        await writer.put("k", "v2")
        assert await reader.get("k") == "v2"
        await writer.delete("k")
        assert await reader.get("k") is None
        await writer.put("k", "v3")
        assert await reader.get("k") == "v3"  # a cached miss is invalidated too


async def test_cache_sees_writes_through_a_shared_backend(tmp_path: Path) -> None:
    shared = open_backend(f"sqlite:///{tmp_path / 'kv.db'}", AsyncBackend)
    a, b = AsyncMemory(databases=[shared]), AsyncMemory(databases=[shared])
    await a.put("k", 1)
    assert await b.get("k") == 1
    await a.put("k", 2)
    assert await b.get("k") == 2
    await a.aclose()


async def test_returned_values_are_copies(memory: AsyncMemory) -> None:
    await memory.put("k", {"list": [1]})
    first = await memory.get("k")
    first["list"].append(2)
    assert await memory.get("k") == {"list": [1]}


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


async def test_ttl_expires(memory: AsyncMemory) -> None:
    await memory.put("short", 1, ttl=0.05)
    await memory.put("long", 2, ttl=3600)
    import asyncio

    await asyncio.sleep(0.1)
    assert await memory.get("short") is None
    assert await memory.get("long") == 2
    assert await memory.keys() == ["long"]
    with pytest.raises(InvalidInputError, match="ttl"):
        await memory.put("k", 1, ttl=-1)


async def test_uncached_memory_reads_through(tmp_path: Path) -> None:
    async with AsyncMemory(url=f"sqlite:///{tmp_path / 'kv.db'}", cache=False) as memory:
        await memory.put("k", 1)
        assert await memory.get("k") == 1
