"""The provider contract: a remote memory service seen as a list of texts with metadata.

A provider knows nothing of importance, decay or fallback: those live in
:mod:`persona_memory.providers.metadata` (what travels in the service's metadata) and in
:class:`~persona_memory.providers._async.remote.AsyncRemoteMemories` (ranking, fallback, replay).

Every method raises :class:`~persona_memory.errors.ProviderUnavailableError` when the service is
unreachable, times out, or rejects the key (the caller then falls back to the local store), and
:class:`~persona_memory.errors.ProviderError` for any other refusal. SDK exceptions never escape.
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from ..metadata import RemoteMemory


class AsyncProvider(abc.ABC):
    """A remote memory service, scoped by persona slug."""

    name: ClassVar[str] = ""

    @abc.abstractmethod
    async def add(self, persona: str, content: str, metadata: dict[str, Any], key: str) -> str:
        """Store ``content``; returns the service's id. Must not call an LLM.

        ``key`` (our memory id) makes the call idempotent where the service allows it.
        """

    @abc.abstractmethod
    async def search(self, persona: str, query: str, limit: int) -> list[RemoteMemory]:
        """The service's best matches for ``query``, best first, with ``score`` set."""

    @abc.abstractmethod
    async def list_all(self, persona: str, limit: int) -> list[RemoteMemory]:
        """Up to ``limit`` of the persona's memories (any order)."""

    @abc.abstractmethod
    async def find(self, persona: str, memory_id: str) -> RemoteMemory | None:
        """The memory whose ``pm_id`` metadata (or service id) is ``memory_id``, if any."""

    @abc.abstractmethod
    async def update(self, persona: str, remote_id: str, content: str, metadata: dict[str, Any]) -> None:
        """Replace a memory's content and metadata."""

    @abc.abstractmethod
    async def delete(self, persona: str, remote_id: str) -> None:
        """Delete a memory; deleting one that is already gone is not an error."""

    async def aclose(self) -> None:  # noqa: B027 (optional)
        """Release connections."""
