"""The SQLite store under failure: full disk, read-only filesystem, damage, lock contention.

Real failures, not mocks: a database capped with ``PRAGMA max_page_count``, small tmpfs
filesystems mounted by the test (needs root, as in CI), a file of garbage, a second connection
that holds the write lock.
"""

from __future__ import annotations

import os
import pickle
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from persona_memory import (
    CorruptStoreError,
    Memory,
    PersonaStore,
    StorageFullError,
    StoreBusyError,
    StoreReadOnlyError,
    signals,
)
from persona_memory.backends.sqlite import SQLiteBackend


@pytest.fixture
def resource_signals() -> Iterator[list[dict]]:
    seen: list[dict] = []
    disconnect = signals.connect(signals.RESOURCE_LIMIT, lambda name, **kw: seen.append(kw))
    yield seen
    disconnect()


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    """A 1 MiB tmpfs of our own: a filesystem that really fills up."""
    mount = tmp_path / "small-fs"
    mount.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)], capture_output=True)
    if result.returncode != 0:
        if os.environ.get("PMEM_CI"):
            pytest.fail(f"cannot mount a tmpfs in CI: {result.stderr.decode()}")
        pytest.skip("mounting a tmpfs needs root")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_full_database_raises_signals_and_keeps_earlier_data(
    tmp_path: Path, resource_signals: list[dict]
) -> None:
    store = PersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}")
    kept = [store.store(f"memory number {i} " + "x" * 200).id for i in range(20)]
    conn = store.backend._conn()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count={pages}")
    with pytest.raises(StorageFullError, match="full") as info:
        for i in range(1000):
            store.store(f"overflow {i} " + "y" * 2000)
    assert str(tmp_path / "m.db") in str(info.value)
    assert resource_signals and resource_signals[-1]["operation"] == "store"
    assert isinstance(resource_signals[-1]["error"], StorageFullError)
    # everything acknowledged is intact, and the store works again once there is room
    assert [r.id for r in store.backend.get_records("ada", kept)] == kept
    conn.execute("PRAGMA max_page_count=1000000")
    assert store.store("after the disk was freed").content == "after the disk was freed"
    store.close()
    check = sqlite3.connect(tmp_path / "m.db")
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_really_full_filesystem(small_fs: Path, resource_signals: list[dict]) -> None:
    url = f"sqlite:///{small_fs / 'persona' / 'm.db'}"
    store = PersonaStore("ada", url=url)
    acknowledged: list[str] = []
    with pytest.raises(StorageFullError):
        for i in range(10_000):
            acknowledged.append(store.store(f"note {i}: " + os.urandom(200).hex()).id)
    assert len(acknowledged) > 10
    assert resource_signals
    store.close()
    subprocess.run(["mount", "-o", "remount,size=8m", str(small_fs)], check=True)
    reopened = PersonaStore("ada", url=url)
    assert len(reopened.backend.get_records("ada", acknowledged)) == len(acknowledged)
    reopened.store("room again")
    reopened.close()
    check = sqlite3.connect(small_fs / "persona" / "m.db")
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    check.close()


def test_read_only_filesystem_keeps_reads_working(small_fs: Path, resource_signals: list[dict]) -> None:
    url = f"sqlite:///{small_fs / 'm.db'}"
    with PersonaStore("ada", url=url) as store:
        record = store.store("User likes tea", tags=["drink"])
    with Memory(url=url) as memory:
        memory.put("k", "v")
    subprocess.run(["mount", "-o", "remount,ro", str(small_fs)], check=True)
    with PersonaStore("ada", url=url) as store:
        assert [h.id for h in store.search("tea")] == [record.id]
        assert store.retrieve(tags="drink")[0].id == record.id
        assert store.stats().total == 1
        with pytest.raises(StoreReadOnlyError, match="read-only"):
            store.store("cannot be written")
    with Memory(url=url) as memory:
        assert memory.get("k") == "v"
        with pytest.raises(StoreReadOnlyError):
            memory.put("k", "new")
    assert [s["operation"] for s in resource_signals] == ["store", "put"]


def test_damaged_file_is_a_clear_error_not_an_empty_store(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 100)
    with pytest.raises(CorruptStoreError) as info:
        PersonaStore("ada", url=f"sqlite:///{path}").retrieve()
    message = str(info.value)
    assert str(path) in message and ".recover" in message
    assert path.read_bytes().startswith(b"this is not a database")  # left as it was


def test_lock_held_too_long_is_our_error_not_database_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    backend = SQLiteBackend(path, busy_timeout=0.3)
    backend.kv_put("ns", "k", '"v"')
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    started = time.monotonic()
    with pytest.raises(StoreBusyError, match="other writers") as info:
        backend.kv_put("ns", "k", '"w"')
    assert time.monotonic() - started >= 0.25
    assert isinstance(info.value, TimeoutError)
    assert backend.kv_get("ns", "k") == '"v"'  # readers are not blocked in WAL mode
    holder.execute("ROLLBACK")
    backend.kv_put("ns", "k", '"w"')
    assert backend.kv_get("ns", "k") == '"w"'
    holder.close()
    backend.close()


def test_backend_pickles_as_its_settings(tmp_path: Path) -> None:
    backend = SQLiteBackend(tmp_path / "m.db", durability="full", busy_timeout=7)
    backend.kv_put("ns", "k", "1")
    copy = pickle.loads(pickle.dumps(backend))
    assert (copy.path, copy.durability, copy.busy_timeout) == (backend.path, "full", 7.0)
    assert copy.kv_get("ns", "k") == "1"
    copy.close()
    backend.close()


def test_files_are_private(tmp_path: Path) -> None:
    base = tmp_path / "base"
    with PersonaStore("ada", base_path=str(base)) as store:
        store.store("private")
        assert oct((base / "persona-ada").stat().st_mode & 0o777) == "0o700"
        assert oct((base / "persona-ada" / "memories.db").stat().st_mode & 0o777) == "0o600"
        assert oct((base / "persona-ada" / "memories.db-wal").stat().st_mode & 0o777) == "0o600"
    assert oct(base.stat().st_mode & 0o777) == "0o700"


def test_durability_full_sets_synchronous_full(tmp_path: Path) -> None:
    normal = SQLiteBackend(tmp_path / "a.db")
    full = SQLiteBackend(tmp_path / "b.db", durability="full")
    assert normal._conn().execute("PRAGMA synchronous").fetchone()[0] == 1
    assert full._conn().execute("PRAGMA synchronous").fetchone()[0] == 2
    assert normal._conn().execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    normal.close()
    full.close()
