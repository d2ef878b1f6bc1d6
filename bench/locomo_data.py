"""Loading the LoCoMo conversations (``shared/data/locomo-dev``, CC BY-NC 4.0) for the benchmarks.

Each turn becomes one memory: content ``"<speaker>: <text>"`` plus ``" [image: <caption>]"`` when
the speaker shared a picture, said at its session's date. Evidence ids are cleaned the way the
data's README asks: ``"D8:6; D9:17"`` is split, ``"D:11:26"`` becomes ``"D11:26"``, and ids that
name no turn of the conversation are skipped and counted.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
# shared/ sits beside the clone (CI, /work/main) or beside a folder of worktrees; PMEM_LOCOMO_DIR wins
DEFAULT_DIR = Path(
    os.environ.get("PMEM_LOCOMO_DIR")
    or next(
        (p for p in (_REPO.parent / "shared" / "data" / "locomo-dev", _REPO.parents[1] / "shared" / "data" / "locomo-dev")
         if p.is_dir()),
        _REPO.parent / "shared" / "data" / "locomo-dev",
    )
)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
_ID = re.compile(r"D:?(\d+):(\d+)")


@dataclass
class Turn:
    dia_id: str
    speaker: str
    text: str
    caption: str | None
    session: int
    at: dt.datetime

    @property
    def content(self) -> str:
        content = f"{self.speaker}: {self.text}"
        return f"{content} [image: {self.caption}]" if self.caption else content


@dataclass
class Question:
    question: str
    evidence: frozenset[str]
    category: int


@dataclass
class Conversation:
    id: str
    speakers: tuple[str, str]
    turns: list[Turn]
    questions: list[Question]
    skipped_ids: list[str] = field(default_factory=list)  # malformed or pointing nowhere
    skipped_questions: int = 0  # left without any valid evidence

    @property
    def last_session(self) -> dt.datetime:
        return max(t.at for t in self.turns)


def parse_when(text: str) -> dt.datetime:
    """``"1:56 pm on 8 May, 2023"`` -> aware UTC datetime."""
    return dt.datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=dt.UTC)


def load(path: Path) -> Conversation:
    data = json.loads(path.read_text("utf-8"))
    conv = data.get("conversation", data)
    turns: list[Turn] = []
    n = 1
    while f"session_{n}" in conv:
        at = parse_when(conv[f"session_{n}_date_time"])
        for t in conv[f"session_{n}"]:
            turns.append(Turn(t["dia_id"], t["speaker"], t["text"], t.get("blip_caption"), n, at))
        n += 1
    known = {t.dia_id for t in turns}
    result = Conversation(path.stem, (conv["speaker_a"], conv["speaker_b"]), turns, [])
    for qa in data["qa"]:
        evidence = set()
        for raw in qa.get("evidence", []):
            for part in re.split(r"[;,\s]+", raw.strip()):
                if not part:
                    continue
                m = _ID.fullmatch(part)
                dia_id = f"D{m.group(1)}:{m.group(2)}" if m else None
                if dia_id in known:
                    evidence.add(dia_id)
                else:
                    result.skipped_ids.append(part)
        if evidence:
            result.questions.append(Question(qa["question"], frozenset(evidence), int(qa["category"])))
        else:
            result.skipped_questions += 1
    return result


def load_all(directory: Path = DEFAULT_DIR) -> list[Conversation]:
    return [load(p) for p in sorted(directory.glob("conv-*.json"))]
