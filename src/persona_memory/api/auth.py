"""Who may call the HTTP API. Pure: no web library.

* No token configured: anyone who can reach the server may call it, so it binds to loopback only
  (:func:`check_bind`).
* The server token (``MEMORY_API_KEY`` or ``--token``) grants everything.
* A persona token (``--persona-token ada=...``) grants that persona's routes only; any other
  persona's routes and the key-value routes answer 403.

A request carries ``Authorization: Bearer <token>``; a missing or wrong token answers 401. The
presented token is compared with every configured one in constant time (SHA-256 digests, then
``hmac.compare_digest`` on each, without stopping at a match), so response timing tells nothing
about how close a guess was or which token matched.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .. import validation
from ..errors import ConfigError

#: What the server token grants (no persona slug can be spelled this way).
EVERYTHING = "*"
LOOPBACK_NAMES = ("localhost",)


class AccessDenied(Exception):
    """401 (no valid token) or 403 (a valid token for something else)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _digest(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


@dataclass(frozen=True)
class AccessPolicy:
    """The configured tokens, kept as digests, and what each grants."""

    grants: tuple[tuple[bytes, str], ...] = ()

    @classmethod
    def from_tokens(cls, token: str | None = None, persona_tokens: Mapping[str, str] | None = None) -> AccessPolicy:
        grants: list[tuple[bytes, str]] = []
        if token is not None:
            if not token.strip():
                raise ConfigError("the server token (MEMORY_API_KEY / --token) is empty")
            grants.append((_digest(token), EVERYTHING))
        for persona, persona_token in (persona_tokens or {}).items():
            validation.slug(persona)
            if not persona_token.strip():
                raise ConfigError(f"the token for persona {persona!r} is empty")
            grants.append((_digest(persona_token), persona))
        digests = [digest for digest, _who in grants]
        if len(set(digests)) != len(digests):
            raise ConfigError("two grants share one token: give every persona (and the server) its own")
        return cls(tuple(grants))

    @property
    def enabled(self) -> bool:
        return bool(self.grants)

    def grant(self, authorization: str | None) -> str | None:
        """What the request's ``Authorization`` header grants: ``EVERYTHING``, a slug, or None."""
        if not self.enabled:
            return EVERYTHING
        scheme, _, presented = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return None
        digest = _digest(presented.strip())
        found = None
        for candidate, who in self.grants:  # no early exit: the same work for every token
            if hmac.compare_digest(candidate, digest):
                found = who
        return found

    def identify(self, authorization: str | None) -> str:
        """The request's grant (``EVERYTHING`` or a slug); :class:`AccessDenied` (401) if none."""
        who = self.grant(authorization)
        if who is None:
            raise AccessDenied(401, "missing or invalid token: send the header 'Authorization: Bearer <token>'")
        return who

    def check(self, authorization: str | None, persona: str | None) -> str:
        """Raise :class:`AccessDenied` unless the request may touch ``persona`` (None: key-value).

        Returns the grant (``EVERYTHING`` or the slug).
        """
        who = self.identify(authorization)
        if who != EVERYTHING and who != persona:
            what = f"persona {persona!r}" if persona is not None else "key-value memory"
            raise AccessDenied(403, f"this token is for persona {who!r} only; it cannot reach {what}")
        return who


def parse_persona_tokens(items: Iterable[str]) -> dict[str, str]:
    """``["ada=token1", "bob=token2"]`` -> ``{"ada": "token1", "bob": "token2"}``."""
    tokens: dict[str, str] = {}
    for item in items:
        persona, sep, token = item.partition("=")
        if not sep or not token:
            raise ConfigError(f"invalid persona token {persona!r}=...: expected SLUG=TOKEN")
        tokens[validation.slug(persona.strip())] = token
    return tokens


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``."""
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, policy: AccessPolicy) -> None:
    """Refuse to expose the memories beyond this machine without a token."""
    if not is_loopback(host) and not policy.enabled:
        raise ConfigError(
            f"binding to {host} would let anyone on the network read every memory: "
            "set MEMORY_API_KEY or pass --token (or --persona-token SLUG=TOKEN)"
        )
