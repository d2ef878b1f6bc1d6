"""The JSON-lines backend: OpenPersona's files, damaged lines, and many processes on one file."""

from __future__ import annotations

import json
import multiprocessing as mp
import shutil
import subprocess
from pathlib import Path

import pytest

from persona_memory import CorruptLineWarning, PersonaStore
from persona_memory.backends.jsonl import JsonlBackend

# Lines as OpenPersona's memory.js writes them (JSON.stringify of its record, toISOString times).
OPENPERSONA_LINES = [
    '{"id":"mem_00000000000000a1","type":"preference","content":"User is vegetarian and loves Italian food",'
    '"tags":["preference","food"],"importance":0.8,"timestamp":"2025-01-05T10:00:00.000Z","accessCount":2,'
    '"lastAccessed":"2025-02-01T08:30:00.000Z"}',
    '{"id":"mem_00000000000000a2","type":"personal_fact","content":"User\'s daughter Emma starts school in September",'
    '"tags":["family","Emma"],"importance":0.9,"timestamp":"2025-03-01T09:00:00.000Z","accessCount":0,"lastAccessed":null}',
    '{"id":"mem_00000000000000a3","type":"general","content":"Mentioned rain in Porto","tags":[],'
    '"timestamp":"2025-03-02T09:00:00.000Z","accessCount":0,"lastAccessed":null}',
]


def persona_file(root: Path, slug: str = "ada") -> Path:
    return root / f"persona-{slug}" / "memories.jsonl"


def write_openpersona(root: Path, lines: list[str], slug: str = "ada") -> Path:
    path = persona_file(root, slug)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_reads_the_files_openpersona_wrote(tmp_path: Path) -> None:
    write_openpersona(tmp_path, OPENPERSONA_LINES)
    with PersonaStore("ada", url=f"jsonl://{tmp_path}") as store:
        veg = store.get("mem_00000000000000a1")
        assert veg.access_count == 2 and veg.importance == 0.8 and veg.tags == ("preference", "food")
        assert store.get("mem_00000000000000a3").importance == 0.5  # OpenPersona's default
        assert store.get("mem_00000000000000a2").tags == ("family", "emma")  # compared lowercase
        assert [h.id for h in store.search("what food does the user like")][:1] == ["mem_00000000000000a1"]
        assert [r.id for r in store.retrieve(tags="emma")] == ["mem_00000000000000a2"]
        stats = store.stats()
        assert stats.total == 3 and stats.by_type == {"general": 1, "personal_fact": 1, "preference": 1}


def test_writes_openpersona_fields_and_keeps_extras_out_of_its_way(tmp_path: Path) -> None:
    with PersonaStore("ada", url=f"jsonl://{tmp_path}") as store:
        plain = store.store("User likes tea", tags="drink", importance=0.6, type="preference")
        rich = store.store("User's cat is Tom", metadata={"source": "chat"})
        newer = store.update(rich.id, content="User's cat is Tommy")
    lines = [json.loads(line) for line in persona_file(tmp_path).read_text().splitlines()]
    by_id = {line["id"]: line for line in lines}
    assert by_id[plain.id] == {
        "id": plain.id, "type": "preference", "content": "User likes tea", "tags": ["drink"],
        "importance": 0.6, "timestamp": by_id[plain.id]["timestamp"], "accessCount": 0, "lastAccessed": None,
    }
    assert by_id[plain.id]["timestamp"].endswith("Z")
    assert by_id[rich.id]["supersededBy"] == newer.id and by_id[rich.id]["metadata"] == {"source": "chat"}
    assert by_id[newer.id]["supersedes"] == rich.id


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_reads_our_lines_the_way_openpersona_does(tmp_path: Path) -> None:
    """A stand-in for OpenPersona's reader: JSON.parse per line, then its fields and Date parsing."""
    with PersonaStore("ada", url=f"jsonl://{tmp_path}") as store:
        store.store("said at a microsecond", at="2025-01-02T03:04:05.123456Z")
        store.store("said at a millisecond", at="2025-01-02T03:04:05.123Z", metadata={"k": [1]})
    script = (
        "const fs=require('fs');"
        "const lines=fs.readFileSync(process.argv[1],'utf-8').split('\\n').filter(Boolean);"
        "const out=lines.map(l=>{const m=JSON.parse(l);"
        "return [m.id, m.content, new Date(m.timestamp).toISOString(), m.importance ?? 0.5, m.accessCount];});"
        "console.log(JSON.stringify(out));"
    )
    result = subprocess.run(["node", "-e", script, str(persona_file(tmp_path))], capture_output=True, text=True, check=True)
    seen = json.loads(result.stdout)
    assert [row[2] for row in seen] == ["2025-01-02T03:04:05.123Z", "2025-01-02T03:04:05.123Z"]
    assert [row[1] for row in seen] == ["said at a microsecond", "said at a millisecond"]


def test_corrupted_lines_are_skipped_with_a_warning_and_never_destroyed(tmp_path: Path) -> None:
    damaged = [
        OPENPERSONA_LINES[0],
        '{"id":"mem_broken","content":"cut off in the midd',
        "not json at all",
        '{"id":"mem_00000000000000b1","content":"no timestamp"}',
        OPENPERSONA_LINES[1],
    ]
    path = write_openpersona(tmp_path, damaged)
    path.write_bytes(path.read_bytes() + b'\xff\xfe{"bad utf-8"}\n')
    with pytest.warns(CorruptLineWarning) as caught:
        store = PersonaStore("ada", url=f"jsonl://{tmp_path}")
        assert store.stats().total == 2
    messages = [str(w.message) for w in caught]
    assert [m.split(":")[1] for m in messages] == ["2", "3", "4", "6"]
    assert all(str(path) in m for m in messages)
    added = store.store("a new memory after the damage")
    store.retrieve()  # rewrites the file (access counts)
    store.close()
    text = path.read_bytes()
    for line in damaged[1:4]:
        assert line.encode() in text  # what we cannot read is kept for a human to repair
    assert b'\xff\xfe{"bad utf-8"}' in text
    with pytest.warns(CorruptLineWarning):
        assert PersonaStore("ada", url=f"jsonl://{tmp_path}").get(added.id).content == added.content


def test_a_line_cut_off_by_a_crash_does_not_swallow_the_next_one(tmp_path: Path) -> None:
    path = write_openpersona(tmp_path, OPENPERSONA_LINES[:1])
    with open(path, "ab") as handle:
        handle.write(b'{"id":"mem_half","content":"half writ')  # a writer killed mid-line
    with pytest.warns(CorruptLineWarning, match=":2:"):
        store = PersonaStore("ada", url=f"jsonl://{tmp_path}")
        stored = store.store("written after the crash")
    assert store.get(stored.id).content == "written after the crash"
    store.close()
    assert path.read_text().splitlines()[-1].startswith('{"id":"' + stored.id)


def _writer(root: str, n: int, count: int) -> None:
    store = PersonaStore("shared", url=f"jsonl://{root}")
    for i in range(count):
        store.store(f"process {n} memory {i}", tags=[f"p{n}"])
        store.store("the same content from every process")
        if i % 5 == 0:
            store.retrieve(limit=3)  # rewrites the whole file while others append
    store.close()


def test_processes_never_interleave_or_lose_a_line(tmp_path: Path) -> None:
    processes, count = 4, 40
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), n, count)) for n in range(processes)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * processes
    lines = persona_file(tmp_path, "shared").read_text().splitlines()
    parsed = [json.loads(line) for line in lines]  # every line is whole
    contents = [m["content"] for m in parsed]
    assert len(contents) == len(set(contents)) == processes * count + 1  # no loss, no duplicate
    shared = next(m for m in parsed if m["content"] == "the same content from every process")
    assert shared["accessCount"] >= processes * count - 1  # every reinforcement counted
    backend = JsonlBackend(tmp_path)
    assert backend.stats("shared").total == processes * count + 1


def test_keys_values_and_settings_live_beside_the_personas(tmp_path: Path) -> None:
    backend = JsonlBackend(tmp_path)
    backend.kv_put("bot", "k", '"v"')
    backend.set_meta("embedder", "none")
    assert json.loads((tmp_path / "kv.json").read_text()) == {"bot": {"k": ['"v"', None]}}
    assert json.loads((tmp_path / "settings.json").read_text()) == {"embedder": "none"}
    assert (tmp_path / "kv.json").stat().st_mode & 0o777 == 0o600
