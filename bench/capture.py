"""How well ``observe`` picks what to remember, on the LoCoMo conversations.

    python bench/capture.py [--data ../shared/data/locomo-dev] [--limit-convs N]

For each conversation, two stores are built in a temporary directory:

* **all turns** (the baseline): every turn stored with ``store()``, as in the LoCoMo retrieval
  benchmark (content ``"<speaker>: <text>"`` plus the image caption; timestamp = session date);
* **captured**: every turn passed to ``observe(text, speaker=<name>, at=<session date>)``,
  which stores only what its rules judge worth remembering.

The turns cited as evidence by the questions are the ones worth remembering. Printed: the
share of evidence turns captured, the share of all turns stored, search recall@10 of the
evidence turns in both stores, what ``min_score`` does to recall and to empty answers
(adversarial questions, category 5, have no true answer), the secret detector's false alarms
on real conversation, and the cost per turn of ``observe`` against ``store``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
from collections import Counter
from pathlib import Path

from locomo_data import DEFAULT_DIR, Question, load_all  # type: ignore[import-not-found]

from persona_memory import PersonaStore, privacy

K = 10
FLOORS = (None, 0.3, 0.5)


def recall(store: PersonaStore, questions: list[Question], min_score: float | None) -> tuple[list[float], list[bool]]:
    scores, empty = [], []
    for q in questions:
        hits = store.search(q.question, limit=K, min_score=min_score)
        found = {h.record.metadata.get("dia_id") for h in hits}
        scores.append(len(found & q.evidence) / len(q.evidence))
        empty.append(not hits)
    return scores, empty


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--limit-convs", type=int, default=None)
    args = parser.parse_args()
    conversations = load_all(args.data)[: args.limit_convs]
    if not conversations:
        print(f"no conv-*.json under {args.data}", file=sys.stderr)
        return 1
    warnings.simplefilter("ignore")
    totals: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    types: Counter[str] = Counter()
    rec: dict[tuple[str, float | None, str], list[float]] = {}
    empties: dict[tuple[float | None, str], list[bool]] = {}
    observe_ms: list[float] = []
    store_ms: list[float] = []
    secret_alarms = 0
    events: Counter[str] = Counter()
    for conv in conversations:
        questions = conv.questions
        totals["evidence ids skipped (malformed or unknown)"] += len(conv.skipped_ids)
        with tempfile.TemporaryDirectory() as tmp:
            base = PersonaStore("all", base_path=tmp)
            captured = PersonaStore("captured", base_path=tmp)
            stored_ids: set[str] = set()
            for turn in conv.turns:
                dia_id, speaker, when = turn.dia_id, turn.speaker, turn.at
                text = turn.text + (f" (shares a photo: {turn.caption})" if turn.caption else "")
                secret_alarms += bool(privacy.find_secrets(text))
                t0 = time.perf_counter()
                base.store(f"{speaker}: {text}", at=when, metadata={"dia_id": dia_id})
                t1 = time.perf_counter()
                decision = captured.observe(text, speaker=speaker, at=when, metadata={"dia_id": dia_id})
                t2 = time.perf_counter()
                store_ms.append((t1 - t0) * 1000)
                observe_ms.append((t2 - t1) * 1000)
                reasons[decision.reason] += 1
                for record in decision.stored:
                    types[record.type.value] += 1
                    stored_ids.add(dia_id)
            evidence_turns = set().union(*(q.evidence for q in questions))
            totals["turns"] += len(conv.turns)
            totals["turns stored by observe"] += len(stored_ids)
            totals["evidence turns"] += len(evidence_turns)
            totals["evidence turns captured"] += len(evidence_turns & stored_ids)
            totals["questions with evidence"] += len(questions)
            for floor in FLOORS:
                for name, store in (("all turns", base), ("captured", captured)):
                    scores, empty = recall(store, questions, floor)
                    for q, s, e in zip(questions, scores, empty, strict=True):
                        group = "cat 5" if q.category == 5 else "cat 1-4"
                        rec.setdefault((name, floor, group), []).append(s)
                        rec.setdefault((name, floor, "all"), []).append(s)
                        if name == "all turns":
                            empties.setdefault((floor, group), []).append(e)
            for event in captured.evolve().events:
                events[event["type"]] += 1
            base.close()
            captured.close()

    print(f"LoCoMo capture benchmark: {len(conversations)} conversations, {totals['turns']} turns, "
          f"{totals['questions with evidence']} questions with evidence "
          f"({totals['evidence ids skipped (malformed or unknown)']} evidence ids skipped)\n")
    print("| what | value |\n|---|---|")
    print(f"| evidence turns captured by observe | {totals['evidence turns captured']}/{totals['evidence turns']} "
          f"= {totals['evidence turns captured'] / totals['evidence turns']:.1%} |")
    print(f"| all turns stored by observe | {totals['turns stored by observe']}/{totals['turns']} "
          f"= {totals['turns stored by observe'] / totals['turns']:.1%} |")
    print(f"| secret detector false alarms on real turns | {secret_alarms}/{totals['turns']} |")
    print(f"| observe decisions | {', '.join(f'{k} {v}' for k, v in reasons.most_common())} |")
    print(f"| types stored | {', '.join(f'{k} {v}' for k, v in types.most_common())} |")
    print(f"| evolve events (all conversations) | {', '.join(f'{k} {v}' for k, v in sorted(events.items())) or '-'} |")
    print(f"| median ms per turn: store (baseline) / observe | {statistics.median(store_ms):.2f} / "
          f"{statistics.median(observe_ms):.2f} (ratio {statistics.median(observe_ms) / statistics.median(store_ms):.1f}x) |")
    print(f"\nSearch recall@{K} of the evidence turns (mean over questions):\n")
    print("| store | min_score | all questions | cat 1-4 | cat 5 (adversarial) |\n|---|---|---|---|---|")
    for floor in FLOORS:
        for name in ("all turns", "captured"):
            cells = [statistics.mean(rec[(name, floor, g)]) for g in ("all", "cat 1-4", "cat 5")]
            print(f"| {name} | {floor if floor is not None else '-'} | " + " | ".join(f"{c:.3f}" for c in cells) + " |")
    print("\nShare of questions answered with nothing (all-turns store):\n")
    print("| min_score | cat 1-4 (answerable) | cat 5 (adversarial) |\n|---|---|---|")
    for floor in FLOORS:
        cells = [statistics.mean(empties[(floor, g)]) for g in ("cat 1-4", "cat 5")]
        print(f"| {floor if floor is not None else '-'} | " + " | ".join(f"{c:.1%}" for c in cells) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
