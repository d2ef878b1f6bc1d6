"""Filesystem helpers shared by the file-based backends (SQLite, JSON lines)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from ..errors import ConfigError


def path_from_url(url: str, scheme: str, example: str) -> Path:
    """``scheme:///abs/path`` -> ``/abs/path``; ``scheme:///~/x`` -> ``$HOME/x``;
    ``scheme://rel/x`` -> ``rel/x`` (relative to the working directory)."""
    prefix = f"{scheme}://"
    if not url.startswith(prefix):
        raise ConfigError(f"not a {scheme} URL: {url!r} (expected {example})")
    rest = url[len(prefix) :].split("?", 1)[0]
    if rest.startswith("/~"):
        rest = rest[1:]
    elif rest.startswith("//"):  # scheme:////abs/path (SQLAlchemy style) is the same path
        rest = "/" + rest.lstrip("/")
    if not rest or rest == "/":
        raise ConfigError(f"{scheme} URL {url!r} names no path (expected {example})")
    return Path(rest).expanduser()


def make_private_dirs(directory: Path) -> None:
    """Create ``directory`` and any missing parents with mode 0700 (memories are private)."""
    missing = []
    while not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)


def replace_file(path: Path, data: bytes, *, fsync: bool) -> os.stat_result:
    """Write ``data`` to a temporary file beside ``path`` and rename it over ``path``.

    Readers see the old file or the new one, never a mix; a crash leaves the old one. With
    ``fsync`` the data and the rename are on disk (power loss) when this returns; without it
    they are in the OS (a killed process loses nothing). Returns the new file's ``stat``.
    """
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)  # mode 0600
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            if fsync:
                os.fsync(out.fileno())
            stat = os.fstat(out.fileno())
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if fsync:
        fsync_dir(path.parent)
    return stat


def append_file(path: Path, data: bytes, *, fsync: bool) -> os.stat_result:
    """Append ``data`` (whole lines) to ``path``, first ending a cut-off last line if there is one."""
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        # a writer killed mid-line left no newline: start on a fresh line, or our line is lost too
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        if fsync:
            os.fsync(fd)
        return os.fstat(fd)
    finally:
        os.close(fd)


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stat_token(stat: os.stat_result | None) -> tuple[int, ...] | None:
    """What identifies one version of a file: a rewrite (new inode) or an append (size) changes it."""
    if stat is None:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns)
