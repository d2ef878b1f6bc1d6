"""The opsdroid database module, end to end with a real opsdroid 0.31.0.

Each bot lifetime is its own process (``tests/helpers/opsdroid_bot.py``), so "a restart" is a
real restart: a new interpreter, a new opsdroid, the same store on disk.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest

from persona_memory import Memory
from persona_memory.errors import BackendUnavailableError, InvalidInputError
from tests.helpers.servers import ROOT, free_port, pmem_env

pytest.importorskip("opsdroid", reason="needs the opsdroid extra")


def bot_lifetime(tmp_path: Path, *messages: str) -> dict[str, object]:
    env = pmem_env(tmp_path / "unused-base")
    for var in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        env[var] = str(tmp_path / "xdg" / var.lower())  # opsdroid writes module dirs there
    result = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "helpers" / "opsdroid_bot.py"), str(tmp_path),
         str(tmp_path / "bot-memory"), str(free_port()), *messages],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_remember_remind_forget_across_restarts(tmp_path: Path) -> None:
    stored = Memory("bot", base_path=str(tmp_path / "bot-memory"))

    first = bot_lifetime(tmp_path, "remember the milk", "remind me")
    assert first["databases"] == ["PersonaMemoryDatabase"]  # exactly one database class loaded
    assert first["replies"] == [["OK I'll remember that"], ["the milk"]]
    assert stored.get("remember_this") == "the milk"  # on disk, readable by any other process

    second = bot_lifetime(tmp_path, "remind me", "forget it")  # a new process: a restart
    assert second["replies"] == [["the milk"], ["Ok I'll forget it"]]
    assert stored.get("remember_this") is None

    third = bot_lifetime(tmp_path, "remind me")
    assert third["replies"] == [["I don't remember anything."]]


# ---- the database class as opsdroid calls it ----


async def test_database_contract(tmp_path: Path) -> None:
    from persona_memory import opsdroid_database

    database = opsdroid_database.PersonaMemoryDatabase({"base_path": str(tmp_path), "namespace": "bot"})
    assert database.name == "persona_memory"
    with pytest.raises(BackendUnavailableError, match="not connected"):
        await database.get("k")
    await database.connect()
    try:
        assert await database.get("missing") is None
        assert await database.delete("missing") is False
        when = dt.datetime(2024, 5, 8, 13, 56, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        for value in [0, "", [], {}, False, "the milk", {"at": when, "on": dt.date(2024, 5, 8)}]:
            await database.put("k", value)
            assert await database.get("k") == value  # falsy values too: no `result or default` here
        await database.put(42, "int keys are stored as text, like opsdroid's sqlite")
        assert await database.get("42") == await database.get(42)
        with pytest.raises(InvalidInputError, match="set is not a JSON value"):
            await database.put("k", {1, 2})
        assert await database.delete("k") is True
    finally:
        await database.disconnect()
    assert Memory("bot", base_path=str(tmp_path)).keys() == ["42"]


def test_module_exposes_exactly_one_database_class() -> None:
    import opsdroid.database

    from persona_memory import opsdroid_database

    found = [value for value in vars(opsdroid_database).values()
             if isinstance(value, type) and issubclass(value, opsdroid.database.Database)
             and value is not opsdroid.database.Database]
    assert found == [opsdroid_database.PersonaMemoryDatabase]
    assert set(opsdroid_database.CONFIG_SCHEMA) == {"base_path", "url", "namespace"}
