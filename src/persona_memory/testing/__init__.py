"""The backend contract suite, for this project's backends and for third-party ones.

Every backend must pass the same tests, written once (async; the sync twin is generated).
Subclass a contract class in your own test module and give it one fixture, ``make_backend``:
a callable that opens a *new* backend object on the same, initially empty storage each time
it is called (several objects on one storage stand for several processes)::

    # tests/test_my_backend.py         (needs: pip install 'persona-memory[testing]')
    import pytest
    from persona_memory.testing import AsyncBackendContract, BackendContract

    class TestMyAsyncBackend(AsyncBackendContract):
        @pytest.fixture
        def make_backend(self, tmp_path):
            return lambda: MyAsyncBackend(tmp_path / "store")

    class TestMySyncBackend(BackendContract):
        @pytest.fixture
        def make_backend(self, tmp_path):
            return lambda: MyBackend(tmp_path / "store")

The classes:

* ``AsyncKeyValueContract`` / ``KeyValueContract``: the ``Memory`` (opsdroid) contract, for
  every backend;
* ``AsyncRecordContract`` / ``RecordContract``: persona memories (store, retrieve, search,
  update, forget, stats, export/import), for backends with ``supports_records``;
* ``AsyncVectorContract`` / ``VectorContract``: stored vectors and nearest-neighbour search,
  for backends with ``supports_vectors``;
* ``AsyncBackendContract`` / ``BackendContract``: key-value and records together.

The async classes carry pytest-asyncio's ``asyncio`` mark, so they run in ``strict`` mode too.
"""

import pytest

# before the contract modules are imported, so their plain asserts explain failures
pytest.register_assert_rewrite("persona_memory.testing._async", "persona_memory.testing._sync")

from ._async.contract import (  # noqa: E402
    AsyncBackendContract,
    AsyncKeyValueContract,
    AsyncRecordContract,
    AsyncVectorContract,
)
from ._sync.contract import (  # noqa: E402
    BackendContract,
    KeyValueContract,
    RecordContract,
    VectorContract,
)

__all__ = [
    "AsyncBackendContract",
    "AsyncKeyValueContract",
    "AsyncRecordContract",
    "AsyncVectorContract",
    "BackendContract",
    "KeyValueContract",
    "RecordContract",
    "VectorContract",
]
