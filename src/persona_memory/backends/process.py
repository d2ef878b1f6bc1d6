"""Which process and event loop a driver connection belongs to.

Server connections must not cross a ``fork`` (the child would talk on the parent's socket), and
an asyncio connection must not cross event loops. Backends key their clients and pools by
:func:`owner` and open new ones when it changes. The old ones are never closed from the new
owner (closing a forked copy of a socket would end the parent's session); they are parked in
:data:`ABANDONED` so that no finaliser runs on them either.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

#: Clients and pools left behind by a fork or a finished event loop (see the module docstring).
ABANDONED: list[Any] = []


def owner() -> tuple[int, int]:
    """``(pid, id of the running event loop or 0)``."""
    try:
        loop = id(asyncio.get_running_loop())
    except RuntimeError:
        loop = 0
    return os.getpid(), loop
