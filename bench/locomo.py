"""Retrieval quality on LoCoMo: persona-memory's search against BM25, dense and fused baselines.

    python bench/locomo.py                      # the dev conversations in shared/data/locomo-dev
    python bench/locomo.py --data DIR --json out.json
    python bench/locomo.py --url 'postgresql://postgres@127.0.0.1:5432/db?schema=locomo'

Every turn of a conversation is stored as one memory through the public API, in order:
``store("<speaker>: <text>[ [image: <caption>]]", metadata={"dia_id": ...}, at=<session date>)``,
one persona store per conversation, with the store's clock set to the day after the last
session (when the questions are asked). Every question with evidence is searched with
``search(question, limit=10)``; recall@k is the share of its evidence turns in the top k,
MRR@10 the reciprocal rank of the first one. Malformed evidence ids are skipped and counted.

Rows, all in the same run on the same stores:

* persona-memory default: hybrid (BM25 + vectors + conversation context), then importance and
  time decay, exactly what ``search(q, limit=10)`` returns;
* the same ranked by relevance only (``weighted=False``), and ablations (no context; one side);
* the store's own full text alone (SQLite FTS5 BM25, or PostgreSQL with IDF weights; ``mode="text", context=False``) and its dense
  retrieval alone (the shipped static embedder, ``mode="vector", context=False``);
* plain reciprocal-rank fusion (k=60) of those two lists;
* ``bm25s`` (a separate BM25 library, with stemming and English stop words; bench-only dependency).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import locomo_data

from persona_memory import PersonaStore

Ranker = Callable[[str], list[str]]  # question -> dia_ids, best first


def recall_row(rankings: list[tuple[locomo_data.Question, list[str]]]) -> dict[str, Any]:
    """R@1/5/10 and MRR@10 overall and R@10 per category."""
    totals: dict[str, float] = defaultdict(float)
    per_cat: dict[int, list[float]] = defaultdict(list)
    per_cat5: dict[int, list[float]] = defaultdict(list)
    for q, got in rankings:
        ev = q.evidence
        for k in (1, 5, 10):
            totals[f"R@{k}"] += len(ev & set(got[:k])) / len(ev)
        totals["MRR@10"] += next((1 / (i + 1) for i, g in enumerate(got[:10]) if g in ev), 0.0)
        per_cat[q.category].append(len(ev & set(got[:10])) / len(ev))
        per_cat5[q.category].append(len(ev & set(got[:5])) / len(ev))
    n = len(rankings)
    row: dict[str, Any] = {key: value / n for key, value in totals.items()}
    row["R@10 by category"] = {c: statistics.fmean(v) for c, v in sorted(per_cat.items())}
    row["R@5 by category"] = {c: statistics.fmean(v) for c, v in sorted(per_cat5.items())}
    return row


class Conversation:
    """One conversation ingested into its own store, with the rankers that query it."""

    def __init__(
        self, conv: locomo_data.Conversation, directory: Path, embedder: str | None = None, url: str | None = None
    ) -> None:
        self.conv = conv
        asked = conv.last_session + dt.timedelta(days=1)
        self.store = PersonaStore(
            conv.id, url=url or f"sqlite:///{directory / conv.id}.db", clock=lambda: asked, embedder=embedder
        )
        if url:  # a shared server: start from an empty persona
            self.store.forget_everything()
        self.dia_of: dict[str, str] = {}
        start = time.perf_counter()
        for turn in conv.turns:
            record = self.store.store(turn.content, metadata={"dia_id": turn.dia_id}, at=turn.at)
            self.dia_of[record.id] = turn.dia_id
        self.ingest_seconds = time.perf_counter() - start
        self.search_ms: list[float] = []

    def search(self, question: str, limit: int = 10, timed: bool = False, **options: Any) -> list[str]:
        start = time.perf_counter()
        hits = self.store.search(question, limit=limit, **options)
        if timed:
            self.search_ms.append((time.perf_counter() - start) * 1000)
        return [self.dia_of[h.id] for h in hits]

    def relevance_only(self, question: str, **options: Any) -> list[str]:
        return self.search(question, weighted=False, **options)


def rrf(lists: Sequence[list[str]], k: int = 60) -> list[str]:
    scores: dict[str, float] = defaultdict(float)
    for ranking in lists:
        for rank, item in enumerate(ranking, start=1):
            scores[item] += 1 / (k + rank)
    return sorted(scores, key=lambda item: -scores[item])


def bm25s_ranker(conv: locomo_data.Conversation) -> Ranker | None:
    try:
        import bm25s
        import Stemmer
    except ImportError:
        return None
    stemmer = Stemmer.Stemmer("english")
    corpus = [t.content for t in conv.turns]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize(corpus, stopwords="en", stemmer=stemmer, show_progress=False), show_progress=False)

    def rank(question: str) -> list[str]:
        tokens = bm25s.tokenize([question], stopwords="en", stemmer=stemmer, show_progress=False)
        if not tokens.vocab:
            return []
        docs, _scores = retriever.retrieve(tokens, k=10, show_progress=False)
        return [conv.turns[int(i)].dia_id for i in docs[0]]

    return rank


def run(data: Path, url: str | None = None) -> dict[str, Any]:
    convs = locomo_data.load_all(data)
    if not convs:
        raise SystemExit(f"no conv-*.json in {data}")
    rows: dict[str, list[tuple[locomo_data.Question, list[str]]]] = defaultdict(list)
    per_conv: dict[str, dict[str, Any]] = {}
    ingest: dict[str, list[float]] = defaultdict(list)
    search_ms: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for conv in convs:
            c = Conversation(conv, Path(tmp), url=url)
            ingest["static embedder (default)"].append(len(conv.turns) / c.ingest_seconds)
            bare = Conversation(conv, Path(tmp) / "text-only", embedder="none")
            ingest["no embedder (text only)"].append(len(conv.turns) / bare.ingest_seconds)
            bare.store.close()
            qs = conv.questions
            # the default ranking first, on fresh stores: later searches count accesses too
            default = [(q, c.search(q.question, timed=True)) for q in qs]
            rows["persona-memory default (hybrid + context, weighted)"] += default
            per_conv[conv.id] = {"questions": len(qs), "turns": len(conv.turns), **recall_row(default)}
            rows["persona-memory hybrid + context, relevance only"] += [(q, c.relevance_only(q.question)) for q in qs]
            rows["  hybrid, no context"] += [(q, c.relevance_only(q.question, context=False)) for q in qs]
            rows["  BM25 + context"] += [(q, c.relevance_only(q.question, mode="text")) for q in qs]
            rows["  dense + context"] += [(q, c.relevance_only(q.question, mode="vector")) for q in qs]
            text = [c.relevance_only(q.question, mode="text", context=False, limit=50) for q in qs]
            dense = [c.relevance_only(q.question, mode="vector", context=False, limit=50) for q in qs]
            rows["baseline: BM25 alone (the store's full text)"] += [(q, t[:10]) for q, t in zip(qs, text, strict=True)]
            rows["baseline: dense alone (static embedder)"] += [(q, d[:10]) for q, d in zip(qs, dense, strict=True)]
            rows["baseline: plain RRF (k=60) of the two"] += [
                (q, rrf([t, d])[:10]) for q, t, d in zip(qs, text, dense, strict=True)
            ]
            ranker = bm25s_ranker(conv)
            if ranker is not None:
                rows["baseline: bm25s (stemmed, stop words)"] += [(q, ranker(q.question)) for q in qs]
            search_ms += c.search_ms
            c.store.close()
    return {
        "conversations": [c.id for c in convs],
        "turns": sum(len(c.turns) for c in convs),
        "questions": sum(len(c.questions) for c in convs),
        "skipped_evidence_ids": sum(len(c.skipped_ids) for c in convs),
        "skipped_evidence_examples": [i for c in convs for i in c.skipped_ids][:5],
        "questions_without_evidence": sum(c.skipped_questions for c in convs),
        "rows": {name: recall_row(r) for name, r in rows.items()},
        "per_conversation": per_conv,
        "ingest_per_s": {name: statistics.median(v) for name, v in ingest.items()},
        "search_ms": {
            "p50": statistics.median(search_ms),
            "p95": statistics.quantiles(search_ms, n=20)[-1],
            "n": len(search_ms),
        },
    }


def print_report(result: dict[str, Any]) -> None:
    print(
        f"LoCoMo {', '.join(result['conversations'])}: {result['turns']} turns, {result['questions']} questions "
        f"with evidence; skipped {result['skipped_evidence_ids']} malformed/unknown evidence ids "
        f"{result['skipped_evidence_examples']} and {result['questions_without_evidence']} questions without evidence\n"
    )
    print("| retriever | R@1 | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|")
    for name, row in result["rows"].items():
        print(f"| {name} | {row['R@1']:.3f} | {row['R@5']:.3f} | {row['R@10']:.3f} | {row['MRR@10']:.3f} |")
    cats = locomo_data.CATEGORIES
    print("\nR@10 by category (questions: " + ", ".join(
        f"{cats[c]} {n}" for c, n in sorted(_category_counts(result).items())) + ")\n")
    print("| retriever | " + " | ".join(cats[c] for c in sorted(cats)) + " |\n|---|" + "---|" * len(cats))
    for name, row in result["rows"].items():
        by = row["R@10 by category"]
        print(f"| {name} | " + " | ".join(f"{by.get(c, float('nan')):.3f}" for c in sorted(cats)) + " |")
    print("\nDefault ranking per conversation\n\n| conversation | turns | questions | R@5 | R@10 | MRR@10 |\n|---|---|---|---|---|---|")
    for cid, row in result["per_conversation"].items():
        print(f"| {cid} | {row['turns']} | {row['questions']} | {row['R@5']:.3f} | {row['R@10']:.3f} | {row['MRR@10']:.3f} |")
    s = result["search_ms"]
    print("\n| speed (median over conversations) | value |\n|---|---|")
    for name, rate in result["ingest_per_s"].items():
        print(f"| ingest, {name} | {rate:,.0f} memories/s |")
    print(f"| search(q, limit=10), default, incl. query embedding | p50 {s['p50']:.2f} ms, p95 {s['p95']:.2f} ms (n={s['n']}) |")


def _category_counts(result: dict[str, Any]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for data in [locomo_data.load(p) for p in sorted(Path(result["data"]).glob("conv-*.json"))]:
        for q in data.questions:
            counts[q.category] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=locomo_data.DEFAULT_DIR)
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument(
        "--url", help="store every conversation in this backend instead (e.g. postgresql://...?schema=locomo); "
        "the text-only ingest baseline stays on SQLite"
    )
    args = parser.parse_args()
    result = run(args.data, args.url)
    result["data"] = str(args.data)
    print_report(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")


if __name__ == "__main__":
    main()
