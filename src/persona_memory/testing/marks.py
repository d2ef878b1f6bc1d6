"""Decorators and marks the contract suite uses, under names ``scripts/make_sync.py`` maps async -> sync."""

from __future__ import annotations

import pytest
import pytest_asyncio

#: ``pytestmark`` of an async contract class: every test runs in an event loop (strict mode too).
async_test = [pytest.mark.asyncio]
#: ``pytestmark`` of its sync twin: nothing.
sync_test: list[pytest.MarkDecorator] = []

async_fixture = pytest_asyncio.fixture
sync_fixture = pytest.fixture
