"""Settings: explicit argument, then environment, then default, read when a store is opened.

=====================  ==============================  =====================================
environment variable   default                         meaning
=====================  ==============================  =====================================
``MEMORY_BASE_PATH``   ``~/.openclaw/memory``          directory holding ``persona-<slug>/``
``MEMORY_PROVIDER``    ``local``                       ``local``, ``mem0`` or ``zep``
``MEMORY_API_KEY``     (none)                          key for an external provider
``PMEM_PROVIDER_URL``  (the service's own)             base URL of the provider's API
``PMEM_PROVIDER_TIMEOUT``  ``10``                      seconds before a provider call fails over
``PMEM_MEM0_CONFIG``   (none)                          JSON file: a local mem0 config (no key)
``PERSONA_SLUG``       ``default``                     the persona used when none is given
``PMEM_URL``           (per-persona SQLite file)       backend URL, e.g. ``sqlite:///x.db``
``PMEM_DURABILITY``    ``normal``                      ``normal`` or ``full`` (see below)
``PMEM_BUSY_TIMEOUT``  ``30``                          seconds to wait for other writers
=====================  ==============================  =====================================

Durability: ``normal`` (SQLite WAL with ``synchronous=NORMAL``) keeps every write that returned
through a crash or ``kill -9`` of the process; a power cut or kernel crash may lose the last
few commits. ``full`` (``synchronous=FULL``) also survives power loss, at one ``fsync`` per
write (see ``bench/kv.py`` for the cost).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from . import validation
from .errors import ConfigError

DEFAULT_BASE_PATH = "~/.openclaw/memory"
DEFAULT_PROVIDER = "local"
DEFAULT_PERSONA = "default"
DEFAULT_DURABILITY = "normal"
DEFAULT_BUSY_TIMEOUT = 30.0
DURABILITIES = ("normal", "full")
PROVIDERS = ("local", "mem0", "zep")
DEFAULT_PROVIDER_TIMEOUT = 10.0

KV_FILENAME = "kv.db"
PERSONA_FILENAME = "memories.db"


@dataclass(frozen=True)
class Settings:
    base_path: Path
    provider: str = DEFAULT_PROVIDER
    api_key: str | None = None
    persona: str = DEFAULT_PERSONA
    url: str | None = None
    durability: str = DEFAULT_DURABILITY
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    provider_url: str | None = None
    provider_timeout: float = DEFAULT_PROVIDER_TIMEOUT
    mem0_config: str | None = None

    @classmethod
    def resolve(cls, **overrides: Any) -> Settings:
        """Settings from ``overrides`` (``None`` means "not given"), then the environment, then defaults."""
        env = os.environ

        def pick(name: str, var: str, default: Any) -> Any:
            value = overrides.get(name)
            if value is None:
                value = env.get(var) or default
            return value

        def seconds(name: str, var: str, default: float) -> float:
            try:
                return float(pick(name, var, default))
            except ValueError:
                raise ConfigError(f"invalid {var}={env.get(var)!r}: expected seconds") from None

        busy = seconds("busy_timeout", "PMEM_BUSY_TIMEOUT", DEFAULT_BUSY_TIMEOUT)
        settings = cls(
            base_path=Path(pick("base_path", "MEMORY_BASE_PATH", DEFAULT_BASE_PATH)).expanduser(),
            provider=str(pick("provider", "MEMORY_PROVIDER", DEFAULT_PROVIDER)).strip().lower(),
            api_key=pick("api_key", "MEMORY_API_KEY", None),
            persona=pick("persona", "PERSONA_SLUG", DEFAULT_PERSONA),
            url=pick("url", "PMEM_URL", None),
            durability=str(pick("durability", "PMEM_DURABILITY", DEFAULT_DURABILITY)).lower(),
            busy_timeout=busy,
            provider_url=pick("provider_url", "PMEM_PROVIDER_URL", None),
            provider_timeout=seconds("provider_timeout", "PMEM_PROVIDER_TIMEOUT", DEFAULT_PROVIDER_TIMEOUT),
            mem0_config=pick("mem0_config", "PMEM_MEM0_CONFIG", None),
        )
        settings.check()
        return settings

    def check(self) -> None:
        validation.slug(self.persona)
        if self.durability not in DURABILITIES:
            raise ConfigError(
                f"invalid durability={self.durability!r}: expected one of {', '.join(DURABILITIES)}"
            )
        if self.provider not in PROVIDERS:
            raise ConfigError(
                f"invalid MEMORY_PROVIDER={self.provider!r}: available providers: {', '.join(PROVIDERS)}"
            )
        if not self.provider_timeout > 0:
            raise ConfigError(f"invalid provider_timeout={self.provider_timeout!r}: must be > 0 seconds")
        if not self.busy_timeout > 0:
            raise ConfigError(f"invalid busy_timeout={self.busy_timeout!r}: must be > 0 seconds")

    def with_persona(self, persona: str) -> Settings:
        return replace(self, persona=validation.slug(persona))

    def persona_dir(self, persona: str | None = None) -> Path:
        """``<base>/persona-<slug>/``, the OpenPersona layout."""
        return self.base_path / f"persona-{validation.slug(persona or self.persona)}"

    def persona_url(self, persona: str | None = None) -> str:
        """Where a persona's memories live: ``PMEM_URL`` if set, else its own SQLite file."""
        return self.url or f"sqlite:///{self.persona_dir(persona) / PERSONA_FILENAME}"

    def fallback_url(self, persona: str | None = None) -> str:
        """The local store an external provider falls back to: ``fallback-<provider>.db``."""
        return f"sqlite:///{self.persona_dir(persona) / f'fallback-{self.provider}.db'}"

    def kv_url(self) -> str:
        """Where key-value memory lives: ``PMEM_URL`` if set, else ``<base>/kv.db``."""
        return self.url or f"sqlite:///{self.base_path / KV_FILENAME}"
