"""Who may call the HTTP API: the pure token policy (the server tests exercise it over HTTP)."""

from __future__ import annotations

import pytest

from persona_memory.errors import ConfigError

pytest.importorskip("starlette", reason="needs the server extra")

from persona_memory.api.auth import (
    EVERYTHING,
    AccessDenied,
    AccessPolicy,
    check_bind,
    is_loopback,
    parse_persona_tokens,
)
from persona_memory.api.middleware import _hostname


def test_no_tokens_means_open_access_on_loopback_only() -> None:
    policy = AccessPolicy.from_tokens()
    assert not policy.enabled
    assert policy.check(None, "ada") == EVERYTHING
    check_bind("127.0.0.1", policy)
    check_bind("::1", policy)
    with pytest.raises(ConfigError, match="MEMORY_API_KEY"):
        check_bind("0.0.0.0", policy)
    check_bind("0.0.0.0", AccessPolicy.from_tokens("t0ken"))


def test_server_and_persona_tokens_grant_what_they_should() -> None:
    policy = AccessPolicy.from_tokens("server", {"ada": "ada-token", "bob": "bob-token"})
    assert policy.check("Bearer server", "bob") == EVERYTHING
    assert policy.check("Bearer server", None) == EVERYTHING
    assert policy.check("bearer ada-token", "ada") == "ada"
    for header, persona, status in [
        (None, "ada", 401), ("", "ada", 401), ("Bearer", "ada", 401), ("Basic ada-token", "ada", 401),
        ("Bearer ada-tokenX", "ada", 401), ("Bearer ada-token", "bob", 403), ("Bearer ada-token", None, 403),
    ]:
        with pytest.raises(AccessDenied) as denied:
            policy.check(header, persona)
        assert denied.value.status == status, (header, persona)


def test_bad_token_configuration_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        AccessPolicy.from_tokens("  ")
    with pytest.raises(ConfigError, match="own"):
        AccessPolicy.from_tokens("same", {"ada": "same"})
    with pytest.raises(ConfigError, match="slug"):
        AccessPolicy.from_tokens(None, {"../x": "t"})
    assert parse_persona_tokens(["ada=a=b", "bob=t"]) == {"ada": "a=b", "bob": "t"}
    for bad in ("ada", "ada=", "=token"):
        with pytest.raises(ConfigError):
            parse_persona_tokens([bad])


def test_loopback_names() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.1.2.3", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "10.0.0.1", "example.com", "localhost.evil.com", ""))
    assert [_hostname(h) for h in ("127.0.0.1:8765", "localhost", "[::1]:80", "evil.com:1")] == [
        "127.0.0.1", "localhost", "::1", "evil.com"]
