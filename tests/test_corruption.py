"""Damaged stores: a clear error naming the file and the way out, never a silent empty store.

SQLite files (truncated, header destroyed, bits flipped) and JSON-lines files (bits flipped:
every intact line recovered, each damaged one reported by line number and kept on disk).
"""

from __future__ import annotations

import json
import os
import random
import warnings
from pathlib import Path

import pytest

from persona_memory import CorruptLineWarning, CorruptStoreError, Memory, PersonaStore


@pytest.fixture
def filled(tmp_path: Path) -> Path:
    path = tmp_path / "m.db"
    with PersonaStore("ada", url=f"sqlite:///{path}") as store:
        for i in range(300):
            store.store(f"memory number {i} about gardens, violins and the sea " + "x" * 200)
    with Memory(url=f"sqlite:///{path}") as memory:
        memory.put("k", {"v": 1})
    return path


def read_everything(path: Path) -> None:
    with PersonaStore("ada", url=f"sqlite:///{path}") as store:
        store.stats()
        store.search("gardens", limit=50)
        store.export()


def test_truncated_file(filled: Path) -> None:
    data = filled.read_bytes()
    filled.write_bytes(data[: len(data) // 3])
    with pytest.raises(CorruptStoreError) as info:
        read_everything(filled)
    assert str(filled) in str(info.value) and ".recover" in str(info.value)


def test_header_destroyed(filled: Path) -> None:
    with open(filled, "r+b") as f:
        f.write(b"\0" * 100)
    with pytest.raises(CorruptStoreError, match="damaged"):
        read_everything(filled)


@pytest.mark.parametrize("seed", range(int(os.environ.get("PMEM_FLIP_SEEDS", "8"))))
def test_bit_flips_are_caught_or_harmless(filled: Path, seed: int) -> None:
    """Flip bits in the b-tree pages. Reads work or fail with CorruptStoreError (nothing else
    escapes), and whenever rows went missing silently, ``check()`` reports it with the file."""
    rng = random.Random(seed)
    data = bytearray(filled.read_bytes())
    for _ in range(20):
        offset = rng.randrange(4096, len(data))  # spare the header page, covered above
        data[offset] ^= 1 << rng.randrange(8)
    filled.write_bytes(bytes(data))
    with PersonaStore("ada", url=f"sqlite:///{filled}") as store:
        problems = store.check()
        try:
            complete = store.stats().total == 300 and len(store.export()) == 300
        except CorruptStoreError as error:  # caught while reading: a clear error is the answer
            assert str(filled) in str(error) and ".recover" in str(error)
            return
    if not complete:  # rows went missing without a read error: check() must say so
        assert problems and str(filled) in problems[0] and ".recover" in problems[0]


def test_check_on_a_sound_store(filled: Path) -> None:
    with PersonaStore("ada", url=f"sqlite:///{filled}") as store:
        assert store.check() == []


def test_empty_file_from_a_crashed_copy_is_not_mistaken_for_damage(tmp_path: Path) -> None:
    path = tmp_path / "m.db"
    path.write_bytes(b"")  # what `touch` or a failed copy leaves: SQLite treats it as a new database
    with PersonaStore("ada", url=f"sqlite:///{path}") as store:
        assert store.stats().total == 0
        store.store("works")


def test_pmem_check(filled: Path) -> None:
    from click.testing import CliRunner

    from persona_memory.cli import cli

    url = f"sqlite:///{filled}"
    ok = CliRunner().invoke(cli, ["check", "--url", url, "--json"])
    assert ok.exit_code == 0 and '"ok": true' in ok.output
    data = bytearray(filled.read_bytes())
    for offset in range(8192, len(data), 997):  # damage every page past the first two
        data[offset] ^= 0xFF
    filled.write_bytes(bytes(data))
    bad = CliRunner().invoke(cli, ["check", "--url", url])
    assert bad.exit_code == 4 and str(filled) in bad.output and "Traceback" not in bad.output


@pytest.mark.parametrize("seed", range(8))
def test_bit_flips_in_json_lines_lose_only_the_damaged_lines(tmp_path: Path, seed: int) -> None:
    url = f"jsonl://{tmp_path}"
    with PersonaStore("ada", url=url) as store:
        for i in range(40):
            store.store(f"memory number {i} about gardens and the sea", tags=["t"])
    path = next(tmp_path.rglob("memories.jsonl"))
    before = path.read_bytes().splitlines(keepends=True)
    data = bytearray(path.read_bytes())
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 6)):
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
    path.write_bytes(bytes(data))
    damaged = [n for n, (a, b) in enumerate(zip(before, bytes(data).splitlines(keepends=True), strict=False), 1) if a != b]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with PersonaStore("ada", url=url) as store:
            intact = {r.content for r in store.export()}
            store.store("written after the damage")  # rewrites or appends: must keep the bad lines
    reported = {int(str(w.message).split(":")[1]) for w in caught if issubclass(w.category, CorruptLineWarning)}
    assert reported <= set(damaged)  # only damaged lines are reported (a flip can leave valid JSON)
    assert {json.loads(line)["content"] for n, line in enumerate(before, 1) if n not in damaged} <= intact
    after = path.read_bytes()
    for n in reported:
        assert bytes(data).splitlines()[n - 1] in after  # kept for a human to repair
