"""An opsdroid database module backed by persona-memory.

Install ``persona-memory[opsdroid]`` and configure it by name; the ``opsdroid_databases`` entry
point finds it, so no ``path:`` or ``module:`` is needed::

    databases:
      persona_memory:
        base_path: ~/.local/share/mybot      # optional; default MEMORY_BASE_PATH or ~/.openclaw/memory
        namespace: mybot                     # optional; default "opsdroid"
        # url: sqlite:////srv/bot/kv.db      # optional: one backend URL instead of base_path

``self.opsdroid.memory.get/put/delete`` in skills then read and write the SQLite store, shared
safely by several processes and kept across restarts. (The option is not called ``path``:
opsdroid takes ``path`` to mean "install this module from here".)

Values: any JSON value, plus ``datetime``/``date``/``time`` (with their timezone, where opsdroid's
sqlite drops it). Non-JSON values (sets, bytes, NaN) raise ``InvalidInputError``.

Falsy values: opsdroid 0.31's ``Memory.get`` returns ``result or default``, so a stored ``0``,
``""``, ``[]``, ``{}`` or ``False`` reaches a skill as ``None`` (or the default) whatever the
database. This module returns them faithfully; a skill that needs them can ask the database
directly: ``await self.opsdroid.get_database("persona_memory").get(key)``.

opsdroid instantiates every ``Database`` subclass it finds in this module, so the only class
defined or imported here is :class:`PersonaMemoryDatabase`; opsdroid's own module is imported
as a module, never its classes.
"""

from __future__ import annotations

import builtins
import gettext
from typing import Any

import opsdroid.database as _opsdroid_database

from ._async.memory import AsyncMemory
from .errors import BackendUnavailableError

# opsdroid's modules log with ``_("...")``, which exists only once opsdroid's CLI has installed
# gettext; a bot embedded in a program (or a test) would fail with NameError without it.
if not hasattr(builtins, "_"):
    gettext.install("opsdroid")

DEFAULT_NAMESPACE = "opsdroid"

#: Checked by opsdroid (voluptuous) when the configuration is loaded.
CONFIG_SCHEMA = {"base_path": str, "url": str, "namespace": str}


class PersonaMemoryDatabase(_opsdroid_database.Database):  # type: ignore[misc]
    """``databases: {persona_memory: {...}}``: opsdroid's memory in a persona-memory store."""

    def __init__(self, config: dict[str, Any], opsdroid: Any = None) -> None:
        super().__init__(config, opsdroid=opsdroid)
        self.name = "persona_memory"  # what opsdroid.get_database() finds it by
        self.memory: AsyncMemory | None = None

    async def connect(self) -> None:
        """Open the store; a bad option or an unusable store stops opsdroid's start-up here."""
        self.memory = AsyncMemory(
            self.config.get("namespace", DEFAULT_NAMESPACE),
            url=self.config.get("url"),
            base_path=self.config.get("base_path"),
        )
        await self.memory.keys()  # touch the store now rather than on the first message

    async def disconnect(self) -> None:
        if self.memory is not None:
            await self.memory.aclose()
            self.memory = None

    async def get(self, key: Any) -> Any:
        """The stored value, or ``None`` if there is none."""
        return await self._memory().get(str(key))

    async def put(self, key: Any, data: Any) -> bool:
        """Store ``data`` durably under ``key`` (opsdroid's sqlite stores keys as text too)."""
        await self._memory().put(str(key), data)
        return True

    async def delete(self, key: Any) -> bool:
        """Delete ``key``; True if it existed. A missing key is not an error."""
        return await self._memory().delete(str(key))

    def _memory(self) -> AsyncMemory:
        if self.memory is None:
            raise BackendUnavailableError("the persona_memory database is not connected: opsdroid calls connect() at start")
        return self.memory
