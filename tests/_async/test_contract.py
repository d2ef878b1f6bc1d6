"""The backend contract suite (persona_memory.testing), run against every built-in backend."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from persona_memory.backends._async.base import AsyncBackend
from persona_memory.registry import open_backend
from persona_memory.testing import AsyncBackendContract, AsyncKeyValueContract, AsyncVectorContract

RECORD_BACKENDS = ["sqlite", "jsonl", "postgres"]
VECTOR_BACKENDS = ["sqlite", "postgres"]
KEY_VALUE_ONLY_BACKENDS = ["redis"]


def factory(name: str, backend_url: Callable[[str], str]) -> Callable[[], AsyncBackend]:
    url = backend_url(name)
    return lambda: open_backend(url, AsyncBackend)


class TestBackendContract(AsyncBackendContract):
    @pytest.fixture(params=RECORD_BACKENDS)
    def make_backend(self, request: pytest.FixtureRequest, backend_url: Callable[[str], str]) -> Callable[[], AsyncBackend]:
        return factory(request.param, backend_url)


class TestVectorContract(AsyncVectorContract):
    @pytest.fixture(params=VECTOR_BACKENDS)
    def make_backend(self, request: pytest.FixtureRequest, backend_url: Callable[[str], str]) -> Callable[[], AsyncBackend]:
        return factory(request.param, backend_url)


class TestKeyValueOnlyContract(AsyncKeyValueContract):
    @pytest.fixture(params=KEY_VALUE_ONLY_BACKENDS)
    def make_backend(self, request: pytest.FixtureRequest, backend_url: Callable[[str], str]) -> Callable[[], AsyncBackend]:
        return factory(request.param, backend_url)
