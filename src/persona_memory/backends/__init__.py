"""Storage backends. This module only declares them; nothing here imports a driver.

Each :class:`~persona_memory.registry.BackendSpec` below is also published under the
``persona_memory.backends`` entry-point group, the way a third-party backend registers itself.
"""

from __future__ import annotations

from ..registry import BackendSpec

SQLITE = BackendSpec(
    name="sqlite",
    schemes=("sqlite",),
    sync_cls="persona_memory.backends.sqlite:SQLiteBackend",
    description="one SQLite file in WAL mode (the embedded default)",
)

BUILTIN: tuple[BackendSpec, ...] = (SQLITE,)

__all__ = ["BUILTIN", "SQLITE"]
