"""Check a store against the acknowledged writes a killed crash_writer reported."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from persona_memory import Memory, PersonaStore
from persona_memory.config import KV_FILENAME, PERSONA_FILENAME


def acknowledged(output: str) -> list[list[str]]:
    # a line cut off by the kill has no newline: it was never acknowledged
    complete = output[: output.rfind("\n") + 1] if "\n" in output else ""
    return [line.split() for line in complete.splitlines() if line]


def check(base_path: Path, lines: list[list[str]], in_flight: int = 1) -> tuple[int, list[str]]:
    """Return (acknowledged writes, problems). Problems empty means nothing was lost.

    ``in_flight``: how many writers were killed; each may have completed one write it never
    acknowledged.

    ``S``/``U`` ids must exist (superseded ones as superseded), ``F`` ids must be gone, ``P``
    keys must hold their value, and each SQLite file must pass ``PRAGMA integrity_check``.
    """
    problems = []
    for path in (base_path / KV_FILENAME, base_path / "persona-crash" / PERSONA_FILENAME):
        if path.exists():
            conn = sqlite3.connect(path)
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            conn.close()
            if result != "ok":
                problems.append(f"{path}: integrity_check says {result}")
    expected_kv: dict[str, int] = {}
    present: set[str] = set()
    superseded: set[str] = set()
    gone: set[str] = set()
    older: dict[str, str] = {}  # new version -> the version it superseded
    for line in lines:
        if line[0] == "P":
            expected_kv[line[1]] = int(line[2])
        elif line[0] == "S":
            present.add(line[1])
        elif line[0] == "U":
            present.discard(line[1])
            superseded.add(line[1])
            present.add(line[2])
            older[line[2]] = line[1]
        elif line[0] == "F":  # forgetting a memory forgets all its earlier versions too
            version: str | None = line[1]
            while version is not None:
                present.discard(version)
                superseded.discard(version)
                gone.add(version)
                version = older.get(version)
    with Memory("crash", base_path=str(base_path)) as memory:
        for key, i in expected_kv.items():
            value = memory.get(key)
            if not value or value.get("i") != i:
                problems.append(f"kv {key}: expected i={i}, found {value!r}")
    with PersonaStore("crash", base_path=str(base_path)) as store:
        found = {r.id: r for r in store.backend.get_records("crash", sorted(present | superseded | gone))}
        changed = [i for i in present if i not in found or not found[i].active]
        changed += [i for i in superseded if i not in found]
        # The write in flight when a writer died (never acknowledged) may have completed: an
        # update or forget of one live memory, which touches that memory and its earlier
        # versions. Anything beyond one such family per killed writer is a lost write.
        families = {live: _family(live, older) for live in present}
        touched = {live for live, family in families.items() if family & set(changed)}
        covered = set().union(*(families[live] for live in touched)) if touched else set()
        if changed and (not set(changed) <= covered or len(touched) > in_flight):
            problems += [f"memory {i} lost or changed" for i in changed]
        problems += [f"memory {i} not superseded" for i in superseded if i in found and found[i].active]
        problems += [f"memory {i} forgotten but present" for i in gone if i in found]
    return len(lines), problems


def _family(newest: str, older: dict[str, str]) -> set[str]:
    family, version = set(), newest
    while version is not None:
        family.add(version)
        version = older.get(version)  # type: ignore[assignment]
    return family
