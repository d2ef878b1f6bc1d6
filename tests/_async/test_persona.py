"""Persona memories: input checking, settings and layout (behaviour is in the contract suite)."""

from __future__ import annotations

from pathlib import Path

import pytest

from persona_memory import (
    AsyncPersonaStore,
    ConfigError,
    InvalidInputError,
)


@pytest.fixture
async def store(tmp_path: Path):
    s = AsyncPersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}")
    yield s
    await s.aclose()


async def test_default_layout_is_openpersona(clean_environ: Path) -> None:
    async with AsyncPersonaStore("ada") as store:
        await store.store("hello")
    assert (clean_environ / "persona-ada" / "memories.db").exists()


async def test_persona_slug_from_environment(clean_environ: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERSONA_SLUG", "env-persona")
    async with AsyncPersonaStore() as store:
        assert store.persona == "env-persona"
        await store.store("x")
    assert (clean_environ / "persona-env-persona" / "memories.db").exists()


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": 42}, "content"),
        ({"content": "nul\x00byte"}, "content"),
        ({"content": "x" * 40_000}, "content"),
        ({"content": "ok", "importance": 1.5}, "importance"),
        ({"content": "ok", "importance": -0.1}, "importance"),
        ({"content": "ok", "importance": float("nan")}, "importance"),
        ({"content": "ok", "importance": "high"}, "importance"),
        ({"content": "ok", "type": "gossip"}, "type"),
        ({"content": "ok", "tags": [1]}, "tags"),
        ({"content": "ok", "tags": ["a,b"]}, "tags"),
        ({"content": "ok", "metadata": "x"}, "metadata"),
        ({"content": "ok", "metadata": {"x": {1, 2}}}, "metadata"),
        ({"content": "ok", "at": "yesterday-ish"}, "at"),
    ],
)
async def test_bad_input_names_the_argument_and_value(
    store: AsyncPersonaStore, kwargs: dict, argument: str
) -> None:
    with pytest.raises(InvalidInputError) as info:
        await store.store(**kwargs)
    assert argument in str(info.value)
    assert (await store.stats()).total == 0


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"since": "last tuesday"}, "since"),
        ({"until": "soon"}, "until"),
        ({"since": "2025-01-01", "until": "2024-01-01"}, "until"),
        ({"limit": 0}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"type": "nope"}, "type"),
        ({"match": "some"}, "match"),
    ],
)
async def test_bad_retrieve_arguments(store: AsyncPersonaStore, kwargs: dict, argument: str) -> None:
    with pytest.raises(InvalidInputError, match=argument):
        await store.retrieve(**kwargs)


@pytest.mark.parametrize("slug", ["../x", "/etc", "", "a/b", "..", ".hidden", "x" * 65, "a..b"])
def test_bad_slugs_are_refused(slug: str) -> None:
    with pytest.raises(ConfigError, match="slug"):
        AsyncPersonaStore(slug)


def test_unknown_provider_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MEMORY_PROVIDER", "letta")
    with pytest.raises(ConfigError, match="MEMORY_PROVIDER='letta'"):
        AsyncPersonaStore("ada")
