"""kill -9 a writer at random moments: every acknowledged write must survive, intact."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.crash_check import acknowledged, check

ROOT = Path(__file__).resolve().parent.parent
TRIALS = int(os.environ.get("PMEM_CRASH_TRIALS", "4"))


def run_trial(base: Path, seed: int) -> tuple[int, list[str]]:
    rng = random.Random(seed)
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.crash_writer", str(base), str(seed)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # wait for the first acknowledged write (start-up takes ~1 s on a loaded machine), then
    # kill at a random moment mid-write
    assert child.stdout is not None
    first = child.stdout.readline()
    time.sleep(rng.random() * 1.2)
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate()
    assert child.returncode == -signal.SIGKILL, err
    return check(base, acknowledged(first + out))


@pytest.mark.parametrize("seed", range(TRIALS))
def test_kill_9_loses_no_acknowledged_write(tmp_path: Path, seed: int) -> None:
    writes, problems = run_trial(tmp_path / "base", seed)
    assert writes > 0, "the writer was killed before it acknowledged anything"
    assert problems == []


def test_killed_repeatedly_on_the_same_store(tmp_path: Path) -> None:
    base = tmp_path / "base"
    total = 0
    all_lines: list[list[str]] = []
    for seed in range(100, 103):
        rng = random.Random(seed)
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.crash_writer", str(base), str(seed)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        time.sleep(0.4 + rng.random())
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate()
        all_lines += acknowledged(out)
        writes, problems = check(base, all_lines)
        assert problems == []
        total = writes
    assert total > 0
