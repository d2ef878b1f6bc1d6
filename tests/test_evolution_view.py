"""Reading a persona's state.json and evolution events for the browser."""

from __future__ import annotations

import json
from pathlib import Path

from persona_memory.ui.evolution import read_evolution


def test_none_yet(tmp_path: Path) -> None:
    assert read_evolution(tmp_path / "persona-new") == {"state": None, "state_error": None, "events": []}


def test_state_and_events_newest_first_skipping_damaged_lines(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps({"mood": "warm"}))
    (tmp_path / "events.jsonl").write_text('{"type": "a"}\n{torn\n[1, 2]\n{"type": "b"}\n')
    assert read_evolution(tmp_path) == {
        "state": {"mood": "warm"}, "state_error": None, "events": [{"type": "b"}, {"type": "a"}]}
    assert read_evolution(tmp_path, limit=1)["events"] == [{"type": "b"}]


def test_a_damaged_state_is_reported_and_left_alone(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text('{"mood": ')
    view = read_evolution(tmp_path)
    assert view["state"] is None and "state.json is not valid JSON" in view["state_error"]
    assert (tmp_path / "state.json").read_text() == '{"mood": '
