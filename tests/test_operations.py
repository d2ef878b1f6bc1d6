"""The operations table and the store pool the servers share."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from persona_memory.errors import ConfigError, PersonaMemoryError, StorageFullError
from persona_memory.operations import BY_NAME, ERROR_KINDS, OPERATIONS, StorePool, error_kind, wire_value


def test_table_is_consistent() -> None:
    assert len(BY_NAME) == len(OPERATIONS)
    for op in OPERATIONS:
        names = [p.name for p in op.params]
        assert len(set(names)) == len(names) and op.scope_param.name not in names, op.name
        assert all(p.description.strip() for p in (op.scope_param, *op.params)), op.name
        assert not (op.read_only and op.destructive), op.name
    # first match wins: no kind may hide a more specific one listed after it
    for i, kind in enumerate(ERROR_KINDS):
        assert not any(issubclass(later.error, kind.error) for later in ERROR_KINDS[i + 1:]), kind
    assert error_kind(StorageFullError("full")).status == 507
    assert error_kind(PersonaMemoryError("?")).status == 500


def test_wire_value_turns_dates_into_iso_text() -> None:
    when = dt.datetime(2024, 5, 8, 13, 56, tzinfo=dt.UTC)
    assert wire_value({"at": when, "days": [dt.date(2024, 5, 8)], "t": (dt.time(9, 30),)}) == {
        "at": "2024-05-08T13:56:00+00:00", "days": ["2024-05-08"], "t": ["09:30:00"]}


async def test_pool_closes_idle_stores_beyond_its_limit(tmp_path: Path) -> None:
    pool = StorePool(base_path=str(tmp_path), max_open=2)
    async with pool.open("persona", "ada") as ada:
        for name in ("bob", "cy", "dee"):
            await pool.execute(BY_NAME["store"], {"persona": name, "content": f"{name} was here"})
        assert ("persona", "ada") in pool._open  # in use: never closed under a request
        assert len(pool._open) <= 3
        assert (await ada.stats()).total == 0
    assert len(pool._open) == 2
    # a closed store reopens on demand with its data
    assert (await pool.execute(BY_NAME["stats"], {"persona": "bob"}))["total"] == 1
    with pytest.raises(ConfigError):
        await pool.execute(BY_NAME["stats"], {"persona": "../etc"})
    await pool.aclose()
    assert not pool._open
