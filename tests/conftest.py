"""Test hygiene (own MEMORY_BASE_PATH, clean environment) and URLs of every backend.

Server backends read their server from ``PMEM_TEST_REDIS_URL`` / ``PMEM_TEST_POSTGRES_URL``
(``scripts/test`` starts both). Without one, their tests skip, except under ``PMEM_CI=1``
(set by ``scripts/test``), where a missing server fails the run.
"""

from __future__ import annotations

import os
import tempfile
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
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
SERVER_ENV = {"redis": "PMEM_TEST_REDIS_URL", "postgres": "PMEM_TEST_POSTGRES_URL"}


BACKENDS = ("sqlite", "jsonl", "redis", "postgres")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--backend", action="append", choices=BACKENDS, default=[],
        help="run the backend-parametrized tests for this backend only (repeatable)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wanted = set(config.getoption("--backend"))
    if not wanted:
        return
    keep, drop = [], []
    for item in items:
        callspec = getattr(item, "callspec", None)
        param = callspec.params.get("make_backend") if callspec is not None else None
        (drop if param in BACKENDS and param not in wanted else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


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


def server_url(name: str) -> str:
    """The base URL of a running server, or skip (fail in CI) when there is none."""
    url = os.environ.get(SERVER_ENV[name])
    if not url:
        message = f"no {name} server: set {SERVER_ENV[name]} (scripts/test starts one)"
        if os.environ.get("PMEM_CI"):
            pytest.fail(message + "; in CI a missing server is a failure")
        pytest.skip(message)
    return url


def with_query(url: str, **params: str) -> str:
    parts = urllib.parse.urlsplit(url)
    query = urllib.parse.parse_qsl(parts.query) + list(params.items())
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def _drop_redis_prefix(url: str, prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=prefix.replace("[", "[[]") + "*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _drop_postgres_schema(url: str, schema: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture
def backend_url(tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """``backend_url(name)``: the URL of a fresh, empty store of that backend, for this test.

    Server backends get their own key prefix (Redis) or schema (PostgreSQL), removed afterwards.
    """
    made: dict[str, str] = {}
    cleanups: list[Callable[[], None]] = []

    def make(name: str) -> str:
        if name in made:
            return made[name]
        tag = uuid.uuid4().hex[:12]
        if name == "sqlite":
            url = f"sqlite://{tmp_path / 'store.db'}"
        elif name == "jsonl":
            url = f"jsonl://{tmp_path / 'jsonl-store'}"
        elif name == "redis":
            base = server_url("redis")
            prefix = f"pmem-test-{tag}:"
            url = with_query(base, prefix=prefix)
            cleanups.append(lambda: _drop_redis_prefix(base, prefix))
        elif name == "postgres":
            base = server_url("postgres")
            schema = f"pmem_test_{tag}"
            url = with_query(base, schema=schema)
            cleanups.append(lambda: _drop_postgres_schema(base, schema))
        else:
            raise ValueError(f"unknown backend {name!r}")
        made[name] = url
        return url

    yield make
    for cleanup in cleanups:
        cleanup()
