"""Start and stop the stand-in services of tests/helpers/standins.py as real processes."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StandIn:
    """A stand-in service in its own process; ``stop()`` kills it (an outage), ``start()`` revives it."""

    def __init__(self, kind: str, workdir: Path, key: str = "test-key") -> None:
        self.kind, self.key = kind, key
        self.port = free_port()
        self.state = workdir / f"{kind}-state.json"
        self.log = workdir / f"{kind}-requests.jsonl"
        self.process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}" + ("/api/v4" if self.kind == "zep" else "")

    def start(self) -> StandIn:
        args = [sys.executable, "-m", "tests.helpers.standins", self.kind, "--port", str(self.port), "--key", self.key]
        args += ["--log", str(self.log)] if self.kind == "llm" else ["--state", str(self.state)]
        self.process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None and self.process.stdout.readline().strip() == "ready"
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            if self.process.stdout is not None:
                self.process.stdout.close()
            self.process = None

    def requests(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []
