"""What each surface costs per call: Python in-process (the baseline), HTTP, MCP over stdio.

    python bench/interfaces.py               # N=200 calls per operation, 3 repetitions
    python bench/interfaces.py --n 50 --reps 1

For each surface, on its own fresh store: N ``store`` calls, N ``search`` calls, N ``kv_put`` and
N ``kv_get`` calls, one after the other (a single client, as an agent or a bot makes them).
Reported: median milliseconds per call over the repetitions, and the ratio to Python. HTTP is
``pmem serve`` (uvicorn) in its own process with one keep-alive httpx client; MCP is
``pmem mcp`` over stdio with the SDK's own client. Needs the ``server`` and ``mcp`` extras.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from persona_memory import AsyncMemory, AsyncPersonaStore

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.helpers.servers import free_port, wait_until_up  # noqa: E402

OPERATIONS = ("store", "search", "kv_put", "kv_get")
Call = Callable[[str, int], Awaitable[Any]]


def content(i: int) -> str:
    return f"memory number {i}: the user mentioned topic {i % 17} and likes tea with {i % 5} sugars"


async def timed(call: Call, op: str, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        await call(op, i)
    return (time.perf_counter() - start) / n * 1000


async def python_surface(base: Path, n: int) -> dict[str, float]:
    store = AsyncPersonaStore("bench", base_path=str(base))
    memory = AsyncMemory("bench", base_path=str(base))

    async def call(op: str, i: int) -> Any:
        if op == "store":
            return await store.store(content(i), tags=["bench"])
        if op == "search":
            return await store.search(f"topic {i % 17}", limit=5)
        if op == "kv_put":
            return await memory.put(f"k{i}", {"i": i})
        return await memory.get(f"k{i}")

    try:
        return {op: await timed(call, op, n) for op in OPERATIONS}
    finally:
        await store.aclose()
        await memory.aclose()


async def http_surface(base: Path, n: int) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "MEMORY_BASE_PATH": str(base)}
    env.pop("MEMORY_API_KEY", None)
    server = subprocess.Popen([sys.executable, "-m", "persona_memory", "serve", "--port", str(port)],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/health", server)
        async with httpx.AsyncClient(base_url=url) as http:

            async def call(op: str, i: int) -> Any:
                if op == "store":
                    response = await http.post("/v1/personas/bench/memories", json={"content": content(i), "tags": ["bench"]})
                elif op == "search":
                    response = await http.get("/v1/personas/bench/search", params={"query": f"topic {i % 17}", "limit": 5})
                elif op == "kv_put":
                    response = await http.put(f"/v1/kv/bench/k{i}", json={"data": {"i": i}})
                else:
                    response = await http.get(f"/v1/kv/bench/k{i}")
                response.raise_for_status()

            return {op: await timed(call, op, n) for op in OPERATIONS}
    finally:
        server.terminate()
        server.communicate(timeout=15)


async def mcp_surface(base: Path, n: int) -> dict[str, float]:
    params = StdioServerParameters(command=sys.executable, args=["-m", "persona_memory", "mcp", "--persona", "bench"],
                                   env={**os.environ, "MEMORY_BASE_PATH": str(base)})
    async with Client(params, read_timeout_seconds=60) as client:

        async def call(op: str, i: int) -> Any:
            arguments: dict[str, Any] = {
                "store": {"content": content(i), "tags": ["bench"]},
                "search": {"query": f"topic {i % 17}", "limit": 5},
                "kv_put": {"namespace": "bench", "key": f"k{i}", "data": {"i": i}},
                "kv_get": {"namespace": "bench", "key": f"k{i}"},
            }[op]
            result = await client.call_tool(op, arguments)
            assert not result.is_error, result.content

        return {op: await timed(call, op, n) for op in OPERATIONS}


SURFACES = {"Python (in-process)": python_surface, "HTTP (pmem serve)": http_surface, "MCP (stdio)": mcp_surface}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=200, help="calls per operation")
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict[str, list[float]]] = {s: {op: [] for op in OPERATIONS} for s in SURFACES}
    for rep in range(args.reps):
        for name, surface in SURFACES.items():
            with tempfile.TemporaryDirectory(prefix="pmem-bench-") as tmp:
                for op, ms in asyncio.run(surface(Path(tmp), args.n)).items():
                    results[name][op].append(ms)
        print(f"repetition {rep + 1}/{args.reps} done", file=sys.stderr)
    baseline = {op: statistics.median(results["Python (in-process)"][op]) for op in OPERATIONS}
    print(f"\nms per call, median of {args.reps} x {args.n} calls (ratio to Python in-process)\n")
    print("| surface | " + " | ".join(OPERATIONS) + " |")
    print("|---|" + "---:|" * len(OPERATIONS))
    for name in SURFACES:
        cells = []
        for op in OPERATIONS:
            ms = statistics.median(results[name][op])
            cells.append(f"{ms:.2f} ({ms / baseline[op]:.1f}x)")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
