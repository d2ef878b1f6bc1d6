"""The pmem command line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from persona_memory.cli import cli


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str, input: str | None = None, code: int = 0) -> str:
        result = runner.invoke(cli, list(args), input=input, catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.output

    return invoke


def test_store_retrieve_search_stats(run) -> None:
    out = run("store", "User is vegetarian and loves Italian food", "--tags", "preference,food",
              "--importance", "0.8", "--type", "preference")
    assert out.startswith("Stored mem_")
    run("store", "User's daughter Emma starts school in September", "-t", "family", "--type", "personal_fact")
    table = run("retrieve", "--tags", "food", "--limit", "5")
    assert "vegetarian" in table and "Emma" not in table
    hits = json.loads(run("search", "what does the user like to eat", "--limit", "3", "--json"))
    assert hits[0]["content"] == "User is vegetarian and loves Italian food"
    assert {"score", "relevance", "id", "tags"} <= set(hits[0])
    stats = json.loads(run("stats", "--json"))
    assert stats["total"] == 2 and stats["top_tags"][0]["count"] == 1
    assert "total memories : 2" in run("stats")


def test_retrieve_since_and_json(run) -> None:
    run("store", "old", "--at", "2020-01-01")
    run("store", "new")
    records = json.loads(run("retrieve", "--since", "2025-01-01", "--json"))
    assert [r["content"] for r in records] == ["new"]


def test_nothing_found_is_said_plainly(run) -> None:
    assert run("search", "anything").strip() == "I don't have a specific memory about that."
    assert run("retrieve").strip() == "I don't have a specific memory about that."
    assert run("search", "anything", "--json").strip() == "[]"


def test_update_and_get(run) -> None:
    memory_id = json.loads(run("store", "lives in Berlin", "--json"))["id"]
    new = json.loads(run("update", memory_id, "--content", "lives in Lisbon", "--json"))
    assert new["supersedes"] == memory_id
    assert "superseded_by: " + new["id"] in run("get", memory_id)


def test_forget_asks_on_a_terminal_and_needs_yes_otherwise(run, monkeypatch: pytest.MonkeyPatch) -> None:
    memory_id = json.loads(run("store", "my ex is Sam", "--json"))["id"]
    out = run("forget", memory_id, code=2)  # stdin is not a terminal
    assert "--yes" in out
    monkeypatch.setattr("persona_memory.cli._stdin_is_terminal", lambda: True)
    out = run("forget", memory_id, input="n\n", code=1)
    assert "Aborted" in out
    run("get", memory_id)
    out = run("forget", memory_id, input="y\n")
    assert "Forgot " + memory_id in out
    run("get", memory_id, code=3)


def test_forget_yes(run) -> None:
    memory_id = json.loads(run("store", "temporary", "--json"))["id"]
    assert json.loads(run("forget", memory_id, "--yes", "--json")) == {"forgotten": [memory_id]}


def test_errors_are_one_clear_line_with_exit_codes(run) -> None:
    assert "importance" in run("store", "x", "--importance", "2", code=2)
    assert "content" in run("store", "   ", code=2)
    assert "since" in run("retrieve", "--since", "last tuesday", code=2)
    assert "slug" in run("stats", "--persona", "../etc", code=2)
    assert "no memory 'mem_0000000000000000'" in run("forget", "mem_0000000000000000", "--yes", code=3)
    assert "Traceback" not in run("store", "x", "--metadata", "{not json", code=2)


def test_persona_option_isolates(run) -> None:
    run("store", "ada's memory", "--persona", "ada")
    assert run("search", "memory", "--persona", "bob").strip() == "I don't have a specific memory about that."
    assert "ada's memory" in run("search", "memory", "--persona", "ada")


def test_kv_commands(run) -> None:
    run("kv", "put", "remember_this", "the milk")
    assert run("kv", "get", "remember_this").strip() == "the milk"
    run("kv", "put", "n", "42")
    assert run("kv", "get", "n", "--json").strip() == "42"
    run("kv", "put", "s", "42", "--raw")
    assert run("kv", "get", "s", "--json").strip() == '"42"'
    assert run("kv", "list").split() == ["n", "remember_this", "s"]
    assert "Deleted" in run("kv", "delete", "remember_this")
    assert "nothing to delete" in run("kv", "delete", "remember_this")
    assert "no value" in run("kv", "get", "remember_this", code=3)
    run("kv", "put", "x", "1", "--namespace", "other")
    assert run("kv", "get", "x", "-N", "other").strip() == "1"
    run("kv", "get", "x", code=3)


def test_export_writes_json_lines(run) -> None:
    run("store", "one")
    run("store", "two")
    lines = run("export").splitlines()
    assert [json.loads(line)["content"] for line in lines] == ["one", "two"]


def test_backends_lists_sqlite(run) -> None:
    rows = json.loads(run("backends", "--json"))
    assert {"name": "sqlite", "schemes": "sqlite", "state": "ready"}.items() <= rows[0].items()


def test_every_command_has_help(run) -> None:
    for command in cli.commands:
        assert "Usage:" in run(command, "--help")
    for command in ("get", "put", "delete", "list"):
        assert "Usage:" in run("kv", command, "--help")


def test_real_process_persists_across_restart(clean_environ: Path) -> None:
    pmem = [sys.executable, "-m", "persona_memory"]
    env = {**os.environ, "PERSONA_SLUG": "restart"}
    stored = subprocess.run([*pmem, "store", "survives restarts", "--json"], env=env, capture_output=True, text=True, check=True)
    memory_id = json.loads(stored.stdout)["id"]
    found = subprocess.run([*pmem, "search", "restarts", "--json"], env=env, capture_output=True, text=True, check=True)
    assert json.loads(found.stdout)[0]["id"] == memory_id
    assert (clean_environ / "persona-restart" / "memories.db").exists()
    failed = subprocess.run([*pmem, "store", ""], env=env, capture_output=True, text=True)
    assert failed.returncode == 2 and failed.stderr.startswith("Error: invalid content")


# ---- the persona faculty ----


def test_observe_evolve_events_handoff(run, clean_environ: Path) -> None:
    assert run("observe", "thanks!").startswith("filler:")
    assert "secret" in run("observe", "my password is hunter2")
    assert "hunter2" not in run("observe", "my password is hunter2", "--json")
    stored = json.loads(run("observe", "I'm vegetarian and I love Italian food", "--json"))
    assert stored["reason"] == "stored" and stored["stored"][0]["type"] == "preference"
    for text in ("kayak trip on Sunday", "kayak repair shop", "my kayak club"):
        run("store", text, "--tags", "kayak")
    out = run("evolve")
    assert "interest_discovery: interest in kayak (3 memories)" in out
    assert run("evolve").strip() == "No new evolution events."
    logged = json.loads(run("events", "--json"))
    assert [e["type"] for e in logged].count("interest_discovery") == 1
    assert "interest_discovery" in run("events")
    assert "Wrote" in run("handoff", "bob")
    handoff = json.loads((clean_environ / "persona-bob" / "handoff.json").read_text())
    assert handoff["fromPersona"] == "default" and handoff["memory"]["total"] >= 4


def test_search_min_score_says_it_has_no_memory(run) -> None:
    run("store", "User is vegetarian and loves Italian food")
    assert "vegetarian" in run("search", "italian food", "--min-score", "0.5")
    assert run("search", "tell me about my ex", "--min-score", "0.3").strip() == (
        "I don't have a specific memory about that."
    )
    assert json.loads(run("search", "italian", "--json", "--min-score", "0"))[0]["match"] == 1.0


def test_forget_matching_lists_then_asks(run, monkeypatch: pytest.MonkeyPatch) -> None:
    import persona_memory.cli as cli_module

    monkeypatch.setattr(cli_module, "_stdin_is_terminal", lambda: True)
    keep = json.loads(run("store", "I love hiking", "--json"))["id"]
    gone = json.loads(run("store", "My ex Jake moved to Denver", "--json"))["id"]
    out = run("forget", "--matching", "my ex", input="n\n", code=1)
    assert gone in out and keep not in out and "Aborted" in out
    out = run("forget", "--matching", "my ex", input="y\n")
    assert f"Forgot {gone}." in out
    assert run("forget", "--matching", "my ex", "--yes").startswith("I don't have a specific memory")
    run("store", "likes tea", "--tags", "drink")
    assert "Forgot" in run("forget", "--tag", "drink", "--yes")
    assert run("forget", "--all", "--yes").startswith("Forgot")
    assert json.loads(run("stats", "--json"))["total"] == 0
    assert "exactly one" in run("forget", code=2)
    assert "exactly one" in run("forget", keep, "--all", code=2)


def test_forget_matching_in_a_real_process_needs_confirmation(tmp_path: Path) -> None:
    env = {**os.environ, "MEMORY_BASE_PATH": str(tmp_path / "base")}
    pmem = [sys.executable, "-m", "persona_memory"]
    subprocess.run([*pmem, "store", "My ex Jake moved to Denver"], env=env, check=True, capture_output=True)
    refused = subprocess.run([*pmem, "forget", "--matching", "my ex"], env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    done = subprocess.run([*pmem, "forget", "--matching", "my ex", "--yes", "--json"], env=env,
                          capture_output=True, text=True, check=True)
    assert len(json.loads(done.stdout)["forgotten"]) == 1


def test_export_import_move_everything_between_backends(
    run, tmp_path: Path, backend_url, monkeypatch: pytest.MonkeyPatch
) -> None:
    sqlite = f"sqlite:///{tmp_path / 'origin.db'}"
    jsonl, postgres = backend_url("jsonl"), backend_url("postgres")
    first = json.loads(run("store", "User lives in Berlin", "-t", "home", "--type", "personal_fact",
                           "--metadata", '{"source": "chat"}', "--url", sqlite, "-p", "ada", "--json"))
    run("update", first["id"], "--content", "User lives in Lisbon", "--url", sqlite, "-p", "ada")
    for i in range(30):
        run("store", f"memory number {i}", "--at", f"2024-01-{i % 28 + 1:02d}", "--url", sqlite, "-p", "ada")
    run("retrieve", "--url", sqlite, "-p", "ada")  # access counts travel too
    dump = tmp_path / "ada.jsonl"
    run("export", "-o", str(dump), "--url", sqlite, "-p", "ada")
    assert len(dump.read_text().splitlines()) == 32
    with monkeypatch.context() as patch:  # as if a person watched: the progress bar is shown
        patch.setattr("persona_memory.cli._stderr_is_terminal", lambda: True)
        out = run("import", str(dump), "--url", jsonl, "-p", "ada")
    assert out.startswith("copying to jsonl://")
    assert "Copied 32 memories of 'ada'" in out and "32 new" in out and "all 32 read back and identical" in out
    report = json.loads(run("export", "--to", postgres, "--url", jsonl, "-p", "ada", "--json"))
    assert report == {"total": 32, "added": 32, "verified": 32, "to": report["to"], "persona": "ada"}
    again = json.loads(run("import", "--from", sqlite, "--url", postgres, "-p", "ada", "--json"))
    assert (again["added"], again["verified"]) == (0, 32)  # a second copy is harmless
    exports = [run("export", "--url", url, "-p", "ada") for url in (sqlite, jsonl, postgres)]
    records = [sorted((json.loads(line) for line in text.splitlines()), key=lambda r: r["id"]) for text in exports]
    assert records[0] == records[1] == records[2]
    assert [r["content"] for r in json.loads(run("search", "Lisbon", "--url", postgres, "-p", "ada", "--json"))] == [
        "User lives in Lisbon"
    ]


def test_import_reads_openpersona_files_and_refuses_damage(run, tmp_path: Path) -> None:
    source = tmp_path / "memories.jsonl"
    source.write_text(
        '{"id":"mem_00000000000000a1","type":"preference","content":"User loves jazz","tags":["music"],'
        '"importance":0.7,"timestamp":"2025-01-05T10:00:00.000Z","accessCount":1,"lastAccessed":null}\n'
    )
    run("import", str(source), "-p", "bob")
    assert json.loads(run("get", "mem_00000000000000a1", "-p", "bob", "--json"))["tags"] == ["music"]
    source.write_text(source.read_text() + "{not json\n")
    out = run("import", str(source), "-p", "carl", code=2)
    assert "line 2" in out
    assert run("stats", "-p", "carl").strip() == "No memories found."  # nothing half-copied
    assert "one of them" in run("import", "-p", "carl", code=2)


def test_copy_that_cannot_be_verified_is_an_error(run, tmp_path: Path) -> None:
    origin, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    run("store", "User likes tea", "--url", origin)
    run("store", "user likes tea.", "--url", target)  # the same memory under another id
    out = run("export", "--to", target, "--url", origin, code=4)
    assert "incomplete: 1 of 1 memories missing" in out
