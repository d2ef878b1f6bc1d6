"""A persona's evolution state and events, as the browser shows them beside its memories.

The evolution bridge keeps ``state.json`` and an event log (one JSON object per line) in the
persona's directory, ``<base>/persona-<slug>/``. Both are read if present; a persona that has
not evolved yet has neither. A damaged ``state.json`` is reported, never "repaired", and
damaged event lines are skipped: this module only reads.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

STATE_FILE = "state.json"
EVENT_FILES = ("events.jsonl",)  # the bridge's event log; oldest first, one JSON object per line
MAX_EVENTS = 200


def read_evolution(persona_dir: Path, limit: int = MAX_EVENTS) -> dict[str, Any]:
    """``{"state": dict | None, "state_error": str | None, "events": [newest first]}``."""
    state, problem = _read_state(persona_dir / STATE_FILE)
    return {"state": state, "state_error": problem, "events": _read_events(persona_dir, limit)}


def _read_state(path: Path) -> tuple[Any, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, None
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"cannot read {path.name}: {exc}"
    try:
        return json.loads(text), None
    except ValueError as exc:
        return None, f"{path.name} is not valid JSON: {exc}"


def _read_events(persona_dir: Path, limit: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for name in EVENT_FILES:
        try:
            lines = (persona_dir / name).read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            continue
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a torn or damaged line: skip it, as every JSON-lines reader here does
            if isinstance(event, dict):
                events.append(event)
    return events[::-1][:limit]
