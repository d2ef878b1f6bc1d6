"""Crash safety: SIGKILL a writer at random moments, N times, and count lost writes.

    python bench/crash.py                 # 200 trials (about 5 minutes)
    python bench/crash.py --trials 20

Each trial starts ``tests/helpers/crash_writer.py`` (key-value puts, persona store / update /
forget, each acknowledged on stdout only after the call returned), waits for its first
acknowledgement, lets it run a random 0-1 s more, and kills it with SIGKILL. Then the store is
opened again: both SQLite files must pass ``PRAGMA integrity_check`` and every acknowledged write
must be there (``tests/helpers/crash_check.py``; the one write in flight may or may not have
happened). Half the trials reuse the store of the previous one, so the store also survives
many consecutive crashes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers.crash_check import acknowledged, check  # noqa: E402
from tests.test_crash import kill_mid_write  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pmem-crash-", dir="/var/tmp"))
    started = time.monotonic()
    acked, lost, corrupt, per_trial = 0, 0, 0, []
    lines: list[list[str]] = []
    base = work / "store-0"
    kills_on_store = 0
    try:
        for trial in range(args.trials):
            if trial % 2 == 0:  # a fresh store every other trial; the others reuse it
                base = work / f"store-{trial}"
                lines, kills_on_store = [], 0
            new = acknowledged(kill_mid_write(base, args.seed * 100_000 + trial))
            lines += new
            kills_on_store += 1
            _, problems = check(base, lines, in_flight=kills_on_store)
            lost += sum("lost" in p or "not superseded" in p or "forgotten but present" in p or "kv " in p for p in problems)
            corrupt += sum("integrity_check" in p for p in problems)
            acked += len(new)
            per_trial.append(len(new))
            for problem in problems:
                print(f"trial {trial}: {problem}", file=sys.stderr)
            if (trial + 1) % 20 == 0:
                print(f"{trial + 1}/{args.trials} trials", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nCrash trials on the SQLite store ({dt.date.today()}, {time.monotonic() - started:.0f} s)\n")
    print("| trials | acknowledged writes | median per trial | lost writes | integrity failures |")
    print("|---:|---:|---:|---:|---:|")
    print(f"| {args.trials} | {acked} | {statistics.median(per_trial):.0f} | {lost} | {corrupt} |")
    return 0 if lost == corrupt == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
