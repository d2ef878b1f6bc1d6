"""Every error and warning persona-memory raises, in one tree.

::

    PersonaMemoryError
     ├─ InvalidInputError (ValueError)       bad argument: names it and the bad value
     │   └─ SecretRefusedError               content looked like a secret; never echoes it
     ├─ MemoryNotFoundError (KeyError)       unknown memory id
     ├─ KeyNotFoundError (KeyError)          no value under a key (CLI, HTTP, MCP; Memory.get returns default)
     ├─ ConfigError                          bad URL, slug, provider, setting
     ├─ BackendError                         the storage failed; nothing stored before is lost
     │   ├─ BackendUnavailableError          extra not installed / server unreachable
     │   ├─ StoreBusyError (TimeoutError)    other writers held the store too long
     │   ├─ StorageFullError                 disk or database full (emits ``resource_limit``)
     │   ├─ StoreReadOnlyError               the file or directory cannot be written
     │   └─ CorruptStoreError                the file is damaged: names it and how to recover
     ├─ CorruptStateError                    a persona's state.json is not valid JSON; left as is
     ├─ EmbedderError                        the embedder failed or does not fit the store
     │   └─ EmbedderMismatchError            the store's vectors come from another embedder
     └─ ProviderError                        an external provider (mem0, zep) failed
     └─ ProviderUnavailableError         unreachable, timed out or rejected the key

    PersonaMemoryWarning (UserWarning)
     ├─ CorruptLineWarning                   a damaged line in a JSON-lines file was skipped
     ├─ FallbackWarning                      an external provider is down; local store used
     ├─ CorruptStateWarning                  state.json is damaged; read without it
     ├─ ResourceLimitWarning                 a write failed for lack of space or permission
     └─ EmbedderWarning                      embedding failed; stored without a vector for now

Driver exceptions (``sqlite3.Error`` and friends) never reach the caller: each backend
translates them at its boundary and chains the original with ``raise ... from exc``.
We never shadow the builtin ``MemoryError``.
"""

from __future__ import annotations

from typing import Any


class PersonaMemoryError(Exception):
    """Root of every exception raised by persona-memory."""


class InvalidInputError(PersonaMemoryError, ValueError):
    """An argument has a bad value. The message names the argument and the value."""

    def __init__(self, argument: str, value: Any, reason: str) -> None:
        self.argument = argument
        self.value = value
        self.reason = reason
        super().__init__(f"invalid {argument}={_short_repr(value)}: {reason}")


class SecretRefusedError(InvalidInputError):
    """The content looks like a secret (password, API key, token...) and was not stored.

    The message says what kind of secret was found but never repeats it.
    """

    def __init__(self, argument: str, kinds: list[str]) -> None:
        self.kinds = kinds
        PersonaMemoryError.__init__(
            self,
            f"refused to store {argument}: it looks like a secret ({', '.join(kinds)}); "
            "secrets belong in a credential manager, not in memory",
        )
        self.argument = argument
        self.value = None
        self.reason = "secret"


class MemoryNotFoundError(PersonaMemoryError, KeyError):
    """No memory with this id exists for this persona."""

    def __init__(self, memory_id: str, persona: str) -> None:
        self.memory_id = memory_id
        self.persona = persona
        super().__init__(f"no memory {memory_id!r} for persona {persona!r}")

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


class KeyNotFoundError(PersonaMemoryError, KeyError):
    """No value is stored under this key.

    Raised by the command line, HTTP and MCP surfaces; ``Memory.get`` keeps the opsdroid
    contract and returns its ``default`` instead.
    """

    def __init__(self, key: str, namespace: str) -> None:
        self.key = key
        self.namespace = namespace
        super().__init__(f"no value for key {key!r} in namespace {namespace!r}")

    def __str__(self) -> str:
        return str(self.args[0])


class ConfigError(PersonaMemoryError):
    """A setting, URL, slug or provider name is not usable."""


class BackendError(PersonaMemoryError):
    """The storage backend failed. Data stored before the failing call is intact."""


class BackendUnavailableError(BackendError):
    """A backend's extra is not installed, or its server cannot be reached."""


class StoreBusyError(BackendError, TimeoutError):
    """Other writers held the store for longer than the configured timeout."""


class StorageFullError(BackendError):
    """The disk or the database is full. Emits the ``resource_limit`` signal."""


class StoreReadOnlyError(BackendError):
    """The store cannot be written (read-only file, directory or filesystem)."""


class CorruptStoreError(BackendError):
    """The store's file is damaged. The message names the file and how to recover."""


class CorruptStateError(PersonaMemoryError):
    """A persona's ``state.json`` cannot be read. It is left untouched; the message says how to fix it."""

    def __init__(self, path: Any, problem: str) -> None:
        self.path = path
        super().__init__(
            f"{path} is damaged ({problem}); it was left as it is. Fix it by hand, or move it "
            "aside and run `pmem evolve` to rebuild the persona's state from its memories"
        )


class EmbedderError(PersonaMemoryError):
    """The embedder failed (model files unusable, service down, wrong output)."""


class EmbedderMismatchError(EmbedderError, ConfigError):
    """The store's vectors were made by another embedder (or dimension) than the one in use.

    Vectors of two models cannot be compared; ``pmem reindex`` re-embeds every memory with
    the embedder in use.
    """

    def __init__(self, stored: str, stored_dimension: str | None, current: str, dimension: int) -> None:
        self.stored = stored
        self.current = current
        super().__init__(
            f"this store's vectors were made by embedder {stored!r} ({stored_dimension} dimensions), "
            f"not by {current!r} ({dimension} dimensions) in use now; run `pmem reindex` to "
            "re-embed every memory with the embedder in use, or open the store with the old one"
        )


class ProviderError(PersonaMemoryError):
    """An external memory provider (mem0, zep) failed or rejected the request."""


class ProviderUnavailableError(ProviderError):
    """The provider is unreachable, timed out, or rejected the key: the local store takes over."""


class PersonaMemoryWarning(UserWarning):
    """Base class of the warnings persona-memory emits."""


class CorruptLineWarning(PersonaMemoryWarning):
    """A damaged line in a JSON-lines file was skipped (the message gives its number)."""


class FallbackWarning(PersonaMemoryWarning):
    """An external provider is unavailable; the local store is used instead."""


class CorruptStateWarning(PersonaMemoryWarning):
    """A persona's ``state.json`` is damaged; the operation went on without it."""


class ResourceLimitWarning(PersonaMemoryWarning):
    """A write failed because space or permission ran out; earlier data is intact."""


class EmbedderWarning(PersonaMemoryWarning):
    """Embedding a memory failed; it was stored without a vector (found by text only)
    until ``pmem reindex`` gives it one."""


def _short_repr(value: Any, limit: int = 80) -> str:
    try:
        text = repr(value)
    except RecursionError:  # absurdly nested input: name its type, not its contents
        return f"<deeply nested {type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."
