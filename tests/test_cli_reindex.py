"""``pmem reindex`` and ``pmem search --mode``, in-process and as a real process."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from persona_memory import PersonaStore
from persona_memory.cli import cli
from tests.helpers.embedders import HashingEmbedder


def invoke(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result.output


def test_reindex_repairs_a_store_written_by_another_embedder(clean_environ: Path) -> None:
    db = clean_environ / "persona-ada" / "memories.db"
    with PersonaStore("ada", embedder=HashingEmbedder()) as store:
        store.store("User is vegetarian and loves Italian food")
        store.store("User works as a nurse")
    out = invoke("search", "what does the user like to eat", "-p", "ada", code=2)
    assert "test-hashing-64" in out and "pmem reindex" in out
    out = invoke("reindex", "-p", "ada")
    assert "Embedded 2 memories with static:minilm-static-256" in out
    hits = json.loads(invoke("search", "what does the user like to eat", "-p", "ada", "--json"))
    assert hits[0]["content"] == "User is vegetarian and loves Italian food"
    assert json.loads(invoke("reindex", "-p", "ada", "--missing-only", "--json"))["embedded"] == 0
    assert db.exists()


def test_reindex_errors(clean_environ: Path) -> None:
    invoke("store", "User is vegetarian", "-p", "ada")
    assert "no embedder" in invoke("reindex", "-p", "ada", "--embedder", "none", code=2)
    assert "unknown embedder" in invoke("reindex", "-p", "ada", "--embedder", "bert", code=2)
    assert "batch_size" in invoke("reindex", "-p", "ada", "--batch-size", "0", code=2)


def test_search_modes(clean_environ: Path) -> None:
    invoke("store", "User is vegetarian and loves Italian food", "-p", "ada")
    invoke("store", "User's favourite band is Radiohead", "-p", "ada")
    text = json.loads(invoke("search", "music", "-p", "ada", "--mode", "text", "--json"))
    assert text == []
    vector = json.loads(invoke("search", "music", "-p", "ada", "--mode", "vector", "--json"))
    assert "Radiohead" in vector[0]["content"]
    assert "Invalid value for '--mode'" in invoke("search", "x", "--mode", "fuzzy", code=2)


def test_reindex_shows_progress_on_a_terminal(clean_environ: Path) -> None:
    with PersonaStore("ada") as store:
        for i in range(30):
            store.store(f"memory number {i} about topic {i % 7}")
    env = {**os.environ, "PERSONA_SLUG": "ada", "COLUMNS": "100"}
    primary, secondary = pty.openpty()  # a real terminal on stderr: click draws the bar only there
    try:
        done = subprocess.run(
            [sys.executable, "-m", "persona_memory", "reindex", "--batch-size", "8"],
            env=env, stdout=subprocess.PIPE, stderr=secondary, text=True, timeout=120,
        )
        os.close(secondary)
        drawn = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the child side is closed and everything was read
                break
            if not chunk:
                break
            drawn += chunk
    finally:
        os.close(primary)
    assert done.returncode == 0
    assert "Embedded 30 memories" in done.stdout
    assert b"Embedding" in drawn and b"0/30" in drawn and b"30/30" in drawn
