"""Test hygiene: every test gets its own MEMORY_BASE_PATH and a clean environment."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ENV_VARS = (
    "MEMORY_BASE_PATH",
    "MEMORY_PROVIDER",
    "MEMORY_API_KEY",
    "PERSONA_SLUG",
    "PMEM_URL",
    "PMEM_DURABILITY",
    "PMEM_BUSY_TIMEOUT",
    "PMEM_LOAD_BACKENDS",
    "PMEM_EMBEDDER",
    "PMEM_EMBEDDER_URL",
    "PMEM_EMBEDDER_MODEL",
    "PMEM_EMBEDDER_API_KEY",
    "PMEM_EMBEDDER_DIMENSION",
)


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No test touches ~/.openclaw: the base path points into the test's tmp_path."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    base = tmp_path / "memory-base"
    monkeypatch.setenv("MEMORY_BASE_PATH", str(base))
    yield base
    assert not os.environ.get("PMEM_URL", "").startswith("sqlite:///" + str(Path.home()))
