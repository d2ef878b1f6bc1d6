"""pmem with MEMORY_PROVIDER=zep: the outage note on stderr, and pmem sync (real processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.services import StandIn


def pmem(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "persona_memory", *args], env=env, capture_output=True, text=True)


def test_cli_stores_locally_during_an_outage_and_syncs_later(tmp_path: Path) -> None:
    zep = StandIn("zep", tmp_path)
    env = {
        **os.environ, "MEMORY_PROVIDER": "zep", "MEMORY_API_KEY": zep.key, "PMEM_PROVIDER_URL": zep.url,
        "PMEM_PROVIDER_TIMEOUT": "2", "PERSONA_SLUG": "ada",
    }
    stored = pmem("store", "User loves sailing", "--tags", "hobby", "--json", env=env)  # the service is down
    assert stored.returncode == 0, stored.stderr
    assert "My long-term memory service is offline" in stored.stderr
    memory_id = json.loads(stored.stdout)["id"]
    down = pmem("sync", env=env)  # still down: a clear error, the write stays queued
    assert down.returncode == 1 and "zep" in down.stderr and "Traceback" not in down.stderr
    zep.start()
    try:
        synced = pmem("sync", "--json", env=env)
        assert json.loads(synced.stdout) == {"replayed": 1, "pending": 0}, synced.stderr
        hits = json.loads(pmem("search", "sailing", "--json", env=env).stdout)
        assert [h["id"] for h in hits] == [memory_id]
        assert pmem("sync", env=env).stdout.strip() == "Nothing to replay."
    finally:
        zep.stop()
