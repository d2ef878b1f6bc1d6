"""The operations every surface offers (Python, CLI, HTTP, MCP), in one table.

Each :class:`Operation` names the store method it calls, its parameters with the descriptions
that agents and the OpenAPI document show, its HTTP route and its ``pmem`` command. The HTTP API
(:mod:`persona_memory.api`) and the MCP server (:mod:`persona_memory.mcp_server`) are generated
from :data:`OPERATIONS`, and ``tests/test_parity.py`` checks all four surfaces against it. Adding
an operation is one entry here plus its ``pmem`` command (which the parity test asks for).

:data:`ERROR_KINDS` gives each library error its HTTP status and CLI exit code, so a bad call
fails with the same error name and message on every surface.

Pure: no web or MCP library is imported here.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from ._async.memory import AsyncMemory
from ._async.persona import AsyncPersonaStore
from .errors import (
    BackendError,
    ConfigError,
    InvalidInputError,
    KeyNotFoundError,
    MemoryNotFoundError,
    PersonaMemoryError,
    ProviderError,
    StorageFullError,
    StoreBusyError,
)
from .models import UNSET, MemoryType
from .validation import MAX_CONTENT_CHARS, MAX_KEY_CHARS, MAX_LIMIT, MAX_NAMESPACE_CHARS, MAX_TAG_CHARS

Scope = Literal["persona", "kv"]
Target = AsyncPersonaStore | AsyncMemory

SLUG_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"


@dataclass(frozen=True, eq=False)
class Param:
    """One argument of an operation, as every surface names and describes it.

    ``type`` is the wire type (``str``, ``int``, ``float``, ``list[str]``, ``dict[str, Any]`` or
    ``Any``); a parameter that is not ``required`` may also be left out or given as null. ``schema`` holds JSON Schema keywords (``enum``, ``minimum``...) that document the
    accepted values; the library enforces them itself, so the error message is the same on every
    surface.
    """

    name: str
    type: Any
    description: str
    required: bool = False
    default: Any = None
    schema: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, eq=False)
class Operation:
    """One thing a client can do; see the module docstring."""

    name: str
    summary: str
    scope: Scope
    method: str  # of AsyncPersonaStore (scope "persona") or AsyncMemory (scope "kv"), and sync twins
    params: tuple[Param, ...]
    http: tuple[str, str]  # (HTTP method, path template)
    cli: tuple[str, ...]  # the pmem command
    result: Callable[[Any, Mapping[str, Any]], dict[str, Any]]
    read_only: bool = False
    destructive: bool = False
    status: int = 200
    at_least_one: bool = False  # the optional parameters: at least one must be given (update)
    invoke: Callable[[Any, dict[str, Any]], Awaitable[Any]] | None = None  # instead of ``method``

    @property
    def scope_param(self) -> Param:
        return PERSONA if self.scope == "persona" else NAMESPACE

    def call_arguments(self, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments for the store method: ``None`` means "not given"."""
        return {
            p.name: arguments[p.name]
            for p in self.params
            if p.name in arguments and (p.required or arguments[p.name] is not None)
        }

    async def run(self, target: Any, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Call the operation on an open store; returns a JSON-ready dict."""
        kwargs = self.call_arguments(arguments)
        if self.invoke is not None:
            value = await self.invoke(target, kwargs)
        else:
            value = await getattr(target, self.method)(**kwargs)
        return self.result(value, arguments)


# ---- parameters ----

_TYPES = [t.value for t in MemoryType]

PERSONA = Param(
    "persona", str,
    "Persona slug: 1-64 letters, digits, '_', '.' or '-', starting with a letter or digit.",
    schema={"pattern": SLUG_PATTERN, "maxLength": 64},
)
NAMESPACE = Param(
    "namespace", str,
    "Key namespace: keeps one bot's keys apart from another's.",
    default="default",
    schema={"minLength": 1, "maxLength": MAX_NAMESPACE_CHARS},
)
ID = Param(
    "id", str, "Memory id, as returned by store or search (mem_ and 16 hex characters).", required=True,
    schema={"minLength": 1, "maxLength": 100},
)
CONTENT = Param(
    "content", str, f"What to remember, in plain words (at most {MAX_CONTENT_CHARS} characters).",
    required=True, schema={"minLength": 1, "maxLength": MAX_CONTENT_CHARS},
)
TAGS = Param(
    "tags", list[str],
    "Tags, e.g. [\"preference\", \"food\"]; lowercased, at most 32, no commas.",
    schema={"maxItems": 32, "items": {"type": "string", "maxLength": MAX_TAG_CHARS}},
)
IMPORTANCE = Param(
    "importance", float,
    "How much it matters, 0.0-1.0; higher surfaces first and fades slower. "
    "Default by type: milestone 0.9, personal_fact 0.8, preference 0.7, emotional_moment 0.6, "
    "interest_signal 0.5, general 0.3.",
    schema={"minimum": 0.0, "maximum": 1.0},
)
TYPE = Param("type", str, "Kind of memory: " + ", ".join(_TYPES) + ".", schema={"enum": _TYPES})
METADATA = Param("metadata", dict[str, Any], "Extra data to keep with the memory (a JSON object).")
FILTER_TAGS = Param("tags", list[str], "Only memories with any of these tags (all of them with match='all').")
FILTER_TYPE = Param("type", str, "Only memories of this kind: " + ", ".join(_TYPES) + ".", schema={"enum": _TYPES})
SINCE = Param("since", str, "Only memories from this moment on: ISO date/time (2025-01-01) or an age (7d, 12h).")
UNTIL = Param("until", str, "Only memories before this moment: ISO date/time or an age (7d, 12h).")
MATCH = Param(
    "match", str, "'any' (default): a memory needs one of the tags; 'all': every tag.",
    schema={"enum": ["any", "all"]},
)
LIMIT = Param(
    "limit", int, f"How many memories at most (1-{MAX_LIMIT}, default 10).",
    schema={"minimum": 1, "maximum": MAX_LIMIT},
)
MIN_SCORE = Param(
    "min_score", float,
    "Floor 0-1: leave out weaker matches, so nothing comes back rather than a guess.",
    schema={"minimum": 0.0, "maximum": 1.0},
)
KEY = Param(
    "key", str, f"The key (1-{MAX_KEY_CHARS} characters).", required=True,
    schema={"minLength": 1, "maxLength": MAX_KEY_CHARS},
)


# ---- results ----


def wire_value(value: Any) -> Any:
    """A stored key-value value as plain JSON: dates and times become ISO 8601 strings."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: wire_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [wire_value(v) for v in value]
    return value


def _record(value: Any, _arguments: Mapping[str, Any]) -> dict[str, Any]:
    return value.to_dict()  # type: ignore[no-any-return]


def _listing(key: str) -> Callable[[Any, Mapping[str, Any]], dict[str, Any]]:
    def result(values: Any, _arguments: Mapping[str, Any]) -> dict[str, Any]:
        return {key: [v.to_dict() for v in values]}

    return result


def _kv_result(field_name: str) -> Callable[[Any, Mapping[str, Any]], dict[str, Any]]:
    def result(value: Any, arguments: Mapping[str, Any]) -> dict[str, Any]:
        where = {"namespace": arguments.get("namespace") or NAMESPACE.default}
        if "key" in arguments:
            where["key"] = arguments["key"]
        return {**where, field_name: wire_value(value)}

    return result


async def _kv_get(memory: AsyncMemory, kwargs: dict[str, Any]) -> Any:
    value = await memory.get(kwargs["key"], UNSET)
    if value is UNSET:
        raise KeyNotFoundError(kwargs["key"], memory.namespace)
    return value


async def _kv_put(memory: AsyncMemory, kwargs: dict[str, Any]) -> bool:
    await memory.put(kwargs["key"], kwargs["data"], ttl=kwargs.get("ttl"))
    return True


# ---- the table ----

_P = "/v1/personas/{persona}"
_KV = "/v1/kv/{namespace}"

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "store", "Remember something about the user; returns the stored memory.", "persona", "store",
        (
            CONTENT, TAGS, IMPORTANCE, TYPE, METADATA,
            Param("at", str, "When it was said: ISO 8601 date/time; default now."),
        ),
        ("POST", _P + "/memories"), ("store",), _record, status=201,
    ),
    Operation(
        "retrieve", "The memories that matter most now (importance and recency), with optional filters.",
        "persona", "retrieve", (FILTER_TAGS, FILTER_TYPE, SINCE, UNTIL, LIMIT, MATCH, MIN_SCORE),
        ("GET", _P + "/memories"), ("retrieve",), _listing("memories"), read_only=True,
    ),
    Operation(
        "search", "Find memories relevant to a question or topic (plain words), best first, with scores.",
        "persona", "search",
        (
            Param("query", str, "What to look for, in plain words (not query syntax).", required=True),
            LIMIT, FILTER_TAGS, FILTER_TYPE, SINCE, UNTIL, MATCH, MIN_SCORE,
        ),
        ("GET", _P + "/search"), ("search",), _listing("hits"), read_only=True,
    ),
    Operation(
        "get", "One memory by id (superseded versions too).", "persona", "get", (ID,),
        ("GET", _P + "/memories/{id}"), ("get",), _record, read_only=True,
    ),
    Operation(
        "update", "Correct a memory: the new version replaces it, the old one is kept as superseded.",
        "persona", "update",
        (ID, Param("content", str, "New content.", schema=CONTENT.schema),
         Param("tags", list[str], "New tags (replace the old ones).", schema=TAGS.schema),
         Param("importance", float, "New importance, 0.0-1.0.", schema=IMPORTANCE.schema),
         Param("type", str, "New kind of memory: " + ", ".join(_TYPES) + ".", schema=TYPE.schema),
         Param("metadata", dict[str, Any], "New extra data (a JSON object).")),
        ("PATCH", _P + "/memories/{id}"), ("update",), _record, at_least_one=True,
    ),
    Operation(
        "forget", "Delete a memory and all its versions, for good; returns the ids deleted.",
        "persona", "forget", (ID,),
        ("DELETE", _P + "/memories/{id}"), ("forget",),
        lambda ids, _a: {"forgotten": list(ids)}, destructive=True,
    ),
    Operation(
        "forget_tagged", "Forget every memory with any of these tags (all of them with match='all').",
        "persona", "forget_tagged",
        (Param("tags", list[str], "The tags whose memories go.", required=True, schema=TAGS.schema), MATCH),
        ("POST", _P + "/forget/tagged"), ("forget",), lambda ids, _a: {"forgotten": list(ids)}, destructive=True,
    ),
    Operation(
        "forget_matching",
        "Forget the memories that match a description ('what I said about my ex'); show search results first.",
        "persona", "forget_matching",
        (Param("query", str, "What to forget, in plain words.", required=True), MIN_SCORE),
        ("POST", _P + "/forget/matching"), ("forget",), lambda ids, _a: {"forgotten": list(ids)}, destructive=True,
    ),
    Operation(
        "forget_everything", "Forget every memory of the persona, and what the evolution bridge derived from them.",
        "persona", "forget_everything", (),
        ("POST", _P + "/forget/everything"), ("forget",), lambda ids, _a: {"forgotten": list(ids)},
        destructive=True,
    ),
    Operation(
        "observe",
        "Give one conversation turn; it is remembered if worth it (preferences, facts, milestones...), "
        "never if filler, private or a secret. Says what was stored or why nothing was.",
        "persona", "observe",
        (Param("text", str, "What was said.", required=True, schema={"minLength": 1, "maxLength": MAX_CONTENT_CHARS}),
         Param("speaker", str, "Who said it: 'user' (default) or a name; the persona's own turns are not stored."),
         Param("at", str, "When it was said: ISO 8601 date/time; default now."), METADATA),
        ("POST", _P + "/observe"), ("observe",), _record,
    ),
    Operation(
        "evolve", "Turn patterns in the memories into evolution events and the persona's state.json.",
        "persona", "evolve",
        (Param("interest_threshold", int, "How many memories must share a subject to make it an interest.",
               schema={"minimum": 1}),),
        ("POST", _P + "/evolve"), ("evolve",), _record,
    ),
    Operation(
        "events", "The persona's evolution events, oldest first.", "persona", "events", (),
        ("GET", _P + "/events"), ("events",), lambda events, _a: {"events": list(events)}, read_only=True,
    ),
    Operation(
        "handoff", "Write handoff.json for a switch to another persona: memory count, top tags, last memory.",
        "persona", "handoff",
        (Param("to_persona", str, "The persona taking over.", required=True,
               schema={"pattern": SLUG_PATTERN, "maxLength": 64}),),
        ("POST", _P + "/handoff"), ("handoff",), lambda data, _a: dict(data),
    ),
    Operation(
        "sync", "Replay writes made while the external provider (mem0, zep) was unreachable.",
        "persona", "sync", (), ("POST", _P + "/sync"), ("sync",), lambda n, _a: {"replayed": n},
    ),
    Operation(
        "stats", "What the persona remembers: totals, top tags, time span, memories per type.",
        "persona", "stats", (), ("GET", _P + "/stats"), ("stats",), _record, read_only=True,
    ),
    Operation(
        "export", "Every memory of the persona, superseded versions included, oldest first.",
        "persona", "export", (), ("GET", _P + "/export"), ("export",), _listing("memories"), read_only=True,
    ),
    Operation(
        "kv_get", "The value stored under a key (an error if there is none).", "kv", "get", (KEY,),
        ("GET", _KV + "/{key}"), ("kv", "get"), _kv_result("data"), read_only=True, invoke=_kv_get,
    ),
    Operation(
        "kv_put", "Store a JSON value under a key, replacing any value.", "kv", "put",
        (KEY, Param("data", Any, "The value: any JSON (string, number, object, list, true/false, null).",
                    required=True),
         Param("ttl", float, "Forget the value after this many seconds.", schema={"exclusiveMinimum": 0})),
        ("PUT", _KV + "/{key}"), ("kv", "put"), _kv_result("stored"), invoke=_kv_put,
    ),
    Operation(
        "kv_delete", "Delete a key; deleting a missing key is not an error.", "kv", "delete", (KEY,),
        ("DELETE", _KV + "/{key}"), ("kv", "delete"), _kv_result("deleted"), destructive=True,
    ),
    Operation(
        "kv_list", "Every key of a namespace, sorted.", "kv", "keys", (),
        ("GET", _KV), ("kv", "list"), _kv_result("keys"), read_only=True,
    ),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}


# ---- errors ----


@dataclass(frozen=True)
class ErrorKind:
    """How a library error shows on the HTTP API and the command line."""

    error: type[PersonaMemoryError]
    status: int
    exit_code: int


#: First match wins, so subclasses come before their bases.
ERROR_KINDS: tuple[ErrorKind, ...] = (
    ErrorKind(InvalidInputError, 400, 2),
    ErrorKind(ConfigError, 400, 2),
    ErrorKind(MemoryNotFoundError, 404, 3),
    ErrorKind(KeyNotFoundError, 404, 3),
    ErrorKind(StorageFullError, 507, 4),
    ErrorKind(StoreBusyError, 503, 4),
    ErrorKind(BackendError, 503, 4),
    ErrorKind(ProviderError, 502, 1),
    ErrorKind(PersonaMemoryError, 500, 1),
)


def error_kind(error: PersonaMemoryError) -> ErrorKind:
    return next(kind for kind in ERROR_KINDS if isinstance(error, kind.error))


def error_body(error: PersonaMemoryError) -> dict[str, Any]:
    """The JSON error every surface reports: the error's class name, its message, the argument."""
    body: dict[str, Any] = {"type": type(error).__name__, "message": str(error)}
    argument = getattr(error, "argument", None)
    if argument is not None:
        body["argument"] = argument
    return body


# ---- open stores, shared by the requests of one server ----


@dataclass
class _Open:
    target: Target
    users: int = 0


class StorePool:
    """The persona stores and key-value memories a server has open.

    At most ``max_open`` idle ones stay open (least recently used are closed first), so a client
    naming many personas cannot exhaust file handles.
    """

    def __init__(self, *, url: str | None = None, base_path: str | None = None, max_open: int = 32) -> None:
        self.url = url
        self.base_path = base_path
        self.max_open = max_open
        self._open: OrderedDict[tuple[Scope, str], _Open] = OrderedDict()

    @asynccontextmanager
    async def open(self, scope: Scope, name: str) -> AsyncIterator[Any]:
        """The store for ``scope`` ("persona" or "kv") and ``name`` (a slug or a namespace)."""
        key = (scope, name)
        entry = self._open.get(key)
        if entry is None:
            entry = _Open(self._create(scope, name))
            self._open[key] = entry
        self._open.move_to_end(key)
        entry.users += 1
        try:
            yield entry.target
        finally:
            entry.users -= 1
            await self._trim()

    async def execute(self, op: Operation, arguments: Mapping[str, Any]) -> dict[str, Any]:
        """Run ``op`` with wire ``arguments`` (the scope argument included)."""
        name = arguments.get(op.scope_param.name) or op.scope_param.default
        if not isinstance(name, str):
            raise InvalidInputError(op.scope_param.name, name, "must be a string")
        async with self.open(op.scope, name) as target:
            return await op.run(target, arguments)

    def _create(self, scope: Scope, name: str) -> Target:
        if scope == "persona":
            return AsyncPersonaStore(name, url=self.url, base_path=self.base_path)
        return AsyncMemory(name, url=self.url, base_path=self.base_path)

    async def _trim(self) -> None:
        while len(self._open) > self.max_open:
            idle = next((key for key, entry in self._open.items() if entry.users == 0), None)
            if idle is None:
                return
            await self._open.pop(idle).target.aclose()

    async def aclose(self) -> None:
        while self._open:
            _key, entry = self._open.popitem()
            await entry.target.aclose()
