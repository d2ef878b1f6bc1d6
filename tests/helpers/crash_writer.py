"""A writer that reports every acknowledged write on stdout, to be killed with SIGKILL.

    python -m tests.helpers.crash_writer <base_path> <seed>

Each line is printed only after the call returned, so every complete line is a write the
store acknowledged:  ``P key value`` (kv put), ``S id`` (store), ``U old new`` (update),
``F id`` (forget).
"""

from __future__ import annotations

import random
import sys

from persona_memory import Memory, PersonaStore


def main(base_path: str, seed: int) -> None:
    rng = random.Random(seed)
    memory = Memory("crash", base_path=base_path)
    store = PersonaStore("crash", base_path=base_path)
    alive: list[str] = []
    i = 0
    while True:
        i += 1
        op = rng.random()
        if op < 0.4:
            key = f"k{seed}-{i}"
            memory.put(key, {"i": i, "pad": "x" * rng.randint(0, 300)})
            print(f"P {key} {i}", flush=True)
        elif op < 0.7 or not alive:
            record = store.store(f"writer {seed} memory {i} " + "word " * rng.randint(1, 40), tags=["crash"])
            alive.append(record.id)
            print(f"S {record.id}", flush=True)
        elif op < 0.85:
            old = alive.pop(rng.randrange(len(alive)))
            new = store.update(old, content=f"updated {i} of {old}")
            alive.append(new.id)
            print(f"U {old} {new.id}", flush=True)
        else:
            victim = alive.pop(rng.randrange(len(alive)))
            store.forget(victim)
            print(f"F {victim}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
