"""Checks and conversions for user input. Pure: no I/O.

Each function returns the normalised value or raises
:class:`~persona_memory.errors.InvalidInputError` naming the argument and the bad value.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

from .errors import ConfigError, InvalidInputError
from .models import DEFAULT_IMPORTANCE, Filters, MemoryType

MAX_CONTENT_CHARS = 32_768
MAX_TAGS = 32
MAX_TAG_CHARS = 64
MAX_KEY_CHARS = 1_024
MAX_NAMESPACE_CHARS = 200
MAX_LIMIT = 1_000

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def unicode_text(value: str, argument: str) -> str:
    """``value`` if it can be stored as UTF-8.

    Undecodable bytes (e.g. in command-line arguments) reach Python as lone surrogates, which
    no UTF-8 store can hold: refuse them here with a clear error rather than deep in a driver.
    """
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInputError(argument, value, "is not valid Unicode text (it holds undecodable bytes)") from None
    return value


def slug(value: Any, argument: str = "persona") -> str:
    """A persona slug: 1-64 of ``A-Z a-z 0-9 _ . -``, starting alphanumeric, no ``..``.

    The slug becomes a directory name, so anything that could escape the base directory
    (``../x``, ``/etc``) is refused.
    """
    if not isinstance(value, str) or not _SLUG.fullmatch(value) or ".." in value:
        raise ConfigError(
            f"invalid {argument}={value!r}: a persona slug is 1-64 characters of letters, digits, "
            "'_', '.' or '-', starting with a letter or digit (no '/', no '..')"
        )
    return value


def content(value: Any, argument: str = "content") -> str:
    if not isinstance(value, str):
        raise InvalidInputError(argument, value, f"must be a string, not {type(value).__name__}")
    if "\x00" in value:
        raise InvalidInputError(argument, value, "must not contain NUL characters")
    unicode_text(value, argument)
    text = value.strip()
    if not text:
        raise InvalidInputError(argument, value, "must not be empty")
    if len(text) > MAX_CONTENT_CHARS:
        raise InvalidInputError(
            argument, value, f"is {len(text)} characters; the limit is {MAX_CONTENT_CHARS}"
        )
    return text


def normalized_content(text: str) -> str:
    """The form two contents are compared in to detect exact duplicates."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split()).rstrip(".!?;, ")


def content_hash(text: str) -> str:
    return hashlib.sha256(normalized_content(text).encode()).hexdigest()[:32]


def memory_type(value: Any, argument: str = "type") -> MemoryType:
    if isinstance(value, MemoryType):
        return value
    try:
        return MemoryType(value)
    except ValueError:
        choices = ", ".join(t.value for t in MemoryType)
        raise InvalidInputError(argument, value, f"unknown memory type; one of: {choices}") from None


def importance(value: Any, kind: MemoryType, argument: str = "importance") -> float:
    """``value`` checked to lie in 0.0-1.0, or the type's default when ``None``."""
    if value is None:
        return DEFAULT_IMPORTANCE[kind]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidInputError(argument, value, "must be a number between 0.0 and 1.0")
    if not 0.0 <= value <= 1.0:  # also False for NaN
        raise InvalidInputError(argument, value, "must be between 0.0 and 1.0")
    return float(value)


def tags(value: Any, argument: str = "tags") -> tuple[str, ...]:
    """Tags lowercased, stripped, de-duplicated in order. A single string may be comma-separated."""
    if value is None:
        return ()
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, Iterable):
        raise InvalidInputError(argument, value, "must be a list of strings")
    out: list[str] = []
    for tag in value:
        if not isinstance(tag, str):
            raise InvalidInputError(argument, value, f"tag {tag!r} is not a string")
        tag = unicode_text(tag, argument).strip().lower()
        if not tag:
            continue
        if len(tag) > MAX_TAG_CHARS or any(c in tag for c in ",\n\r\t\x00"):
            raise InvalidInputError(
                argument, tag, f"a tag is at most {MAX_TAG_CHARS} characters, with no commas or control characters"
            )
        if tag not in out:
            out.append(tag)
    if len(out) > MAX_TAGS:
        raise InvalidInputError(argument, value, f"at most {MAX_TAGS} tags")
    return tuple(out)


def metadata(value: Any, argument: str = "metadata") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputError(argument, value, "must be a JSON object (a dict)")
    from . import codec

    codec.dumps(value, argument=argument)  # raises if not JSON-serialisable
    return dict(value)


def moment(value: Any, argument: str, *, now: dt.datetime | None = None) -> dt.datetime:
    """A point in time as aware UTC.

    Accepts a ``datetime`` (naive means local time), a ``date`` (its midnight, local time),
    an ISO 8601 string (``2025-01-01``, ``2025-01-01T10:00:00+02:00``, ``...Z``), or an age
    such as ``30d``, ``12h``, ``2w`` meaning that long before ``now``.
    """
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time()).astimezone(dt.UTC)
    if isinstance(value, str):
        text = value.strip()
        age = _AGE.fullmatch(text)
        if age:
            seconds = float(age.group(1)) * _AGE_UNITS[age.group(2)]
            return (now or dt.datetime.now(dt.UTC)) - dt.timedelta(seconds=seconds)
        try:
            parsed = dt.datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
        except ValueError:
            pass
        else:
            return parsed.astimezone(dt.UTC)
    raise InvalidInputError(
        argument, value, "expected a datetime, a date, an ISO date such as 2025-01-01, or an age such as 7d"
    )


def limit(value: Any, argument: str = "limit") -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInputError(argument, value, f"must be an integer from 1 to {MAX_LIMIT}")
    return value


def kv_key(value: Any, argument: str = "key") -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_KEY_CHARS or "\x00" in value:
        raise InvalidInputError(
            argument, value, f"a key is a non-empty string of at most {MAX_KEY_CHARS} characters without NUL"
        )
    return unicode_text(value, argument)


def namespace(value: Any, argument: str = "namespace") -> str:
    if (
        not isinstance(value, str)
        or not value
        or len(value) > MAX_NAMESPACE_CHARS
        or "\x00" in value
    ):
        raise InvalidInputError(
            argument, value, f"a namespace is a non-empty string of at most {MAX_NAMESPACE_CHARS} characters"
        )
    return unicode_text(value, argument)


def memory_id(value: Any, argument: str = "id") -> str:
    if not isinstance(value, str) or not value or len(value) > 100 or "\x00" in value:
        raise InvalidInputError(argument, value, "a memory id is a string such as mem_0123456789abcdef")
    return unicode_text(value, argument)


def filters(
    tags_: Any = None,
    type_: Any = None,
    since: Any = None,
    until: Any = None,
    match: str = "any",
    *,
    now: dt.datetime | None = None,
) -> Filters:
    if match not in ("any", "all"):
        raise InvalidInputError("match", match, "must be 'any' or 'all'")
    start = None if since is None else moment(since, "since", now=now)
    end = None if until is None else moment(until, "until", now=now)
    if start is not None and end is not None and end <= start:
        raise InvalidInputError("until", until, f"must be later than since={since!r}")
    return Filters(
        tags=tags(tags_),
        match_all_tags=match == "all",
        type=None if type_ is None else memory_type(type_),
        since=start,
        until=end,
    )


def min_score(value: Any, argument: str = "min_score") -> float | None:
    """A relevance floor 0.0-1.0, or None for no floor."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise InvalidInputError(argument, value, "must be a number between 0.0 and 1.0 (or None)")
    return float(value)
