"""JSON text for stored values, with ``datetime``, ``date`` and ``time`` round-tripping.

A temporal value is written as a one-key object, ``{"$datetime": "2024-05-08T13:56:00+02:00"}``
(also ``$date``, ``$time``). The ISO text keeps the UTC offset, so an aware value comes back
aware with the same offset (a ``zoneinfo`` name becomes a fixed offset); a naive one stays naive.
A user's own one-key object whose key starts with ``$`` gets one more ``$`` on the way in and
loses it on the way out, so no value is ever misread as a marker.

Only JSON values are accepted: ``None``, ``bool``, ``int``, ``float`` (finite), ``str``, lists
(tuples are stored as lists), dicts with string keys, and the three temporal types.
Anything else raises :class:`~persona_memory.errors.InvalidInputError` naming where it was found.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import sys
from typing import Any

from .errors import InvalidInputError

_DECODERS = {
    "$datetime": dt.datetime.fromisoformat,
    "$date": dt.date.fromisoformat,
    "$time": dt.time.fromisoformat,
}
#: Deeper values are refused: no real memory needs them, and they would exhaust the stack.
MAX_DEPTH = 100
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
_PLAIN_DECODER = json.JSONDecoder()


def dumps(value: Any, *, argument: str = "data") -> str:
    """Encode ``value`` to compact JSON text, or raise ``InvalidInputError``."""
    try:
        text = _ENCODER.encode(_encode(value, 0))
    except _TooDeep:
        raise InvalidInputError(argument, value, f"is nested more than {MAX_DEPTH} levels deep") from None
    except _NotJSON:
        _locate(value, argument)  # raises with the path of the offending part
        raise
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: undecodable bytes that no store can hold
        raise InvalidInputError(argument, value, "holds text that is not valid Unicode") from None
    return text


def loads(text: str) -> Any:
    """Decode JSON text written by :func:`dumps` (``ValueError`` for text that is not JSON)."""
    try:
        if "$" not in text:  # no marker can be present: the C decoder alone is enough
            return _PLAIN_DECODER.decode(text)
        return json.loads(text, object_hook=_decode_object)
    except RecursionError:
        raise ValueError(f"JSON nested too deeply (more than about {sys.getrecursionlimit()} levels)") from None


class _NotJSON(Exception):
    pass


class _TooDeep(Exception):
    pass


def _encode(value: Any, depth: int) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _NotJSON
        return value
    if depth > MAX_DEPTH and (kind is dict or kind is list or kind is tuple):
        raise _TooDeep
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str:
                raise _NotJSON
            out[key] = _encode(item, depth + 1)
        if len(out) == 1:
            ((key, item),) = out.items()
            if key.startswith("$"):
                return {"$" + key: item}
        return out
    if kind is list or kind is tuple:
        return [_encode(item, depth + 1) for item in value]
    if isinstance(value, dt.datetime):  # before date: datetime is a date subclass
        return {"$datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.time):
        return {"$time": value.isoformat()}
    base: type[Any]
    for base in (bool, int, float, str, dict, list, tuple):  # a subclass: store its base value
        if isinstance(value, base):
            return _encode(base(value), depth)
    raise _NotJSON


def _locate(value: Any, path: str) -> None:
    """Walk ``value`` again, slowly, to name the first part that is not JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidInputError(path, value, "NaN and infinity are not JSON values")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError(
                    f"{path}[{key!r}]", value, f"object keys must be strings, not {type(key).__name__}"
                )
            _locate(item, f"{path}[{key!r}]")
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _locate(item, f"{path}[{i}]")
    elif value is not None and not isinstance(value, (str, int, float, dt.date, dt.time)):
        raise InvalidInputError(path, value, f"{type(value).__name__} is not a JSON value")


def _decode_object(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        ((key, inner),) = obj.items()
        if key.startswith("$$"):
            return {key[1:]: inner}
        decoder = _DECODERS.get(key)
        if decoder is not None and isinstance(inner, str):
            return decoder(inner)
    return obj
