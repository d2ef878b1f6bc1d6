"""Security properties, checked through every surface (Python, CLI, MCP, HTTP).

Persona isolation; no path escapes through slugs; secrets refused everywhere; tokens compared
in constant time. (Binding beyond loopback without a token and file permissions are covered in
test_api.py and test_sqlite_failures.py.)
"""

from __future__ import annotations

import hmac
import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from persona_memory import PersonaStore, SecretRefusedError
from persona_memory.cli import cli
from tests.helpers.servers import running_server

pytest.importorskip("fastapi", reason="needs the server extra")
pytest.importorskip("mcp", reason="needs the mcp extra")
from mcp import Client
from mcp.client.stdio import StdioServerParameters

SECRET_NOTE = "Ada's diary: the spare key is under the blue flowerpot"
SECRET_TOKEN = "AKIAIOSFODNN7EXAMPLE"  # AWS's documented example key id


@pytest.fixture
def two_personas(tmp_path: Path) -> Path:
    with PersonaStore("ada", base_path=str(tmp_path)) as ada, PersonaStore("bob", base_path=str(tmp_path)) as bob:
        ada.store(SECRET_NOTE, tags=["diary"], type="personal_fact")
        bob.store("Bob likes chess", tags=["hobby"])
    return tmp_path


def assert_no_leak(text: str) -> None:
    assert "flowerpot" not in text and "diary" not in text


def test_python_isolation(two_personas: Path) -> None:
    with PersonaStore("bob", base_path=str(two_personas)) as bob:
        found = [*bob.search("spare key flowerpot", limit=50), *bob.retrieve(limit=50), *bob.export()]
        assert_no_leak(json.dumps([getattr(x, "record", x).to_dict() for x in found]))
        assert bob.stats().total == 1


def test_cli_isolation(two_personas: Path) -> None:
    runner = CliRunner()
    env = {"MEMORY_BASE_PATH": str(two_personas)}
    for args in (["search", "flowerpot"], ["retrieve", "--tags", "diary"], ["export"], ["stats", "--json"]):
        result = runner.invoke(cli, [*args, "--persona", "bob"], env=env)
        assert result.exit_code == 0
        assert_no_leak(result.output)


async def test_mcp_isolation(two_personas: Path) -> None:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "persona_memory", "mcp"],
        env={"MEMORY_BASE_PATH": str(two_personas), "PATH": "/usr/bin:/bin"},
    )
    async with Client(params, read_timeout_seconds=60) as client:
        for tool, arguments in (
            ("search", {"persona": "bob", "query": "spare key flowerpot"}),
            ("retrieve", {"persona": "bob", "tags": ["diary"]}),
            ("export", {"persona": "bob"}),
        ):
            result = await client.call_tool(tool, arguments)
            assert not result.is_error
            assert_no_leak(result.content[0].text)
        refused = await client.call_tool("search", {"persona": "../persona-ada", "query": "flowerpot"})
        assert refused.is_error and "slug" in refused.content[0].text


def test_http_isolation_and_slug_escapes(two_personas: Path) -> None:
    with (
        running_server(two_personas, "--token", "admin", "--persona-token", "bob=bobs-token") as server,
        server.client(headers={"Authorization": "Bearer bobs-token"}) as bob,
        server.client(headers={"Authorization": "Bearer admin"}) as admin,
    ):
        for path in ("/v1/personas/bob/search?query=flowerpot", "/v1/personas/bob/export", "/v1/personas/bob/stats"):
            response = bob.get(path)
            assert response.status_code == 200
            assert_no_leak(response.text)
        assert bob.get("/v1/personas/ada/export").status_code == 403
        assert "ada" not in bob.get("/v1/personas").text
        for slug in ("..", "%2e%2e", "..%2fpersona-ada", "ada%2f..%2f..", "%2fetc"):
            response = admin.get(f"/v1/personas/{slug}/export")
            assert response.status_code in (400, 404), (slug, response.status_code)
            assert_no_leak(response.text)


def test_remote_clients_name_personas_never_files(two_personas: Path) -> None:
    """Over MCP and HTTP the only way to a file is a persona slug; paths (export --to, import,
    base path) are for the owner of the machine: Python and the CLI."""
    from persona_memory.operations import OPERATIONS, SLUG_PATTERN

    for op in OPERATIONS:
        names = {p.name for p in op.params}
        assert not names & {"path", "file", "dir", "directory", "to", "url", "base_path", "output"}, op.name
        for param in (*op.params, op.scope_param):
            if "persona" in param.name:
                assert param.schema["pattern"] == SLUG_PATTERN, (op.name, param.name)
    with running_server(two_personas) as server, server.client() as http:
        for target in ("../outside", "../../tmp/x", "/etc", "bob/../ada"):
            response = http.post("/v1/personas/bob/handoff", json={"to_persona": target})
            assert response.status_code == 400, target
    outside = {p.name for p in two_personas.parent.iterdir()}
    assert not {"outside", "x", "handoff.json"} & outside
    assert not (two_personas / "persona-ada" / "handoff.json").exists()


def test_secrets_are_refused_on_every_surface(tmp_path: Path) -> None:
    content = f"my aws key is {SECRET_TOKEN}"
    with PersonaStore("ada", base_path=str(tmp_path)) as store:
        with pytest.raises(SecretRefusedError) as info:
            store.store(content)
        assert SECRET_TOKEN not in str(info.value)
    result = CliRunner().invoke(cli, ["store", content], env={"MEMORY_BASE_PATH": str(tmp_path)})
    assert result.exit_code == 2 and SECRET_TOKEN not in result.output
    with running_server(tmp_path) as server, server.client() as http:
        response = http.post("/v1/personas/ada/memories", json={"content": content})
        assert response.status_code == 400 and response.json()["error"]["type"] == "SecretRefusedError"
        assert SECRET_TOKEN not in response.text
        observed = http.post("/v1/personas/ada/observe", json={"text": content}).json()
        assert observed["reason"] == "secret" and SECRET_TOKEN not in json.dumps(observed)
    with PersonaStore("ada", base_path=str(tmp_path)) as store:
        assert store.stats().total == 0
    assert all(SECRET_TOKEN.encode() not in p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())


def test_tokens_are_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every configured token is compared with hmac.compare_digest, even after a match."""
    from persona_memory.api.auth import AccessPolicy

    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    policy = AccessPolicy.from_tokens("admin", {"ada": "t-ada", "bob": "t-bob"})
    for presented, grant in (("admin", "*"), ("t-bob", "bob"), ("wrong", None)):
        calls.clear()
        assert policy.grant(f"Bearer {presented}") == grant
        assert len(calls) == 3, presented  # all three tokens, whichever matched
