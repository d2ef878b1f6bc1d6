"""A server stopped mid-run: a clear error for the calls it cannot serve, nothing lost, and the
store usable again once the server is back.

Redis: a private ``redis-server`` started and killed by the test. PostgreSQL: the test server of
scripts/servers.sh, stopped with ``pg_ctl stop -m fast`` and started again with its own options.
(Not ``-m immediate``: that test server runs with ``synchronous_commit=off`` for speed, so a crash
of the *server* could drop commits it had acknowledged; a production server keeps it on.)
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from persona_memory import BackendError, Memory, PersonaStore
from tests.conftest import server_url, with_query
from tests.helpers.servers import free_port


@pytest.fixture
def redis_process(tmp_path: Path) -> Iterator[tuple[str, callable]]:  # type: ignore[valid-type]
    if shutil.which("redis-server") is None:
        if os.environ.get("PMEM_CI"):
            pytest.fail("redis-server is missing (scripts/servers.sh installs it)")
        pytest.skip("needs redis-server")
    port = free_port()
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(tmp_path)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
        for _ in range(100):
            if subprocess.run(["redis-cli", "-p", str(port), "ping"], capture_output=True).returncode == 0:
                return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def kill() -> None:
        for proc in procs:
            proc.kill()
            proc.wait()
        procs.clear()

    start()
    yield f"redis://127.0.0.1:{port}/0?timeout=2", (start, kill)
    kill()


def test_redis_killed_mid_run(redis_process: tuple[str, tuple], tmp_path: Path) -> None:  # type: ignore[type-arg]
    url, (start, kill) = redis_process
    durable = f"sqlite:///{tmp_path / 'durable.db'}"
    memory = Memory("bot", databases=[url, durable])
    for i in range(20):
        memory.put(f"k{i}", i)
    kill()  # the shared fast tier dies
    with pytest.raises(BackendError) as info:
        memory.put("during", 1)
    assert "redis" in str(info.value).lower() and "Traceback" not in str(info.value)
    with Memory("bot", databases=[durable]) as fallback:  # the durable tier lost nothing
        assert [fallback.get(f"k{i}") for i in range(20)] == list(range(20))
    start()  # back, empty (no persistence): writes and reads work again, through to both tiers
    memory.put("after", 2)
    assert memory.get("after") == 2 and memory.get("k3") == 3  # k3 falls through to SQLite
    memory.close()


@pytest.fixture
def postgres_control() -> tuple[str, callable, callable]:  # type: ignore[valid-type]
    url = server_url("postgres")
    binary, data = os.environ.get("PMEM_TEST_POSTGRES_BIN"), os.environ.get("PMEM_TEST_POSTGRES_DATA")
    if not binary or not data:
        if os.environ.get("PMEM_CI"):
            pytest.fail("scripts/servers.sh did not export PMEM_TEST_POSTGRES_BIN / _DATA")
        pytest.skip("needs the PostgreSQL test server of scripts/servers.sh")
    user = os.environ.get("PMEM_TEST_POSTGRES_USER")
    as_pg = ["runuser", "-u", user, "--"] if user else []
    options = shlex.split(Path(data, "postmaster.opts").read_text())
    # postmaster.opts: the server binary, then its arguments; keep those but the data directory
    rest = [a for i, a in enumerate(options[1:]) if a != "-D" and (i == 0 or options[i] != "-D")]

    def stop() -> None:
        subprocess.run([*as_pg, f"{binary}/pg_ctl", "-D", data, "-m", "fast", "-w", "stop"],
                       check=True, capture_output=True)

    def start() -> None:
        subprocess.run([*as_pg, f"{binary}/pg_ctl", "-D", data, "-w", "-t", "60", "-l", f"{data}/../restart.log",
                        "-o", shlex.join(rest), "start"], check=True, capture_output=True)

    return url, stop, start


def test_postgres_stopped_mid_run(postgres_control: tuple, backend_url) -> None:  # type: ignore[type-arg]
    _url, stop, start = postgres_control
    url = with_query(backend_url("postgres"), timeout="2")
    store = PersonaStore("ada", url=url)
    kept = [store.store(f"memory {i} before the outage").id for i in range(20)]
    stop()
    try:
        with pytest.raises(BackendError) as info:
            store.store("while the server is down")
        assert "postgresql://" in str(info.value) and "Traceback" not in str(info.value)
        with pytest.raises(BackendError):
            store.search("memory")
    finally:
        start()
    # the same object recovers once the server is back, and everything acknowledged is there
    deadline = time.monotonic() + 30
    while True:
        try:
            assert len(store.backend.get_records("ada", kept)) == 20
            break
        except BackendError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    store.store("after the outage")
    assert store.stats().total == 21
    store.close()
