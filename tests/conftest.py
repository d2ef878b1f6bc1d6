"""Test hygiene: every test gets its own MEMORY_BASE_PATH and a clean environment."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.servers import Server, running_server

# mem0 reads MEM0_DIR once, at import time: point it away from ~/.mem0 before any test imports it
os.environ["MEM0_DIR"] = tempfile.mkdtemp(prefix="pmem-test-mem0-")
os.environ.setdefault("MEM0_TELEMETRY", "false")

ENV_VARS = (
    "MEMORY_BASE_PATH",
    "MEMORY_PROVIDER",
    "MEMORY_API_KEY",
    "PERSONA_SLUG",
    "PMEM_URL",
    "PMEM_DURABILITY",
    "PMEM_BUSY_TIMEOUT",
    "PMEM_LOAD_BACKENDS",
    "PMEM_PROVIDER_URL",
    "PMEM_PROVIDER_TIMEOUT",
    "PMEM_MEM0_CONFIG",
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


@pytest.fixture(scope="module")
def api_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A real ``pmem serve`` process, without tokens, shared by a test module; ``.base_path`` is its store."""
    pytest.importorskip("fastapi", reason="needs the server extra")
    with running_server(tmp_path_factory.mktemp("api") / "memory-base") as server:
        yield server
