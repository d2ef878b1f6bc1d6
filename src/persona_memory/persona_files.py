"""The files beside a persona's memories: ``state.json``, ``events.jsonl``, ``handoff.json``.

Blocking file I/O, written once; the async store runs it in a worker thread.

* Every JSON file is replaced atomically: written to a temporary file in the same directory,
  ``fsync``-ed, then renamed over the old one, so a reader sees the old file or the new one,
  never half of each, and a crash leaves one of them.
* A ``state.json`` that is not a JSON object raises :class:`CorruptStateError` and is never
  overwritten: it may hold the persona's own fields, which only a person should repair.
* The event log is JSON lines, appended and ``fsync``-ed; a damaged line is skipped with a
  :class:`~persona_memory.errors.CorruptLineWarning`, never fatal.
* ``bridge_lock`` serialises the evolution bridge between processes (``flock``), so two
  ``pmem evolve`` running at once cannot log the same event twice.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .errors import BackendError, CorruptLineWarning, CorruptStateError

STATE_FILE = "state.json"
EVENTS_FILE = "events.jsonl"
HANDOFF_FILE = "handoff.json"
LOCK_FILE = ".bridge.lock"


class PersonaFiles:
    """The persona directory ``<base>/persona-<slug>/`` and the bridge's files in it."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.state_path = directory / STATE_FILE
        self.events_path = directory / EVENTS_FILE
        self.handoff_path = directory / HANDOFF_FILE

    def read_state(self) -> dict[str, Any] | None:
        """The parsed ``state.json``, or None if there is none."""
        try:
            text = self.state_path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise CorruptStateError(self.state_path, str(exc)) from exc
        try:
            state = json.loads(text)
        except ValueError as exc:
            raise CorruptStateError(self.state_path, f"not valid JSON: {exc}") from exc
        if not isinstance(state, dict):
            raise CorruptStateError(self.state_path, "not a JSON object")
        return state

    def write_state(self, state: dict[str, Any]) -> None:
        write_json_atomic(self.state_path, state)

    def read_events(self) -> list[dict[str, Any]]:
        """Every event logged so far, oldest first (damaged lines skipped with a warning)."""
        try:
            lines = self.events_path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        events = []
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict) or not isinstance(event.get("seq"), int):
                    raise ValueError("not an event object")
            except ValueError as exc:
                warnings.warn(
                    f"{self.events_path}:{number}: skipped a damaged line ({exc})",
                    CorruptLineWarning,
                    stacklevel=2,
                )
                continue
            events.append(event)
        return events

    def append_events(self, events: Sequence[dict[str, Any]]) -> None:
        """Append ``events`` to the log; durable when this returns."""
        if not events:
            return
        make_private_dir(self.directory)
        data = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events)
        with _io_errors(self.events_path):
            fd = os.open(self.events_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, data.encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)

    def rewrite_events(self, events: Sequence[dict[str, Any]]) -> None:
        """Replace the whole log atomically (after forgetting the memories some events came from)."""
        make_private_dir(self.directory)
        data = "".join(json.dumps(e, ensure_ascii=False, sort_keys=True) + "\n" for e in events)
        write_text_atomic(self.events_path, data)

    def handoffs_from(self, base: Path, persona: str) -> list[tuple[Path, str]]:
        """``(path, to_persona)`` of every ``handoff.json`` under ``base`` that ``persona`` wrote."""
        found = []
        for path in base.glob(f"persona-*/{HANDOFF_FILE}"):
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # unreadable or gone: not ours to judge
            if isinstance(data, dict) and data.get("fromPersona") == persona and isinstance(data.get("toPersona"), str):
                found.append((path, data["toPersona"]))
        return found

    @contextlib.contextmanager
    def bridge_lock(self) -> Iterator[None]:
        """Hold an exclusive lock on this persona's bridge files (blocks while another holds it)."""
        make_private_dir(self.directory)
        with _io_errors(self.directory / LOCK_FILE):
            fd = os.open(self.directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                import fcntl
            except ImportError:  # Windows: no flock; a single process at a time is assumed
                yield
                return
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    def remove(self, *names: str) -> list[str]:
        """Delete these files of the persona directory if present; returns the names removed."""
        removed = []
        for name in names:
            with contextlib.suppress(FileNotFoundError), _io_errors(self.directory / name):
                (self.directory / name).unlink()
                removed.append(name)
        return removed


def write_json_atomic(path: Path, data: Any) -> None:
    """Replace ``path`` with ``data`` as JSON: all or nothing, durable when this returns."""
    write_text_atomic(path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def write_text_atomic(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``: all or nothing, durable when this returns."""
    make_private_dir(path.parent)
    with _io_errors(path):
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        _fsync_dir(path.parent)


def remove_handoffs_from(base: Path, persona: str) -> list[Path]:
    """Delete every ``handoff.json`` under ``base`` that ``persona`` wrote; returns their paths."""
    removed = []
    for path, _to in PersonaFiles(base).handoffs_from(base, persona):
        with contextlib.suppress(FileNotFoundError), _io_errors(path):
            path.unlink()
            removed.append(path)
    return removed


def make_private_dir(directory: Path) -> None:
    """Create ``directory`` (and parents) with mode 0700: what a persona knows is private."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def _fsync_dir(directory: Path) -> None:
    # the rename itself is durable only once the directory entry is on disk (POSIX)
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def _io_errors(path: Path) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise BackendError(f"cannot write {path}: {exc.strerror or exc}") from exc
