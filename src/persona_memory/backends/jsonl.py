"""OpenPersona's own layout: JSON-lines files, one directory per persona.

``jsonl:///path/dir`` holds::

    dir/persona-<slug>/memories.jsonl     one memory per line (see persona_memory.jsonl_format)
    dir/kv.json                           key-value entries (the opsdroid Memory contract)
    dir/settings.json                     store-wide settings

How it stays safe with many processes (and with OpenPersona's own script on the same files):

* every change happens under an exclusive lock on ``<file>.lock`` (``filelock``), after
  re-reading the file, so two processes never interleave or lose a line;
* a new memory is one ``O_APPEND`` write of whole lines (OpenPersona appends the same way);
  anything else (reinforce, update, forget, access counts) writes a temporary file and renames
  it over the old one, so a reader sees the old file or the new one, never half of one;
* ``durability="full"`` adds ``fsync`` of the file (and of the directory after a rename);
  ``normal`` leaves the write to the OS, which keeps it through a killed process;
* a line that is not a memory is skipped with a :class:`~persona_memory.errors.CorruptLineWarning`
  naming the file and the line number, and is written back untouched on every rewrite, so what
  we cannot read is never destroyed.

Search ranks with BM25 and Porter stemming through an in-memory FTS5 index built when the file is
loaded (:mod:`persona_memory.backends.textindex`). Files are read again only when they changed
(inode, size, modification time). Vectors are not stored: ``supports_vectors`` is False.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

import filelock

from .. import signals, validation
from ..errors import (
    BackendError,
    ConfigError,
    CorruptLineWarning,
    CorruptStoreError,
    MemoryNotFoundError,
    StorageFullError,
    StoreBusyError,
    StoreReadOnlyError,
)
from ..jsonl_format import CorruptLine, from_line, to_line
from ..models import Candidate, MemoryRecord, Query, Stats, Vector
from ..records import passes, reinforced, stats_of, version_family
from ..validation import content_hash
from . import files
from ._sync.base import Backend
from .textindex import TextIndex

T = TypeVar("T")
MEMORIES_FILE = "memories.jsonl"
KV_FILE = "kv.json"
SETTINGS_FILE = "settings.json"

Entry = MemoryRecord | CorruptLine


@dataclass
class _Loaded:
    """One persona file as last read: its lines, in order, and an index over the active ones."""

    token: tuple[int, ...] | None
    entries: list[Entry]
    by_id: dict[str, int] = field(default_factory=dict)  # id -> position in entries
    index: TextIndex | None = None

    def __post_init__(self) -> None:
        self.by_id = {e.id: i for i, e in enumerate(self.entries) if isinstance(e, MemoryRecord)}

    def records(self) -> Iterator[MemoryRecord]:
        return (e for e in self.entries if isinstance(e, MemoryRecord))

    def active_with_content(self, record: MemoryRecord) -> int | None:
        wanted = content_hash(record.content)
        for position, entry in enumerate(self.entries):
            if (
                isinstance(entry, MemoryRecord)
                and entry.active
                and entry.id != record.id
                and content_hash(entry.content) == wanted
            ):
                return position
        return None

    def text_index(self) -> TextIndex:
        if self.index is None:
            self.index = TextIndex(
                (i, e.content, e.tags)
                for i, e in enumerate(self.entries)
                if isinstance(e, MemoryRecord) and e.active
            )
        return self.index


class JsonlBackend(Backend):
    """Persona memories in OpenPersona's JSON-lines files; key-value entries in ``kv.json``."""

    name = "jsonl"
    supports_vectors = False
    url_options = ("durability", "busy_timeout")

    def __init__(
        self, root: str | os.PathLike[str], *, durability: str = "normal", busy_timeout: float = 30.0
    ) -> None:
        if durability not in ("normal", "full"):
            raise ConfigError(f"invalid durability={durability!r}: expected 'normal' or 'full'")
        self.root = Path(root).expanduser().absolute()
        self.url = f"jsonl://{self.root}"
        self.durability = durability
        self.busy_timeout = float(busy_timeout)
        self._init_process_state()

    @classmethod
    def from_url(cls, url: str, **options: Any) -> JsonlBackend:
        return cls(files.path_from_url(url, "jsonl", "jsonl:///path/to/directory"), **options)

    def _init_process_state(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.RLock()
        self._loaded: dict[str, _Loaded] = {}

    def _check_fork(self) -> None:
        if self._pid != os.getpid():  # forked: nothing cached by the parent is trusted here
            self._init_process_state()

    def close(self) -> None:
        with self._lock:
            for loaded in self._loaded.values():
                if loaded.index is not None:
                    loaded.index.close()
            self._loaded = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self.root, "durability": self.durability, "busy_timeout": self.busy_timeout}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"], durability=state["durability"], busy_timeout=state["busy_timeout"])  # type: ignore[misc]

    # ---- files, locks and errors ----

    def _persona_file(self, persona: str) -> Path:
        return self.root / f"persona-{validation.slug(persona)}" / MEMORIES_FILE

    @contextmanager
    def _translate(self, operation: str, path: Path, *, signal: bool = True) -> Iterator[None]:
        """Map OS and lock errors to ours; a write refused for space or permission emits ``resource_limit``."""
        try:
            yield
        except filelock.Timeout as exc:
            raise StoreBusyError(
                f"{operation} on {path}: other writers held the lock for more than {self.busy_timeout:g} s"
            ) from exc
        except OSError as exc:
            error: BackendError
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                error = StorageFullError(
                    f"{operation} on {path} failed: the disk is full ({exc.strerror}); "
                    "everything stored before is intact"
                )
            elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                error = StoreReadOnlyError(f"{operation} on {path} failed: cannot be written ({exc.strerror})")
            else:
                raise BackendError(f"{operation} on {path} failed: {exc}") from exc
            if signal:
                signals.emit(signals.RESOURCE_LIMIT, store=self.url, error=error, operation=operation)
            raise error from exc

    @contextmanager
    def _locked(self, path: Path) -> Iterator[None]:
        """The cross-process lock of ``path`` (and this object's own lock, for its threads)."""
        with self._lock:
            files.make_private_dirs(path.parent)
            lock = filelock.FileLock(f"{path}.lock", timeout=self.busy_timeout, mode=0o600)
            with lock:
                yield

    @property
    def _fsync(self) -> bool:
        return self.durability == "full"

    # ---- persona files ----

    def _load(self, persona: str, *, locked: bool = False) -> _Loaded:
        """The persona's file, read again only if it changed since the last read."""
        self._check_fork()
        path = self._persona_file(persona)
        with self._lock:
            cached = self._loaded.get(persona)
            token = files.stat_token(_stat(path))
            if cached is not None and cached.token == token:
                return cached
            if token is None:
                loaded = _Loaded(None, [])
            elif locked:
                loaded = self._read(path)
            else:
                loaded = self._read_consistent(path)
            self._remember(persona, loaded)
            return loaded

    def _read_consistent(self, path: Path) -> _Loaded:
        """Read under the lock (no writer is half-way through); lock-free where nobody can write."""
        try:
            with self._translate("read", path), self._locked(path):
                return self._read(path)
        except StoreReadOnlyError:  # cannot create the lock file: nobody can change the file either
            return self._read(path)

    def _read(self, path: Path) -> _Loaded:
        with self._translate("read", path, signal=False):
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                    token = files.stat_token(os.fstat(handle.fileno()))
            except FileNotFoundError:
                return _Loaded(None, [])
        persona = path.parent.name.removeprefix("persona-")
        entries: list[Entry] = []
        for number, raw in enumerate(data.split(b"\n"), start=1):
            if not raw.strip():
                continue
            try:
                entry = from_line(raw.decode("utf-8"), persona, number)
            except UnicodeDecodeError as exc:
                entry = CorruptLine(number, raw.decode("utf-8", "surrogateescape"), f"not UTF-8: {exc}")
            if isinstance(entry, CorruptLine):
                warnings.warn(
                    CorruptLineWarning(f"{path}:{entry.number}: skipped a corrupted line ({entry.reason})"),
                    stacklevel=2,
                )
            entries.append(entry)
        return _Loaded(token, entries)

    def _remember(self, persona: str, loaded: _Loaded) -> None:
        old = self._loaded.get(persona)
        if old is not None and old.index is not None and old.index is not loaded.index:
            old.index.close()
        self._loaded[persona] = loaded

    def _change(self, persona: str, operation: str, work: Callable[[_Loaded], T], *, signal: bool = True) -> T:
        """Run ``work`` on the current file under its lock. ``work`` writes through ``_append``/``_rewrite``."""
        path = self._persona_file(persona)
        with self._translate(operation, path, signal=signal), self._locked(path):
            return work(self._load(persona, locked=True))

    def _append(self, persona: str, loaded: _Loaded, records: Sequence[MemoryRecord]) -> None:
        path = self._persona_file(persona)
        data = "".join(to_line(r) + "\n" for r in records).encode("utf-8")
        stat = files.append_file(path, data, fsync=self._fsync)
        self._remember(persona, _Loaded(files.stat_token(stat), [*loaded.entries, *records]))

    def _rewrite(self, persona: str, entries: list[Entry], *, keep_index: TextIndex | None = None) -> None:
        path = self._persona_file(persona)
        lines = [to_line(e) if isinstance(e, MemoryRecord) else e.text for e in entries]
        data = "".join(line + "\n" for line in lines).encode("utf-8", "surrogateescape")
        stat = files.replace_file(path, data, fsync=self._fsync)
        self._remember(persona, _Loaded(files.stat_token(stat), entries, index=keep_index))

    # ---- key-value and settings: small JSON objects rewritten whole ----

    def _read_json(self, path: Path) -> dict[str, Any]:
        with self._translate("read", path, signal=False):
            try:
                text = path.read_text("utf-8")
            except FileNotFoundError:
                return {}
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CorruptStoreError(
                f"{path} is damaged ({exc}); move it aside to start it afresh"
            ) from exc
        if not isinstance(data, dict):
            raise CorruptStoreError(f"{path} does not hold a JSON object; move it aside to start it afresh")
        return data

    def _update_json(self, path: Path, operation: str, work: Callable[[dict[str, Any]], T]) -> T:
        self._check_fork()
        with self._translate(operation, path), self._locked(path):
            data = self._read_json(path)
            result = work(data)
            text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
            files.replace_file(path, text.encode("utf-8"), fsync=self._fsync)
            return result

    def _kv(self) -> dict[str, Any]:
        self._check_fork()
        return self._read_json(self.root / KV_FILE)

    def kv_get(self, namespace: str, key: str) -> str | None:
        entry = self._kv().get(namespace, {}).get(key)
        if entry is None or _expired(entry[1]):
            return None
        return str(entry[0])

    def kv_put(self, namespace: str, key: str, value: str, ttl: float | None = None) -> None:
        expires = None if ttl is None else time.time() + ttl

        def work(data: dict[str, Any]) -> None:
            _purge_expired(data)
            data.setdefault(namespace, {})[key] = [value, expires]

        self._update_json(self.root / KV_FILE, "put", work)

    def kv_delete(self, namespace: str, key: str) -> bool:
        if key not in self._kv().get(namespace, {}):
            return False  # nothing to delete: no need to take the lock and rewrite

        def work(data: dict[str, Any]) -> bool:
            entry = data.get(namespace, {}).pop(key, None)
            _purge_expired(data)
            return entry is not None and not _expired(entry[1])

        return self._update_json(self.root / KV_FILE, "delete", work)

    def kv_keys(self, namespace: str) -> list[str]:
        entries = self._kv().get(namespace, {})
        return sorted(key for key, (_value, expires) in entries.items() if not _expired(expires))

    def version(self) -> Hashable | None:
        return files.stat_token(_stat(self.root / KV_FILE)) or "absent"

    def get_meta(self, name: str) -> str | None:
        self._check_fork()
        value = self._read_json(self.root / SETTINGS_FILE).get(name)
        return None if value is None else str(value)

    def set_meta(self, name: str, value: str) -> None:
        self._update_json(self.root / SETTINGS_FILE, "settings", lambda data: data.__setitem__(name, value))

    # ---- persona memories ----

    def add(self, record: MemoryRecord, vector: Vector | None = None) -> tuple[MemoryRecord, bool]:
        def work(loaded: _Loaded) -> tuple[MemoryRecord, bool]:
            position = loaded.active_with_content(record)
            if position is None:
                self._append(record.persona, loaded, [record])
                return record, True
            merged = reinforced(_at(loaded, position), record)
            entries = list(loaded.entries)
            entries[position] = merged
            self._rewrite(record.persona, entries)
            return merged, False

        return self._change(record.persona, "store", work)

    def get_records(self, persona: str, ids: Sequence[str]) -> list[MemoryRecord]:
        loaded = self._load(persona)
        return [_at(loaded, loaded.by_id[i]) for i in ids if i in loaded.by_id]

    def supersede(
        self, persona: str, old_id: str, new: MemoryRecord, vector: Vector | None = None
    ) -> MemoryRecord:
        def work(loaded: _Loaded) -> MemoryRecord:
            position = loaded.by_id.get(old_id)
            if position is None or not _at(loaded, position).active:
                raise MemoryNotFoundError(old_id, persona)
            entries = list(loaded.entries)
            # retire the old version first: the new one may have the same content
            entries[position] = replace(_at(loaded, position), superseded_by=new.id)
            retired = _Loaded(None, entries)
            existing = retired.active_with_content(new)
            if existing is None:
                entries.append(new)
                stored = new
            else:  # the new content already exists as another memory: that one is the new version
                stored = reinforced(_at(retired, existing), new)
                entries[existing] = stored
                entries[position] = replace(_at(loaded, position), superseded_by=stored.id)
            self._rewrite(persona, entries)
            return stored

        return self._change(persona, "update", work)

    def forget(self, persona: str, ids: Sequence[str]) -> list[str]:
        if not ids or not any(i in self._load(persona).by_id for i in ids):
            return []

        def work(loaded: _Loaded) -> list[str]:
            family = version_family({r.id: r for r in loaded.records()}, ids)
            if family:
                gone = set(family)
                kept = [e for e in loaded.entries if not (isinstance(e, MemoryRecord) and e.id in gone)]
                self._rewrite(persona, kept)
            return family

        return self._change(persona, "forget", work)

    def candidates(self, persona: str, query: Query) -> list[Candidate]:
        loaded = self._load(persona)
        allowed = {
            i for i, e in enumerate(loaded.entries) if isinstance(e, MemoryRecord) and passes(e, query.filters)
        }
        if query.text is None:
            if query.vector is not None:
                return []  # no vectors here: nothing is near anything
            return [_candidate(_at(loaded, i)) for i in sorted(allowed)]
        return [
            _candidate(_at(loaded, i), text_score=score)
            for i, score in loaded.text_index().search(query.text, query.k, allowed)
        ]

    def touch(self, persona: str, ids: Sequence[str], at: dt.datetime) -> None:
        if not ids:
            return
        wanted = set(ids)

        def work(loaded: _Loaded) -> None:
            entries = [
                e.accessed(at) if isinstance(e, MemoryRecord) and e.id in wanted else e
                for e in loaded.entries
            ]
            # contents and the active set are unchanged: the search index stays valid
            self._rewrite(persona, entries, keep_index=loaded.index)

        self._change(persona, "touch", work, signal=False)

    def stats(self, persona: str) -> Stats:
        return stats_of(self._load(persona).records())

    def export(self, persona: str) -> list[MemoryRecord]:
        return sorted(self._load(persona).records(), key=lambda r: r.created_at)

    def import_records(self, records: Sequence[MemoryRecord]) -> int:
        by_persona: dict[str, list[MemoryRecord]] = {}
        for record in records:
            by_persona.setdefault(record.persona, []).append(record)
        added = 0
        for persona, group in by_persona.items():

            def work(loaded: _Loaded, persona: str = persona, group: list[MemoryRecord] = group) -> int:
                seen = set(loaded.by_id)
                active = {content_hash(r.content) for r in loaded.records() if r.active}
                new = []
                for record in group:
                    digest = content_hash(record.content)
                    if record.id in seen or (record.active and digest in active):
                        continue  # already here (the same id, or the same memory under another id)
                    seen.add(record.id)
                    if record.active:
                        active.add(digest)
                    new.append(record)
                if new:
                    self._append(persona, loaded, new)
                return len(new)

            added += self._change(persona, "import", work)
        return added

    def personas(self) -> list[str]:
        found = []
        for path in self.root.glob(f"persona-*/{MEMORIES_FILE}"):
            stat = _stat(path)
            if stat is not None and stat.st_size > 0:
                found.append(path.parent.name.removeprefix("persona-"))
        return sorted(found)


def _at(loaded: _Loaded, position: int) -> MemoryRecord:
    entry = loaded.entries[position]
    assert isinstance(entry, MemoryRecord)
    return entry


def _candidate(record: MemoryRecord, text_score: float | None = None) -> Candidate:
    return Candidate(
        id=record.id,
        importance=record.importance,
        created_at=record.created_at.timestamp(),
        access_count=record.access_count,
        text_score=text_score,
    )


def _stat(path: Path) -> os.stat_result | None:
    try:
        return os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None


def _expired(expires: float | None) -> bool:
    return expires is not None and expires <= time.time()


def _purge_expired(data: dict[str, Any]) -> None:
    for namespace in list(data):
        entries = data[namespace]
        for key in [k for k, (_v, expires) in entries.items() if _expired(expires)]:
            del entries[key]
        if not entries:
            del data[namespace]
