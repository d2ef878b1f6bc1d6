"""Hostile and random input to the pmem CLI: never a crash, never a traceback.

Every command must end with exit code 0 (accepted) or one of its documented error codes
(1 other error, 2 bad input, 3 unknown id, 4 store failure) and a one-line message.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona_memory.cli import cli

HOSTILE = [
    "",
    " ",
    "\x00",
    "nul\x00in the middle",
    "x" * 100_000,
    "\u202e\u0000\ufeff",
    '"',
    "*",
    "NEAR(",
    "NEAR(a b, 2)",
    "a OR",
    "OR OR OR",
    "AND NOT",
    "content:x",
    "^x",
    "'; DROP TABLE memories; --",
    "../../etc/passwd",
    "/etc/shadow",
    "%s%s%n",
    "{{7*7}}",
    "😀" * 500,
    "\udcff",  # a lone surrogate (what undecodable bytes become)
]
DEEP_JSON = "[" * 5000 + "]" * 5000
OK_CODES = {0, 1, 2, 3, 4}
runner = CliRunner()


def invoke(*args: str) -> None:
    result = runner.invoke(cli, list(args), catch_exceptions=True)
    assert result.exit_code in OK_CODES, (args, result.output)
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), (args, repr(result.exception))
    assert "Traceback" not in result.output


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_everywhere(text: str) -> None:
    invoke("store", text)
    invoke("search", text)
    invoke("search", "ok", "--tags", text)
    invoke("retrieve", "--since", text)
    invoke("retrieve", "--tags", text, "--type", "general")
    invoke("get", text)
    invoke("forget", text, "--yes")
    invoke("update", text, "--content", "x")
    invoke("stats", "--persona", text)
    invoke("kv", "put", text, text)
    invoke("kv", "get", text)
    invoke("kv", "delete", text, "--namespace", text)
    invoke("store", "ok", "--metadata", text)


def test_deep_and_odd_json() -> None:
    invoke("store", "ok", "--metadata", DEEP_JSON)
    invoke("store", "ok", "--metadata", '{"a": ' * 3000 + "1" + "}" * 3000)
    invoke("kv", "put", "k", DEEP_JSON)
    invoke("kv", "put", "k", "NaN")
    invoke("kv", "put", "k", "1e999")
    invoke("store", "ok", "--importance", "nan")
    invoke("store", "ok", "--importance", "inf")
    invoke("search", "ok", "--limit", "-1")
    invoke("search", "ok", "--limit", "99999999999999999999")


@settings(max_examples=int(os.environ.get("PMEM_FUZZ_EXAMPLES", "150")), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(["store", "search", "retrieve-since", "get", "kv-put", "persona"]),
    text=st.text(max_size=300),
)
def test_random_text(command: str, text: str) -> None:
    args = {
        "store": ["store", text],
        "search": ["search", text],
        "retrieve-since": ["retrieve", "--since", text],
        "get": ["get", text],
        "kv-put": ["kv", "put", text or "k", text],
        "persona": ["stats", "--persona", text],
    }[command]
    invoke(*args)


def test_invalid_utf8_arguments_in_a_real_process(tmp_path: Path) -> None:
    env = {**os.environ, "MEMORY_BASE_PATH": str(tmp_path)}
    bad = b"caf\xe9 \xff\xfe memories"
    for args in ([b"store", bad], [b"search", bad], [b"kv", b"put", bad, bad], [b"stats", b"--persona", bad]):
        done = subprocess.run([sys.executable.encode(), b"-m", b"persona_memory", *args], env=env, capture_output=True)
        assert done.returncode in OK_CODES, done
        assert b"Traceback" not in done.stderr + done.stdout, done.stderr.decode(errors="replace")


def test_store_survives_the_fuzzing(clean_environ: Path) -> None:
    for text in HOSTILE:
        runner.invoke(cli, ["store", text])
    result = runner.invoke(cli, ["stats", "--json"])
    assert result.exit_code == 0
    assert json.loads(result.output)["total"] >= 10
