"""Every operation is reachable from Python, the CLI, MCP and HTTP, with the same names and errors.

The operations come from :data:`persona_memory.operations.OPERATIONS`; nothing here lists them
again. A new operation without its Python method, ``pmem`` command, MCP tool or HTTP route (or with
a parameter one surface spells differently) fails here. The error cases are derived from the
operations' parameters: each bad value goes through all four surfaces, which must answer with the
same error class and message, mapped to the same HTTP status and exit code.
"""

from __future__ import annotations

import inspect
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import httpx
import pytest
from click.testing import CliRunner

from persona_memory import AsyncMemory, AsyncPersonaStore, Memory, PersonaStore
from persona_memory.cli import cli
from persona_memory.errors import KeyNotFoundError, PersonaMemoryError
from persona_memory.operations import BY_NAME, ERROR_KINDS, OPERATIONS, Operation, error_kind
from tests.helpers.servers import ROOT, Server, pmem_env

pytest.importorskip("fastapi", reason="needs the server extra")
pytest.importorskip("mcp", reason="needs the mcp extra")
from mcp import Client
from mcp.client.stdio import StdioServerParameters

PYTHON = {"persona": (AsyncPersonaStore, PersonaStore), "kv": (AsyncMemory, Memory)}


def cli_command(op: Operation) -> click.Command:
    command: click.Command = cli
    for name in op.cli:
        assert isinstance(command, click.Group), op.cli
        command = command.commands[name]
    return command


def cli_param(command: click.Command, name: str) -> click.Parameter | None:
    """The CLI spelling of a parameter: option ``--name``, or an argument NAME (MEMORY_ID for id)."""
    for param in command.params:
        if isinstance(param, click.Option) and "--" + name.replace("_", "-") in param.opts:
            return param
        if isinstance(param, click.Argument) and param.name in (name, "memory_" + name):
            return param
    return None


# ---- names ----


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_python_has_the_operation(op: Operation) -> None:
    for cls in PYTHON[op.scope]:
        signature = inspect.signature(getattr(cls, op.method))
        missing = [p.name for p in op.params if p.name not in signature.parameters]
        assert not missing, f"{cls.__name__}.{op.method} lacks {missing}"
        required = {n for n, p in signature.parameters.items() if n != "self" and p.default is p.empty}
        assert required <= {p.name for p in op.params if p.required}, (cls.__name__, op.name)
    scope = inspect.signature(PYTHON[op.scope][1]).parameters
    assert op.scope_param.name in scope


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.name)
def test_cli_has_the_operation(op: Operation) -> None:
    command = cli_command(op)
    for param in (op.scope_param, *op.params):
        assert cli_param(command, param.name) is not None, f"pmem {' '.join(op.cli)} lacks {param.name}"
    assert command.help, f"pmem {' '.join(op.cli)} has no help"


def mcp_params(base: Path) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "persona_memory", "mcp"],
                                 env=pmem_env(base), cwd=str(ROOT))


async def test_mcp_and_http_have_every_operation(api_server: Server) -> None:
    server = api_server
    async with Client(mcp_params(server.base_path), read_timeout_seconds=60) as client:
        tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    document = httpx.get(server.url + "/openapi.json").json()
    routes = {spec["operationId"]: (method.upper(), path, spec)
              for path, item in document["paths"].items() for method, spec in item.items()}
    for op in OPERATIONS:
        names = [op.scope_param.name, *(p.name for p in op.params)]
        assert list(tools[op.name].input_schema["properties"]) == names, op.name
        method, path, spec = routes[op.name]
        assert (method, path) == op.http
        http_names = [p["name"] for p in spec.get("parameters", [])]
        body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body:
            http_names += list(document["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]["properties"])
        assert sorted(http_names) == sorted(names), op.name


# ---- errors ----

GOOD = {
    "content": "parity check", "query": "parity", "key": "k", "data": 1, "tags": ["parity"],
    "text": "I love parity checks", "to_persona": "parity-next",
}
BAD = {  # a wrong value for each parameter that can have one; the library names it
    "content": "   ", "importance": 1.5, "type": "gossip", "at": "last tuesday", "since": "last tuesday",
    "until": "someday", "limit": 0, "match": "some", "ttl": -1.5, "key": "k" * 2000,
    "id": "mem_0000000000000000",  # well formed, but no such memory: not found
    "min_score": 1.5, "interest_threshold": 0, "to_persona": "../x",
}
EXTRA = {"update": {"content": "corrected"}}  # update with nothing to change is an error of its own


@dataclass
class Case:
    op: Operation
    arguments: dict[str, Any]

    def __str__(self) -> str:
        return f"{self.op.name}({', '.join(f'{k}={v!r:.30}' for k, v in self.arguments.items())})"


def error_cases(existing_id: str) -> list[Case]:
    cases = []
    for op in OPERATIONS:
        scope = op.scope_param.name
        base: dict[str, Any] = {scope: "parity" if op.scope == "persona" else "default"}
        for param in op.params:
            if param.required:
                base[param.name] = existing_id if param.name == "id" else GOOD[param.name]
        base.update(EXTRA.get(op.name, {}))
        cases.append(Case(op, {**base, scope: "..etc" if op.scope == "persona" else "n" * 201}))
        for param in op.params:
            if param.name in BAD:
                cases.append(Case(op, {**base, param.name: BAD[param.name]}))
    cases.append(Case(BY_NAME["kv_get"], {"namespace": "default", "key": "never-stored"}))
    return cases


def python_error(case: Case, base: Path) -> PersonaMemoryError | None:
    args = dict(case.arguments)
    scope = args.pop(case.op.scope_param.name)
    try:
        cls = PYTHON[case.op.scope][1]
        with cls(scope, base_path=str(base)) as target:  # type: ignore[operator]
            value = getattr(target, case.op.method)(**case.op.call_arguments(args))
    except PersonaMemoryError as error:
        return error
    if case.op.name == "kv_get" and value is None:
        # the opsdroid contract: Memory.get returns its default; the other surfaces say "not found"
        return KeyNotFoundError(args["key"], scope)
    return None


def cli_result(case: Case, base: Path) -> tuple[int, str]:
    command = cli_command(case.op)
    argv = list(case.op.cli)
    for name, value in case.arguments.items():
        text = json.dumps(value) if isinstance(value, (dict, list)) or name == "data" else str(value)
        param = cli_param(command, name)
        if isinstance(param, click.Argument):
            argv.append(text)
        else:
            argv += ["--" + name.replace("_", "-"), text]
    if any("--yes" in p.opts for p in command.params if isinstance(p, click.Option)):
        argv.append("--yes")
    result = CliRunner().invoke(cli, argv, env={"MEMORY_BASE_PATH": str(base)})
    return result.exit_code, result.output


async def mcp_result(client: Any, case: Case) -> str | None:
    result = await client.call_tool(case.op.name, case.arguments)
    return result.content[0].text if result.is_error else None


def http_result(http: httpx.Client, case: Case) -> httpx.Response:
    method, path = case.op.http
    names = {n for n in case.arguments if "{" + n + "}" in path}
    url = path.format(**{n: case.arguments[n] for n in names})
    rest = {k: v for k, v in case.arguments.items() if k not in names}
    if method in ("POST", "PUT", "PATCH"):
        return http.request(method, url, json=rest)
    return http.request(method, url, params=rest)


async def test_every_surface_fails_the_same_way(api_server: Server) -> None:
    server, base = api_server, api_server.base_path
    with PersonaStore("parity", base_path=str(base)) as store:
        existing = store.store("an existing memory").id
    cases = error_cases(existing)
    assert len(cases) > len(OPERATIONS)
    seen_kinds = set()
    http = httpx.Client(base_url=server.url, timeout=30)
    async with Client(mcp_params(base), read_timeout_seconds=60) as client:
        for case in cases:
            error = python_error(case, base)
            assert error is not None, f"{case}: Python accepted it"
            kind = error_kind(error)
            seen_kinds.add(kind.error)
            name, message = type(error).__name__, str(error)

            response = http_result(http, case)
            assert response.status_code == kind.status, f"{case}: HTTP {response.status_code} {response.text}"
            assert response.json()["error"]["type"] == name, case
            assert response.json()["error"]["message"] == message, case

            assert await mcp_result(client, case) == f"Error executing tool {case.op.name}: {name}: {message}", case

            exit_code, output = cli_result(case, base)
            assert exit_code == kind.exit_code, f"{case}: exit {exit_code}: {output}"
            if "Usage:" in output:  # click refused the value before the library saw it (a Choice)
                assert any(f"--{n}" in output for n in case.arguments), output
            else:
                assert output.strip() == f"Error: {message}", case
    http.close()
    # the cases reached bad input, bad configuration, unknown ids and unknown keys
    assert {k.error for k in ERROR_KINDS[:4]} <= seen_kinds


def test_readme_table_lists_every_operation() -> None:
    readme = (ROOT / "README.md").read_text()
    for op in OPERATIONS:
        method, path = op.http
        assert f"| {op.name} |" in readme and f"`{method} {path}`" in readme, op.name
        assert f"`{' '.join(op.cli)}" in readme, op.name
