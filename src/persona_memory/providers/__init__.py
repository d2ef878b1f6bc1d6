"""External memory providers, chosen by ``MEMORY_PROVIDER`` (``local`` needs none).

Declared like backends: a :class:`ProviderSpec` of dotted paths (listing providers imports no
SDK), published under the ``persona_memory.providers`` entry-point group. A provider class has
``from_settings(settings, **options)``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from dataclasses import dataclass
from typing import Any, TypeVar

from ..config import Settings
from ..errors import BackendUnavailableError, ConfigError

ENTRY_POINT_GROUP = "persona_memory.providers"
P = TypeVar("P")


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    async_cls: str
    sync_cls: str
    extra: str
    description: str = ""

    def install_hint(self) -> str:
        return f"pip install 'persona-memory[{self.extra}]'"


MEM0 = ProviderSpec(
    "mem0",
    "persona_memory.providers._async.mem0:AsyncMem0Provider",
    "persona_memory.providers._sync.mem0:Mem0Provider",
    extra="mem0",
    description="mem0: the hosted platform (MEMORY_API_KEY) or a local mem0 (PMEM_MEM0_CONFIG)",
)
ZEP = ProviderSpec(
    "zep",
    "persona_memory.providers._async.zep:AsyncZepProvider",
    "persona_memory.providers._sync.zep:ZepProvider",
    extra="zep",
    description="Zep Cloud (MEMORY_API_KEY)",
)
BUILTIN = (MEM0, ZEP)


def specs() -> dict[str, ProviderSpec]:
    found = {spec.name: spec for spec in BUILTIN}
    for entry in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if entry.name not in found and entry.name != "local":
            spec = entry.load()
            if isinstance(spec, ProviderSpec):
                found[spec.name] = spec
    return found


def open_provider(settings: Settings, kind: type[P], **options: Any) -> P:
    """The provider ``settings.provider`` names, as ``kind`` (``Provider`` or ``AsyncProvider``)."""
    from ._async.base import AsyncProvider

    spec = specs().get(settings.provider)
    if spec is None:
        raise ConfigError(f"unknown MEMORY_PROVIDER={settings.provider!r}; known: local, {', '.join(specs())}")
    module_name, _, attr = (spec.async_cls if issubclass(kind, AsyncProvider) else spec.sync_cls).partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BackendUnavailableError(
            f"MEMORY_PROVIDER={spec.name} needs {spec.install_hint()} ({exc})"
        ) from exc
    cls = getattr(module, attr)
    return cls.from_settings(settings, **options)  # type: ignore[no-any-return]
