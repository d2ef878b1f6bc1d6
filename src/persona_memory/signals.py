"""Signals: the few events a host application may want to react to.

=====================  ==========================================================
name                   emitted when (payload keys)
=====================  ==========================================================
``resource_limit``     a write failed for lack of space or permission
                       (``store``: where, ``error``: the exception, ``operation``)
``provider_unavailable``  an external provider failed and the local store took over
                       (``provider``, ``error``, ``operation``)
``provider_restored``  an external provider answers again (``provider``, ``replayed``)
=====================  ==========================================================

Every signal is also logged on the ``persona_memory`` logger, so an application that only
configures logging sees them too. Receivers are called synchronously in the emitting thread;
an exception in a receiver is logged and never breaks the operation that emitted it.

>>> from persona_memory import signals
>>> seen = []
>>> unsubscribe = signals.connect(signals.RESOURCE_LIMIT, lambda name, **kw: seen.append(name))
>>> signals.emit(signals.RESOURCE_LIMIT, store="x", error=None, operation="put")
>>> seen
['resource_limit']
>>> unsubscribe()
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

RESOURCE_LIMIT = "resource_limit"
PROVIDER_UNAVAILABLE = "provider_unavailable"
PROVIDER_RESTORED = "provider_restored"
SIGNALS = (RESOURCE_LIMIT, PROVIDER_UNAVAILABLE, PROVIDER_RESTORED)

Receiver = Callable[..., None]

logger = logging.getLogger("persona_memory")
_receivers: dict[str, list[Receiver]] = {name: [] for name in SIGNALS}
_lock = threading.Lock()


def connect(name: str, receiver: Receiver) -> Callable[[], None]:
    """Call ``receiver(name, **payload)`` whenever signal ``name`` is emitted.

    Returns a function that disconnects the receiver again.
    """
    if name not in _receivers:
        from .errors import InvalidInputError

        raise InvalidInputError("name", name, f"unknown signal; known: {', '.join(SIGNALS)}")
    with _lock:
        _receivers[name].append(receiver)

    def disconnect() -> None:
        with _lock:
            if receiver in _receivers[name]:
                _receivers[name].remove(receiver)

    return disconnect


def emit(name: str, **payload: Any) -> None:
    """Log the signal and call every receiver connected to it."""
    logger.warning("signal %s: %s", name, {k: str(v) for k, v in payload.items()})
    with _lock:
        receivers = list(_receivers[name])
    for receiver in receivers:
        try:
            receiver(name, **payload)
        except Exception:  # a broken receiver must not break a write path
            logger.exception("signal receiver %r failed for %s", receiver, name)
