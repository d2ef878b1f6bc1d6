"""Backends found by URL through entry points; a missing extra is an error with the install line.

These run ``pmem`` in real subprocesses: one whose import of the driver really fails
(``sys.modules[name] = None`` makes the import system refuse it), and one with a third-party
package on its path that registers a backend through the entry-point group.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from persona_memory import ConfigError
from persona_memory.backends._async.base import AsyncBackend
from persona_memory.backends._sync.base import Backend
from persona_memory.registry import open_backend, spec_for_url, specs

BLOCKED_RUN = (
    "import sys; sys.modules[{module!r}] = None; "  # the driver cannot be imported, as if not installed
    "from persona_memory.cli import main; sys.argv = ['pmem', *sys.argv[1:]]; main()"
)


def pmem_without(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BLOCKED_RUN.format(module=module), *args],
        capture_output=True, text=True, env=env or os.environ.copy(), timeout=120,
    )


def test_every_builtin_backend_is_found_by_its_url_schemes() -> None:
    names = {scheme: spec_for_url(f"{scheme}://x/y").name for spec in specs().values() for scheme in spec.schemes}
    assert names == {
        "sqlite": "sqlite", "jsonl": "jsonl", "redis": "redis", "rediss": "redis",
        "postgresql": "postgres", "postgres": "postgres",
    }
    with pytest.raises(ConfigError, match="no backend for URL 'mongodb://x'"):
        spec_for_url("mongodb://x")


def test_opening_a_backend_imports_its_driver_only_then(tmp_path: Path) -> None:
    code = (
        "import sys, persona_memory; from persona_memory.registry import specs; specs(); "
        "from persona_memory import PersonaStore; "
        f"PersonaStore('ada', url='sqlite:///{tmp_path}/x.db').store('hello'); "
        "print(sorted(m for m in ('redis', 'psycopg', 'psycopg_pool', 'pgvector', 'filelock') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    ("module", "url", "extra"),
    [("redis", "redis://127.0.0.1:1/0", "redis"), ("psycopg", "postgresql://u@127.0.0.1:1/db", "postgres")],
)
def test_a_missing_extra_is_an_error_with_the_exact_install_line(module: str, url: str, extra: str) -> None:
    line = f"pip install 'persona-memory[{extra}]'"
    listed = pmem_without(module, "backends", "--json")
    assert listed.returncode == 0, listed.stderr
    state = {row["name"]: row["state"] for row in json.loads(listed.stdout)}
    assert state[extra] == f"missing extra: {line}"
    assert state["sqlite"] == "ready"
    used = pmem_without(module, "kv", "get", "k", "--url", url)
    assert used.returncode == 4
    assert line in used.stderr and "Traceback" not in used.stderr


def test_sync_and_async_classes_come_from_the_same_spec(tmp_path: Path) -> None:
    url = f"jsonl://{tmp_path}"
    assert isinstance(open_backend(url, Backend), Backend)
    assert isinstance(open_backend(url, AsyncBackend), AsyncBackend)


def third_party_package(root: Path) -> dict[str, str]:
    """A package that registers backend "memo" the way any third party would, and an env to find it."""
    (root / "memo_backend.py").write_text(textwrap.dedent('''
        from persona_memory.registry import BackendSpec
        SPEC = BackendSpec(
            name="memo", schemes=("memo",), sync_cls="memo_backend_impl:MemoBackend",
            extra="fast", package="memo-backend", requires=("memo_driver_not_installed",),
            description="a third-party backend",
        )
    '''))
    (root / "memo_backend_impl.py").write_text("import memo_driver_not_installed\n")
    info = root / "memo_backend-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: memo-backend\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[persona_memory.backends]\nmemo = memo_backend:SPEC\n")
    return {**os.environ, "PYTHONPATH": str(root)}


def test_third_party_backends_register_through_entry_points(tmp_path: Path) -> None:
    env = third_party_package(tmp_path)
    pmem = [sys.executable, "-m", "persona_memory"]
    listed = json.loads(subprocess.run([*pmem, "backends", "--json"], env=env, capture_output=True, text=True, check=True).stdout)
    memo = next(row for row in listed if row["name"] == "memo")
    assert memo["state"] == "missing extra: pip install 'memo-backend[fast]'"
    used = subprocess.run([*pmem, "stats", "--url", "memo://somewhere"], env=env, capture_output=True, text=True)
    assert used.returncode == 4 and "pip install 'memo-backend[fast]'" in used.stderr
    # PMEM_LOAD_BACKENDS limits which third-party entry points are loaded at all
    limited = subprocess.run([*pmem, "backends", "--json"], env={**env, "PMEM_LOAD_BACKENDS": "other"},
                             capture_output=True, text=True, check=True)
    assert "memo" not in {row["name"] for row in json.loads(limited.stdout)}
