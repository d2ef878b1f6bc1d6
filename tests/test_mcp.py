"""The MCP server, through the official SDK's own client, over a real ``pmem mcp`` subprocess."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from persona_memory import Memory, PersonaStore
from persona_memory.operations import OPERATIONS
from tests.helpers.servers import ROOT, free_port, pmem_env

mcp = pytest.importorskip("mcp", reason="needs the mcp extra")
from mcp import Client  # noqa: E402
from mcp.client.stdio import StdioServerParameters  # noqa: E402


@asynccontextmanager
async def stdio_session(base: Path, *args: str) -> AsyncIterator[Any]:
    params = StdioServerParameters(
        command=sys.executable, args=["-m", "persona_memory", "mcp", *args], env=pmem_env(base), cwd=str(ROOT)
    )
    async with Client(params, read_timeout_seconds=60) as client:
        yield client


async def call(client: Any, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content[0].text
    return result.structured_content  # type: ignore[no-any-return]


async def call_error(client: Any, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result
    return result.content[0].text  # type: ignore[no-any-return]


async def test_tools_and_their_argument_schemas(tmp_path: Path) -> None:
    async with stdio_session(tmp_path) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert list(tools) == [op.name for op in OPERATIONS]
    for op in OPERATIONS:
        tool = tools[op.name]
        assert tool.description == op.summary
        properties = tool.input_schema["properties"]
        assert list(properties) == [op.scope_param.name, *(p.name for p in op.params)]
        for name, schema in properties.items():
            assert schema.get("description"), (op.name, name)
        assert set(tool.input_schema.get("required", [])) == {p.name for p in op.params if p.required}
        assert tool.annotations.read_only_hint is op.read_only
        assert tool.annotations.destructive_hint is op.destructive
    assert "'default'" in tools["store"].input_schema["properties"]["persona"]["description"]
    store_type = tools["store"].input_schema["properties"]["type"]["anyOf"][0]
    assert "milestone" in store_type["enum"]


async def test_every_tool_works_on_the_shared_store(tmp_path: Path) -> None:
    async with stdio_session(tmp_path, "--persona", "ada") as client:
        stored = await call(client, "store", content="User is vegetarian and loves Italian food",
                            tags=["preference", "food"], importance=0.8, type="preference")
        await call(client, "store", persona="bob", content="Bob's own memory")
        hits = (await call(client, "search", query="what does the user eat"))["hits"]
        assert hits[0]["id"] == stored["id"] and hits[0]["score"] > 0
        assert [m["id"] for m in (await call(client, "retrieve", tags=["food"], limit=5))["memories"]] == [stored["id"]]
        assert (await call(client, "get", id=stored["id"]))["content"] == stored["content"]
        updated = await call(client, "update", id=stored["id"], content="User is vegan and loves Italian food")
        assert updated["supersedes"] == stored["id"]
        stats = await call(client, "stats")
        assert stats["total"] == 1 and stats["superseded"] == 1
        assert len((await call(client, "export"))["memories"]) == 2
        assert set((await call(client, "forget", id=updated["id"]))["forgotten"]) == {stored["id"], updated["id"]}

        assert (await call(client, "kv_put", key="remember_this", data={"what": "the milk"}))["stored"] is True
        assert (await call(client, "kv_get", key="remember_this"))["data"] == {"what": "the milk"}
        await call(client, "kv_put", namespace="bot", key="n", data=0)
        assert (await call(client, "kv_list", namespace="bot"))["keys"] == ["n"]
        assert (await call(client, "kv_delete", namespace="bot", key="n"))["deleted"] is True
    # what the server wrote is what the library reads
    with PersonaStore("bob", base_path=str(tmp_path)) as bob, PersonaStore("ada", base_path=str(tmp_path)) as ada:
        assert [r.content for r in bob.export()] == ["Bob's own memory"]
        assert ada.export() == []
    assert Memory(base_path=str(tmp_path)).get("remember_this") == {"what": "the milk"}


async def test_errors_come_back_as_tool_errors_and_the_server_keeps_running(tmp_path: Path) -> None:
    async with stdio_session(tmp_path) as client:
        text = await call_error(client, "store", content="x", importance=1.5)
        assert "InvalidInputError: invalid importance=1.5: must be between 0.0 and 1.0" in text
        assert "MemoryNotFoundError: no memory 'mem_0000000000000000'" in await call_error(
            client, "forget", id="mem_0000000000000000")
        assert "ConfigError: invalid persona='../etc'" in await call_error(client, "stats", persona="../etc")
        assert "KeyNotFoundError: no value for key 'nope'" in await call_error(client, "kv_get", key="nope")
        assert "unknown memory type" in await call_error(client, "retrieve", type="gossip")
        missing = await call_error(client, "search")  # a required argument left out
        assert "query" in missing and "required" in missing.lower()
        assert "importance" in await call_error(client, "store", content="x", importance="very")
        # still serving
        assert (await call(client, "store", content="still here"))["content"] == "still here"


async def test_streamable_http_on_loopback(tmp_path: Path) -> None:
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "persona_memory", "mcp", "--http", "--port", str(port)],
        cwd=ROOT, env=pmem_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        deadline = time.monotonic() + 30
        while True:  # up once the port answers (any HTTP status)
            assert server.poll() is None, server.communicate()
            try:
                httpx.get(url, timeout=2)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "pmem mcp --http did not come up"
                time.sleep(0.1)
        async with Client(url, read_timeout_seconds=60) as client:
            assert "search" in [tool.name for tool in (await client.list_tools()).tools]
            stored = await call(client, "store", content="reached over streamable HTTP")
            assert (await call(client, "get", id=stored["id"]))["content"] == "reached over streamable HTTP"
    finally:
        server.terminate()
        server.communicate(timeout=15)


def test_http_transport_refuses_other_hosts(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "persona_memory", "mcp", "--http", "--host", "0.0.0.0"],
        cwd=ROOT, env=pmem_env(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode == 2 and "loopback" in refused.stderr
