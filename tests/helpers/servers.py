"""Real server processes for the tests: ``pmem serve`` (uvicorn) on a free loopback port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent
START_TIMEOUT = 30.0  # seconds; generous for a loaded 2-core machine


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    base_path: Path

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=30, **kwargs)  # type: ignore[arg-type]


def pmem_env(base_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("MEMORY_API_KEY", "PMEM_PERSONA_TOKENS", "PMEM_URL")}
    env.update(MEMORY_BASE_PATH=str(base_path), **extra)
    return env


@contextmanager
def running_server(base_path: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """``python -m persona_memory serve --port P ARGS``, ready when ``/health`` answers; stopped after."""
    port = free_port()
    command: Sequence[str] = [sys.executable, "-m", "persona_memory", "serve", "--port", str(port), *args]
    process = subprocess.Popen(
        command, cwd=ROOT, env=env or pmem_env(base_path), text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url + "/health", process)
        yield Server(url, process, base_path)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


def wait_until_up(url: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out, err = process.communicate()
            raise AssertionError(f"server exited with {process.returncode}:\n{out}\n{err}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"server at {url} did not come up in {START_TIMEOUT} s")
