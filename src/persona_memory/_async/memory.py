"""Key-value memory: the opsdroid ``Memory`` contract.

The async module is the source; ``scripts/make_sync.py`` generates its sync twin.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

from .. import codec, validation
from ..backends._async.base import AsyncBackend
from ..config import Settings
from ..errors import InvalidInputError
from ..registry import open_backend

_MISSING = object()  # cached "no database has this key"


class AsyncMemory:
    """Persistent key-value memory shared by processes and restarts.

    >>> memory = AsyncMemory()                       # <MEMORY_BASE_PATH>/kv.db
    >>> await memory.put("remember_this", "the milk")
    >>> await memory.get("remember_this")
    'the milk'
    >>> await memory.delete("remember_this")

    Values are any JSON value; ``datetime``, ``date`` and ``time`` round-trip with their
    timezone. A stored falsy value (``0``, ``""``, ``[]``, ``False``) is returned as itself,
    not as ``default``. Keys live in ``namespace``, so two bots can share one store.

    ``databases`` is a list of backends or URLs (default: one SQLite file). ``put`` and
    ``delete`` write through to every database; ``get`` answers from the first database that
    has the key. An in-process cache answers repeated ``get`` calls; it is checked against the
    databases' change tokens on every call, so it never serves a value that another process
    (or another ``Memory``) has changed since. Databases that cannot give such a token (e.g. a
    remote server) are simply not cached.
    """

    def __init__(
        self,
        namespace: str = "default",
        databases: Sequence[AsyncBackend | str] | None = None,
        *,
        url: str | None = None,
        cache: bool = True,
        base_path: str | None = None,
        durability: str | None = None,
    ) -> None:
        self.namespace = validation.namespace(namespace)
        settings = Settings.resolve(url=url, base_path=base_path, durability=durability)
        if databases is None:
            databases = [settings.kv_url()]
        if not databases:
            raise InvalidInputError("databases", databases, "give at least one database")
        self.databases: list[AsyncBackend] = [
            open_backend(
                db, AsyncBackend, durability=settings.durability, busy_timeout=settings.busy_timeout
            )
            if isinstance(db, str)
            else db
            for db in databases
        ]
        self._cache: dict[str, Any] | None = {} if cache else None
        self._token: Hashable | None = None

    async def get(self, key: str, default: Any = None) -> Any:
        """The value stored under ``key``, or ``default`` if no database has it."""
        key = validation.kv_key(key)
        token = await self._current_token()
        if token is not None and self._cache is not None:
            if token != self._token:
                self._cache.clear()
                self._token = token
            cached = self._cache.get(key)
            if cached is _MISSING:
                return default
            if cached is not None:
                return codec.loads(cached)
        for database in self.databases:
            text = await database.kv_get(self.namespace, key)
            if text is not None:
                self._remember(token, key, text)
                return codec.loads(text)
        self._remember(token, key, _MISSING)
        return default

    async def put(self, key: str, data: Any, *, ttl: float | None = None) -> None:
        """Store ``data`` under ``key`` in every database (``ttl``: expire after that many seconds).

        Returns once every database has it durably.
        """
        key = validation.kv_key(key)
        text = codec.dumps(data)
        if ttl is not None and (isinstance(ttl, bool) or not isinstance(ttl, (int, float)) or ttl <= 0):
            raise InvalidInputError("ttl", ttl, "must be a positive number of seconds")
        self._invalidate()
        for database in self.databases:
            await database.kv_put(self.namespace, key, text, ttl)

    async def delete(self, key: str) -> bool:
        """Remove ``key`` from every database. True if any had it; a missing key is no error."""
        key = validation.kv_key(key)
        self._invalidate()
        found = False
        for database in self.databases:
            found = await database.kv_delete(self.namespace, key) or found
        return found

    async def keys(self) -> list[str]:
        """Every key of this namespace in any database, sorted."""
        found: set[str] = set()
        for database in self.databases:
            found.update(await database.kv_keys(self.namespace))
        return sorted(found)

    async def aclose(self) -> None:
        for database in self.databases:
            await database.aclose()

    async def __aenter__(self) -> AsyncMemory:
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        urls = ", ".join(db.url for db in self.databases)
        return f"<{type(self).__name__} namespace={self.namespace!r} databases=[{urls}]>"

    # ---- cache ----

    async def _current_token(self) -> Hashable | None:
        if self._cache is None:
            return None
        tokens = []
        for database in self.databases:
            token = await database.version()
            if token is None:
                return None
            tokens.append(token)
        return tuple(tokens)

    def _remember(self, token: Hashable | None, key: str, value: Any) -> None:
        # only if nothing was written in between (a write resets self._token)
        if self._cache is not None and token is not None and token == self._token:
            self._cache[key] = value

    def _invalidate(self) -> None:
        # our own write changes the databases' tokens: the next get starts a fresh cache
        self._token = None
