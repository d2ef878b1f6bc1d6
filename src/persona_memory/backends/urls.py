"""Server URLs: our own query options taken out, passwords kept out of messages. Pure functions."""

from __future__ import annotations

import urllib.parse

from ..errors import ConfigError


def split_options(url: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """``url`` without the query parameters in ``names``, and those parameters.

    The rest of the URL is left as it was, for the driver (which knows its own options).
    """
    parts = urllib.parse.urlsplit(url)
    kept, ours = [], {}
    for key, value in urllib.parse.parse_qsl(parts.query, keep_blank_values=True):
        if key in names:
            ours[key] = value
        else:
            kept.append((key, value))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(kept))), ours


def redacted(url: str) -> str:
    """``url`` with its password replaced by ``***`` (for ``repr``, logs and error messages)."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{parts.username or ''}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def positive_number(name: str, value: str, url: str) -> float:
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if not number > 0:
        raise ConfigError(f"invalid {name}={value!r} in {redacted(url)}: expected a positive number")
    return number
