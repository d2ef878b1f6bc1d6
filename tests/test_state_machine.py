"""A hypothesis state machine drives the public API and checks it against a simple model.

Rules: store (with exact-duplicate reinforcement), update (supersede), forget (the whole version
family), search, retrieve, stats, get; key-value put / get / delete. After every step the
store and the model must agree.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, invariant, rule

from persona_memory import Memory, MemoryNotFoundError, PersonaStore
from persona_memory.validation import normalized_content

# words with distinct Porter stems and no stop words, so "contains the word" is well defined
WORDS = ["garden", "violin", "pasta", "marathon", "lisbon", "kitten", "chess", "sailing"]
TAGS = ["food", "music", "sport", "travel", "pets"]
contents = st.lists(st.sampled_from(WORDS), min_size=1, max_size=4).map(" ".join)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@dataclass
class Model:
    content: str
    tags: list[str]
    importance: float
    older: list[str] = field(default_factory=list)  # ids of superseded versions


class PersonaMemoryMachine(RuleBasedStateMachine):
    memories = Bundle("memories")

    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="pmem-fsm-"))
        self.store = PersonaStore("fsm", base_path=str(self.dir))
        self.kv = Memory("fsm", base_path=str(self.dir))
        self.model: dict[str, Model] = {}
        self.kv_model: dict[str, object] = {}

    def teardown(self) -> None:
        self.store.close()
        self.kv.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    @rule(target=memories, content=contents, tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True),
          importance=st.floats(0, 1))
    def store_memory(self, content: str, tags: list[str], importance: float) -> str:
        record = self.store.store(content, tags=tags, importance=importance)
        twin = next((i for i, m in self.model.items() if normalized_content(m.content) == normalized_content(content)), None)
        if twin is not None:  # an exact duplicate reinforces the existing memory
            assert record.id == twin
            model = self.model[twin]
            model.tags += [t for t in tags if t not in model.tags]
            model.importance = max(model.importance, importance)
        else:
            self.model[record.id] = Model(content, list(tags), importance)
        assert list(record.tags) == self.model[record.id].tags
        assert record.importance == self.model[record.id].importance
        return record.id

    @rule(target=memories, old=consumes(memories), content=contents)
    def update_memory(self, old: str, content: str) -> str:
        if old not in self.model:
            return old
        if any(normalized_content(m.content) == normalized_content(content) for i, m in self.model.items() if i != old):
            return old  # would merge into another memory: covered by the unit tests
        new = self.store.update(old, content=content)
        prior = self.model.pop(old)
        self.model[new.id] = Model(content, prior.tags, prior.importance, [*prior.older, old])
        return new.id

    @rule(memory=consumes(memories))
    def forget_memory(self, memory: str) -> None:
        # any version's id forgets the whole family: the current version and every older one
        # (an id can be an older version and still be drawn: a duplicate store returns it twice)
        current = next((i for i, m in self.model.items() if memory == i or memory in m.older), None)
        if current is None:
            try:
                self.store.forget(memory)
            except MemoryNotFoundError:
                return
            raise AssertionError(f"forgot {memory}, which the model says is gone")
        forgotten = self.store.forget(memory)
        assert set(forgotten) == {current, *self.model.pop(current).older}

    @rule(word=st.sampled_from(WORDS))
    def search(self, word: str) -> None:
        hits = {h.id for h in self.store.search(word, limit=1000)}
        assert hits <= set(self.model)
        containing = {i for i, m in self.model.items() if word in m.content.split()}
        assert containing <= hits

    @rule(tag=st.sampled_from(TAGS))
    def retrieve_by_tag(self, tag: str) -> None:
        got = {r.id for r in self.store.retrieve(tags=[tag], limit=1000)}
        assert got == {i for i, m in self.model.items() if tag in m.tags}

    @rule(key=st.sampled_from(["a", "b", "c"]), value=json_values)
    def put(self, key: str, value: object) -> None:
        self.kv.put(key, value)
        self.kv_model[key] = value

    @rule(key=st.sampled_from(["a", "b", "c"]))
    def delete(self, key: str) -> None:
        assert self.kv.delete(key) == (key in self.kv_model)
        self.kv_model.pop(key, None)

    @invariant()
    def agrees(self) -> None:
        stats = self.store.stats()
        assert stats.total == len(self.model)
        assert stats.superseded == sum(len(m.older) for m in self.model.values())
        for memory_id, model in list(self.model.items())[:3]:
            record = self.store.get(memory_id)
            assert (record.content, list(record.tags), record.active) == (model.content, model.tags, True)
        for key in ("a", "b", "c"):
            assert self.kv.get(key, "MISSING") == self.kv_model.get(key, "MISSING")


PersonaMemoryMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("PMEM_FUZZ_EXAMPLES", "40")), stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TestPersonaMemoryMachine = PersonaMemoryMachine.TestCase


def test_forgetting_an_older_version_forgets_its_family() -> None:
    """Found by the machine: the same content stored twice gives one id twice; after an update,
    forgetting that (now older) id forgets the new version too."""
    state = PersonaMemoryMachine()
    try:
        first = state.store_memory(content="garden", importance=0.0, tags=[])
        again = state.store_memory(content="garden", importance=0.0, tags=[])
        assert again == first
        state.update_memory(content="garden", old=again)
        state.agrees()
        state.forget_memory(memory=first)
        state.agrees()
        assert state.model == {}
    finally:
        state.teardown()
