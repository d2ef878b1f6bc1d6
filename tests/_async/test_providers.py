"""MEMORY_PROVIDER=zep / mem0: the same persona operations, and a fallback that loses nothing.

Zep and the mem0 platform cannot run here: their tests talk to stand-in HTTP servers
(tests/helpers/standins.py, named as stand-ins) through the real zep-cloud and mem0ai SDKs.
mem0's open-source library runs for real, offline (see test_mem0_local_*).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from persona_memory import (
    AsyncPersonaStore,
    BackendUnavailableError,
    ConfigError,
    FallbackWarning,
    MemoryNotFoundError,
    ProviderUnavailableError,
    signals,
)
from persona_memory.providers._async.remote import OFFLINE_NOTE
from tests.helpers.services import StandIn


@pytest.fixture
def zep(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[StandIn]:
    service = StandIn("zep", tmp_path).start()
    monkeypatch.setenv("MEMORY_PROVIDER", "zep")
    monkeypatch.setenv("MEMORY_API_KEY", service.key)
    monkeypatch.setenv("PMEM_PROVIDER_URL", service.url)
    monkeypatch.setenv("PMEM_PROVIDER_TIMEOUT", "3")
    yield service
    service.stop()


@pytest.fixture
def events() -> Iterator[list[tuple[str, dict]]]:
    seen: list[tuple[str, dict]] = []
    undo = [
        signals.connect(name, lambda name, **kw: seen.append((name, kw)))
        for name in (signals.PROVIDER_UNAVAILABLE, signals.PROVIDER_RESTORED)
    ]
    yield seen
    for disconnect in undo:
        disconnect()


def stored_episodes(service: StandIn) -> list[dict]:
    return list(json.loads(service.state.read_text())["episodes"].values())


async def test_zep_persona_operations(zep: StandIn) -> None:
    async with AsyncPersonaStore("ada") as store:
        food = await store.store("User is vegetarian and loves Italian food", tags=["food"], type="preference")
        emma = await store.store("User's daughter Emma starts school in September", tags=["family"], importance=0.9)
        await store.store("User hates mornings", tags=["mood"])
        # metadata travels with the memory
        meta = {e["content"]: e["metadata"] for e in stored_episodes(zep)}
        assert meta[food.content]["pm_tags"] == ["food"] and meta[food.content]["pm_id"] == food.id
        assert meta[emma.content]["pm_importance"] == 0.9
        assert [r.id for r in await store.retrieve(tags="family")] == [emma.id]
        assert (await store.retrieve(type="preference"))[0].type.value == "preference"
        hits = await store.search("italian food", limit=2)
        assert hits[0].id == food.id and hits[0].record.tags == ("food",)
        assert (await store.get(food.id)).content == food.content
        new = await store.update(food.id, content="User is vegan and loves Italian food")
        assert new.supersedes == food.id
        assert [h.content for h in await store.search("vegan")] == [new.content]
        with pytest.raises(MemoryNotFoundError):
            await store.get(food.id)
        assert await store.forget(emma.id) == [emma.id]
        stats = await store.stats()
        assert stats.total == 2 and dict(stats.top_tags) == {"food": 1, "mood": 1}
        with pytest.raises(MemoryNotFoundError):
            await store.forget("mem_0000000000000000")
        assert await store.pending() == 0
    assert len(stored_episodes(zep)) == 2


async def test_outage_falls_back_and_replays_every_write_once_in_order(
    zep: StandIn, events: list[tuple[str, dict]]
) -> None:
    async with AsyncPersonaStore("ada") as store:
        before = [await store.store(f"memory number {i} about gardens") for i in range(3)]
        zep.stop()  # the service goes down in the middle of a sequence of writes
        during = []
        for i in range(3, 8):
            with pytest.warns(FallbackWarning, match="offline — I'll remember this locally"):
                during.append(await store.store(f"memory number {i} about gardens"))
        with pytest.warns(FallbackWarning):
            forgotten = await store.forget(before[0].id)
        assert forgotten == [before[0].id]
        with pytest.warns(FallbackWarning):
            hits = await store.search("gardens", limit=10)
        assert {h.id for h in hits} == {m.id for m in during}  # the outage's writes are searchable
        assert await store.pending() == 6
        assert [name for name, _ in events].count(signals.PROVIDER_UNAVAILABLE) >= 6
        assert events[0][1]["provider"] == "zep"
        zep.start()  # back, with everything it had stored
        hits = await store.search("gardens", limit=10)  # replays first, then searches the provider
        assert await store.pending() == 0
        assert {h.id for h in hits} == {m.id for m in before[1:] + during}
        assert (signals.PROVIDER_RESTORED, {"provider": "zep", "replayed": 5}) in events
        assert (await store.backend.stats("ada")).total == 0  # local copies went to the provider
    episodes = stored_episodes(zep)
    ids = [e["metadata"]["pm_id"] for e in sorted(episodes, key=lambda e: e["created_at"])]
    assert ids == [m.id for m in before[1:] + during]  # each write once, in order


async def test_interrupted_replay_does_not_duplicate(zep: StandIn) -> None:
    async with AsyncPersonaStore("ada") as store:
        zep.stop()
        with pytest.warns(FallbackWarning):
            record = await store.store("written while the service was down")
        zep.start()
        # the provider got the write, but the process died before the outbox entry was removed
        assert store.remote is not None
        await store.remote.provider.add("ada", record.content, {"pm_id": record.id}, record.id)
        assert await store.sync() == 1
        assert await store.sync() == 0
    assert [e["metadata"]["pm_id"] for e in stored_episodes(zep)] == [record.id]


async def test_rejected_key_falls_back_too(zep: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_API_KEY", "wrong-key")
    async with AsyncPersonaStore("ada") as store:
        with pytest.warns(FallbackWarning, match="401"):
            record = await store.store("kept locally although the key was refused")
        assert await store.pending() == 1
        with pytest.raises(ProviderUnavailableError, match="401"):
            await store.sync()
    monkeypatch.setenv("MEMORY_API_KEY", zep.key)
    async with AsyncPersonaStore("ada") as store:
        assert await store.sync() == 1
        assert (await store.get(record.id)).content == record.content


async def test_update_of_a_remote_memory_during_an_outage_is_refused_clearly(zep: StandIn) -> None:
    async with AsyncPersonaStore("ada") as store:
        record = await store.store("lives in Berlin")
        zep.stop()
        with pytest.warns(FallbackWarning), pytest.raises(ProviderUnavailableError, match="retry"):
            await store.update(record.id, content="lives in Lisbon")
        local = None
        with pytest.warns(FallbackWarning):
            local = await store.store("works as a nurse")
        with pytest.warns(FallbackWarning):
            changed = await store.update(local.id, content="works as a doctor")
        zep.start()
        assert [h.content for h in await store.search("doctor")] == [changed.content]
        assert await store.search("nurse") == []


async def test_mem0_platform_through_its_client(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = StandIn("mem0", tmp_path).start()
    monkeypatch.setenv("MEMORY_PROVIDER", "mem0")
    monkeypatch.setenv("MEMORY_API_KEY", service.key)
    monkeypatch.setenv("PMEM_PROVIDER_URL", service.url)
    monkeypatch.setenv("MEM0_TELEMETRY", "false")
    try:
        async with AsyncPersonaStore("ada") as store:
            record = await store.store("User plays the cello", tags=["music"], type="interest_signal")
            assert (await store.search("cello"))[0].id == record.id
            assert (await store.retrieve(tags="music"))[0].type.value == "interest_signal"
            assert await store.forget(record.id) == [record.id]
            assert (await store.stats()).total == 0
    finally:
        service.stop()


async def test_mem0_platform_down_at_start_falls_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = StandIn("mem0", tmp_path)  # not started: nothing listens on its port
    monkeypatch.setenv("MEMORY_PROVIDER", "mem0")
    monkeypatch.setenv("MEMORY_API_KEY", service.key)
    monkeypatch.setenv("PMEM_PROVIDER_URL", service.url)
    async with AsyncPersonaStore("ada") as store:
        with pytest.warns(FallbackWarning, match="mem0"):
            record = await store.store("remembered although mem0 was down")
        service.start()
        try:
            assert await store.sync() == 1
            assert (await store.search("remembered"))[0].id == record.id
        finally:
            service.stop()


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_PROVIDER", "zep")
    with pytest.raises(ConfigError, match="MEMORY_API_KEY"):
        AsyncPersonaStore("ada")
    monkeypatch.setenv("MEMORY_PROVIDER", "mem0")
    with pytest.raises(ConfigError, match="PMEM_MEM0_CONFIG"):
        AsyncPersonaStore("ada")
    monkeypatch.setenv("PMEM_MEM0_CONFIG", "/nonexistent/mem0.json")
    with pytest.raises(ConfigError, match="cannot read"):
        AsyncPersonaStore("ada")
    monkeypatch.setenv("MEMORY_PROVIDER", "letta")
    with pytest.raises(ConfigError, match="letta"):
        AsyncPersonaStore("ada")


@pytest.mark.parametrize(("provider", "module"), [("zep", "zep_cloud"), ("mem0", "mem0")])
def test_missing_sdk_names_the_extra(provider: str, module: str, tmp_path: Path) -> None:
    # a real failed import: the SDK is hidden from this subprocess
    code = f"""
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r} or name.startswith({module!r} + "."):
            raise ImportError("No module named " + repr(name))
sys.meta_path.insert(0, Hide())
from persona_memory import AsyncPersonaStore, BackendUnavailableError
try:
    AsyncPersonaStore("ada", provider={provider!r}, mem0_config={{}})
except BackendUnavailableError as exc:
    print(exc)
"""
    env = {"MEMORY_API_KEY": "k", "MEMORY_BASE_PATH": str(tmp_path), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert f"pip install 'persona-memory[{provider}]'" in out.stdout
    assert BackendUnavailableError.__name__ and OFFLINE_NOTE
