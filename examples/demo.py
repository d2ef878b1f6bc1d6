"""The main job on the embedded default store: no server, no network, no API key.

Part 1 is the opsdroid documentation's "remember / remind me / forget it" skill running on
``AsyncMemory``, with a restart in between. Part 2 is a persona remembering its user:
store, retrieve by tag, search, stats, then a *new process* (a restart) that recalls what
the first one stored and forgets one memory.

    scripts/demo            # sets up .venv and runs this with a fresh MEMORY_BASE_PATH
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

from persona_memory import AsyncMemory, AsyncPersonaStore, PersonaStore

# ---- part 1: the opsdroid skill, on AsyncMemory ----


class RememberSkill:
    """The three skill functions of opsdroid's memory docs, minus the opsdroid plumbing."""

    def __init__(self, memory: AsyncMemory) -> None:
        self.memory = memory

    async def handle(self, text: str) -> str:
        if match := re.match(r"remember (.*)", text):
            await self.memory.put("remember_this", match.group(1))
            return "OK I'll remember that"
        if re.match(r"remind me", text):
            information = await self.memory.get("remember_this")
            return information if information is not None else "I don't remember anything."
        if re.match(r"forget it", text):
            await self.memory.delete("remember_this")
            return "Ok I'll forget it"
        return "?"


async def skill_demo() -> None:
    print("== The opsdroid memory skill on AsyncMemory ==")
    for run, messages in enumerate([["remember the milk", "remind me"], ["remind me", "forget it"], ["remind me"]], 1):
        async with AsyncMemory(namespace="remember-skill") as memory:  # a fresh start each run
            skill = RememberSkill(memory)
            for text in messages:
                print(f"  run {run}  user: {text:<20} bot: {await skill.handle(text)}")


# ---- part 2: a persona's memories ----

MEMORIES = [
    ("User is vegetarian and loves Italian food", ["preference", "food"], 0.8, "preference"),
    ("User's daughter Emma starts school in September", ["family", "emma"], 0.9, "personal_fact"),
    ("User mentioned cooking for the 5th time", ["interest", "cooking"], 0.6, "interest_signal"),
    ("User was thrilled after finishing the marathon", ["running", "celebration"], 0.7, "emotional_moment"),
    ("User prefers dark mode", ["preference", "ui"], 0.3, "preference"),
]


async def persona_demo() -> None:
    print("\n== A persona remembers its user (AsyncPersonaStore) ==")
    async with AsyncPersonaStore("demo") as store:
        for content, tags, importance, kind in MEMORIES:
            record = await store.store(content, tags=tags, importance=importance, type=kind)
            print(f"  stored  {record.id}  {kind:<16} {content}")
        print("  retrieve(tags=['preference']):")
        for record in await store.retrieve(tags=["preference"], limit=5):
            print(f"          {record.importance:.1f}  {record.content}")
        print("  search('what does the user like to eat', limit=3):")
        for hit in await store.search("what does the user like to eat", limit=3):
            print(f"          {hit.score:.3f}  {hit.content}")
        stats = await store.stats()
        print(f"  stats: total={stats.total} top_tags={stats.top_tags[:3]} avg_importance={stats.avg_importance:.2f}")
        print(f"  stored in {store.backend.url}")


def after_restart() -> None:
    """Runs in a new process: what did the persona keep?"""
    print("\n== After a restart (a new process, sync PersonaStore) ==")
    with PersonaStore("demo") as store:
        hits = store.search("marathon", limit=1)
        print(f"  search('marathon') -> {hits[0].content}")
        forgotten = store.forget(hits[0].id)
        print(f"  forget({hits[0].id}) -> removed {len(forgotten)} record(s)")
        answer = store.search("marathon") or "I don't have a specific memory about that."
        print(f"  search('marathon') -> {answer}")
        print(f"  stats: total={store.stats().total}")


def main() -> None:
    if "--after-restart" in sys.argv:
        after_restart()
        return
    print(f"MEMORY_BASE_PATH={os.environ.get('MEMORY_BASE_PATH', '~/.openclaw/memory')}\n")
    asyncio.run(skill_demo())
    asyncio.run(persona_demo())
    subprocess.run([sys.executable, __file__, "--after-restart"], check=True)
    print("\nTry it yourself:  .venv/bin/pmem search 'italian food' --persona demo")


if __name__ == "__main__":
    main()
