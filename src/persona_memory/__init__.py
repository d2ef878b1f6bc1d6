"""persona-memory: persistent memory for chat bots and AI personas.

Key-value memory (the opsdroid contract)::

    from persona_memory import Memory
    memory = Memory()
    memory.put("remember_this", "the milk")

Persona memories (the OpenPersona memory faculty)::

    from persona_memory import PersonaStore
    store = PersonaStore("ada")
    store.store("User is vegetarian", tags=["food"], type="preference")
    store.search("what does the user eat")

Every class has an async twin with the ``Async`` prefix (``AsyncMemory``, ``AsyncPersonaStore``).
"""

import importlib.metadata as _metadata

from ._async.extractors import AsyncExtractor, AsyncLLMExtractor, AsyncRuleExtractor
from ._async.memory import AsyncMemory
from ._async.persona import AsyncPersonaStore
from ._sync.extractors import Extractor, LLMExtractor, RuleExtractor
from ._sync.memory import Memory
from ._sync.persona import PersonaStore
from .config import Settings
from .embedders import Embedder
from .errors import (
    BackendError,
    BackendUnavailableError,
    ConfigError,
    CorruptLineWarning,
    CorruptStateError,
    CorruptStateWarning,
    CorruptStoreError,
    EmbedderError,
    EmbedderMismatchError,
    EmbedderWarning,
    FallbackWarning,
    InvalidInputError,
    KeyNotFoundError,
    MemoryNotFoundError,
    PersonaMemoryError,
    PersonaMemoryWarning,
    ProviderError,
    ProviderUnavailableError,
    ResourceLimitWarning,
    SecretRefusedError,
    StorageFullError,
    StoreBusyError,
    StoreReadOnlyError,
)
from .models import DEFAULT_IMPORTANCE, Decision, Extraction, MemoryRecord, MemoryType, SearchHit, Stats, Turn

try:
    __version__ = _metadata.version("persona-memory")
except _metadata.PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = [
    "DEFAULT_IMPORTANCE",
    "AsyncExtractor",
    "AsyncLLMExtractor",
    "AsyncMemory",
    "AsyncPersonaStore",
    "AsyncRuleExtractor",
    "BackendError",
    "BackendUnavailableError",
    "ConfigError",
    "CorruptLineWarning",
    "CorruptStateError",
    "CorruptStateWarning",
    "CorruptStoreError",
    "Decision",
    "Embedder",
    "EmbedderError",
    "EmbedderMismatchError",
    "EmbedderWarning",
    "Extraction",
    "Extractor",
    "FallbackWarning",
    "InvalidInputError",
    "KeyNotFoundError",
    "LLMExtractor",
    "Memory",
    "MemoryNotFoundError",
    "MemoryRecord",
    "MemoryType",
    "PersonaMemoryError",
    "PersonaMemoryWarning",
    "PersonaStore",
    "ProviderError",
    "ProviderUnavailableError",
    "ResourceLimitWarning",
    "RuleExtractor",
    "SearchHit",
    "SecretRefusedError",
    "Settings",
    "Stats",
    "StorageFullError",
    "StoreBusyError",
    "StoreReadOnlyError",
    "Turn",
    "__version__",
]
