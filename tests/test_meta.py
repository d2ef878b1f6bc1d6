"""Guards on the package's surface: exports, the error tree, generated code."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import persona_memory
from persona_memory import errors

ROOT = Path(__file__).resolve().parent.parent


def test_all_lists_the_public_names() -> None:
    public = {name for name in dir(persona_memory) if not name.startswith("_")}
    modules = {name for name in public if inspect.ismodule(getattr(persona_memory, name))}
    assert set(persona_memory.__all__) - {"__version__"} == public - modules


def test_every_error_has_one_root_and_builtin_memoryerror_is_not_shadowed() -> None:
    classes = [c for c in vars(errors).values() if inspect.isclass(c) and issubclass(c, BaseException)]
    exceptions = [c for c in classes if not issubclass(c, Warning)]
    assert all(issubclass(c, errors.PersonaMemoryError) for c in exceptions)
    assert all(issubclass(c, errors.PersonaMemoryWarning) for c in classes if issubclass(c, Warning))
    assert "MemoryError" not in vars(errors)
    assert issubclass(errors.InvalidInputError, ValueError)
    assert issubclass(errors.MemoryNotFoundError, KeyError)
    assert issubclass(errors.StoreBusyError, TimeoutError)


def test_generated_sync_code_is_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/make_sync.py", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sync_and_async_have_the_same_methods() -> None:
    pairs = [(persona_memory.AsyncMemory, persona_memory.Memory), (persona_memory.AsyncPersonaStore, persona_memory.PersonaStore)]
    for async_cls, sync_cls in pairs:
        async_names = {n.replace("aclose", "close").replace("__aenter__", "__enter__").replace("__aexit__", "__exit__")
                       for n in vars(async_cls) if not n.startswith("_") or n.startswith("__a")}
        sync_names = {n for n in vars(sync_cls) if not n.startswith("_") or n in ("__enter__", "__exit__")}
        assert async_names == sync_names
        for name in sync_names - {"__enter__", "__exit__", "close"}:
            if callable(getattr(sync_cls, name)):
                assert inspect.signature(getattr(sync_cls, name)) == inspect.signature(getattr(async_cls, name))
