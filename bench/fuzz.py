"""Fuzzing with a bigger budget than the test suite: the CLI, the HTTP API and the state machine.

    python bench/fuzz.py                  # 400 examples per target (about 10 minutes)
    python bench/fuzz.py --examples 50

Runs the fuzz tests (tests/test_fuzz_cli.py, tests/test_api_fuzz.py, tests/test_state_machine.py)
with ``PMEM_FUZZ_EXAMPLES`` raised and hypothesis' statistics on, and adds up the examples each
target really ran (hypothesis stops early when it has exhausted a small input space). Prints a
table; any failure is a bug (the tests then fail and this exits non-zero).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGETS = {
    "CLI (random text into 6 commands)": "tests/test_fuzz_cli.py::test_random_text",
    "HTTP API (schemathesis, every operation)": "tests/test_api_fuzz.py",
    "public API state machine (steps of <= 30 calls)": "tests/test_state_machine.py",
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=400)
    args = parser.parse_args()
    env = {**os.environ, "PMEM_FUZZ_EXAMPLES": str(args.examples)}
    rows, failed = [], False
    for name, target in TARGETS.items():
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--hypothesis-show-statistics", target],
            cwd=ROOT, env=env, capture_output=True, text=True,
        )
        # hypothesis' statistics: "- N passing, M failing, and K invalid test cases" per phase
        examples = sum(int(p) + int(f) for p, f in re.findall(r"- (\d+) passing, (\d+) failing", done.stdout))
        ok = done.returncode == 0
        failed |= not ok
        rows.append((name, examples, "0" if ok else "see output", time.monotonic() - started))
        if not ok:
            print(done.stdout[-3000:], file=sys.stderr)
    print(f"\nFuzzing ({dt.date.today()}, --examples {args.examples})\n")
    print("| target | inputs tried | failures | seconds |\n|---|---:|---:|---:|")
    for name, examples, failures, seconds in rows:
        print(f"| {name} | {examples} | {failures} | {seconds:.0f} |")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
