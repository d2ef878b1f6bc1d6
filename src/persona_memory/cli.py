"""``pmem``: the command line, mirroring the memory faculty's commands.

Every command takes ``--persona`` (or ``PERSONA_SLUG``), ``--url`` (or ``PMEM_URL``),
``--base-path`` (or ``MEMORY_BASE_PATH``) and ``--json``. Exit codes: 0 success, 1 other error,
2 bad input or configuration, 3 unknown memory id, 4 the store failed (busy, full, read-only,
damaged).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from . import __version__, codec
from ._sync.memory import Memory
from ._sync.persona import PersonaStore
from .errors import (
    BackendError,
    ConfigError,
    InvalidInputError,
    MemoryNotFoundError,
    PersonaMemoryError,
)
from .models import UNSET, MemoryRecord, MemoryType, SearchHit, Stats

F = TypeVar("F", bound=Callable[..., Any])
NOTHING_FOUND = "No memories found."
EXIT_CODES: list[tuple[type[PersonaMemoryError], int]] = [
    (InvalidInputError, 2),
    (ConfigError, 2),
    (MemoryNotFoundError, 3),
    (BackendError, 4),
]


class PmemError(click.ClickException):
    def __init__(self, error: PersonaMemoryError) -> None:
        super().__init__(str(error))
        code = next((code for cls, code in EXIT_CODES if isinstance(error, cls)), 1)
        self.exit_code = code  # type: ignore[misc]


class PmemGroup(click.Group):
    """Turns library errors into one clear line on stderr and a meaningful exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PersonaMemoryError as error:
            raise PmemError(error) from error


def store_options(command: F) -> F:
    """``--persona``, ``--url``, ``--base-path`` and ``--json``, on every command."""
    options = [
        click.option("--persona", "-p", envvar="PERSONA_SLUG", help="Persona slug [env PERSONA_SLUG; default 'default']."),
        click.option("--url", envvar="PMEM_URL", help="Backend URL, e.g. sqlite:///path/memories.db [env PMEM_URL]."),
        click.option(
            "--base-path", envvar="MEMORY_BASE_PATH",
            help="Directory holding persona-<slug>/ [env MEMORY_BASE_PATH; default ~/.openclaw/memory].",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _persona_store(persona: str | None, url: str | None, base_path: str | None) -> PersonaStore:
    return PersonaStore(persona, url=url, base_path=base_path)


def with_store(command: Callable[..., Any]) -> Callable[..., Any]:
    """Open the persona store from the common options and close it afterwards."""

    @functools.wraps(command)
    def wrapper(persona: str | None, url: str | None, base_path: str | None, **kwargs: Any) -> Any:
        with _persona_store(persona, url, base_path) as store:
            return command(store, **kwargs)

    return wrapper


@click.group(cls=PmemGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="pmem")
def cli() -> None:
    """Persistent memory for chat bots and AI personas.

    Memories live in ~/.openclaw/memory/persona-<slug>/ unless MEMORY_BASE_PATH or --url says
    otherwise. No server, no network, no API key.
    """


# ---- persona memories ----


@cli.command()
@click.argument("content")
@click.option("--tags", "-t", default="", help="Comma-separated tags, e.g. preference,food.")
@click.option("--importance", "-i", type=float, help="0.0-1.0 (default depends on --type).")
@click.option(
    "--type", "memory_type", default="general", show_default=True,
    type=click.Choice([t.value for t in MemoryType]), help="Kind of memory.",
)
@click.option("--at", help="When it was said (ISO date/time); default now.")
@click.option("--metadata", help="Extra data as a JSON object.")
@store_options
@with_store
def store(
    store: PersonaStore, content: str, tags: str, importance: float | None, memory_type: str,
    at: str | None, metadata: str | None, as_json: bool,
) -> None:
    """Remember CONTENT."""
    record = store.store(
        content, tags=tags, importance=importance, type=memory_type,
        metadata=_json_object(metadata, "--metadata"), at=at,
    )
    if as_json:
        _print_json(record.to_dict())
    else:
        click.echo(f"Stored {record.id} ({record.type.value}, importance {record.importance:.2f}).")


@cli.command()
@click.option("--tags", "-t", help="Comma-separated tags; any of them matches.")
@click.option("--all-tags", is_flag=True, help="Require all of --tags.")
@click.option("--type", "memory_type", type=click.Choice([t.value for t in MemoryType]))
@click.option("--since", help="ISO date/time or age (7d, 12h) to start from.")
@click.option("--until", help="ISO date/time or age to stop before.")
@click.option("--limit", "-n", default=10, show_default=True, type=int)
@store_options
@with_store
def retrieve(
    store: PersonaStore, tags: str | None, all_tags: bool, memory_type: str | None,
    since: str | None, until: str | None, limit: int, as_json: bool,
) -> None:
    """List the memories that matter most now (importance and recency)."""
    records = store.retrieve(
        tags=tags, type=memory_type, since=since, until=until, limit=limit,
        match="all" if all_tags else "any",
    )
    _print_records(records, as_json)


@cli.command()
@click.argument("query")
@click.option("--limit", "-n", default=10, show_default=True, type=int)
@click.option("--tags", "-t", help="Only memories with any of these comma-separated tags.")
@click.option("--type", "memory_type", type=click.Choice([t.value for t in MemoryType]))
@store_options
@with_store
def search(
    store: PersonaStore, query: str, limit: int, tags: str | None, memory_type: str | None, as_json: bool
) -> None:
    """Find memories relevant to QUERY (plain words)."""
    hits = store.search(query, limit=limit, tags=tags, type=memory_type)
    _print_records(hits, as_json)


@cli.command()
@click.argument("memory_id")
@store_options
@with_store
def get(store: PersonaStore, memory_id: str, as_json: bool) -> None:
    """Show one memory by id."""
    record = store.get(memory_id)
    if as_json:
        _print_json(record.to_dict())
    else:
        for name, value in record.to_dict().items():
            click.echo(f"{name:>14}: {_plain(value)}")


@cli.command()
@click.argument("memory_id")
@click.option("--content", "-c", help="New content.")
@click.option("--tags", "-t", help="New comma-separated tags (replace the old ones).")
@click.option("--importance", "-i", type=float, help="New importance 0.0-1.0.")
@click.option("--type", "memory_type", type=click.Choice([t.value for t in MemoryType]))
@store_options
@with_store
def update(
    store: PersonaStore, memory_id: str, content: str | None, tags: str | None,
    importance: float | None, memory_type: str | None, as_json: bool,
) -> None:
    """Correct a memory; the old version is kept as superseded."""
    record = store.update(
        memory_id,
        content=UNSET if content is None else content,
        tags=UNSET if tags is None else tags,
        importance=UNSET if importance is None else importance,
        type=UNSET if memory_type is None else memory_type,
    )
    if as_json:
        _print_json(record.to_dict())
    else:
        click.echo(f"Updated {memory_id} -> {record.id}.")


@cli.command()
@click.argument("memory_id")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_options
@with_store
def forget(store: PersonaStore, memory_id: str, yes: bool, as_json: bool) -> None:
    """Delete a memory (and its earlier versions) for good."""
    record = store.get(memory_id)
    if not yes:
        if not _stdin_is_terminal():
            _fail("refusing to forget without confirmation: pass --yes", 2)
        click.echo(f"{record.id}: {_shorten(record.content, 70)}")
        click.confirm("Forget this memory for good?", abort=True)
    forgotten = store.forget(memory_id)
    if as_json:
        _print_json({"forgotten": forgotten})
    else:
        click.echo(f"Forgot {', '.join(forgotten)}.")


@cli.command()
@store_options
@with_store
def stats(store: PersonaStore, as_json: bool) -> None:
    """What this persona remembers: counts, top tags, time span."""
    _print_stats(store.stats(), as_json)


@cli.command()
@click.option("--output", "-o", type=click.File("w"), default="-", help="File to write (default stdout).")
@click.option("--to", "to_url", metavar="URL", help="Copy into this backend instead (e.g. postgresql://host/db).")
@store_options
@with_store
def export(store: PersonaStore, output: Any, to_url: str | None, as_json: bool) -> None:
    """Write every memory of the persona as JSON lines (superseded versions included).

    With --to URL, copy them into another backend and check that all arrived intact.
    """
    from . import transfer

    records = store.export()
    if to_url is None:
        transfer.write_lines(records, output)
        return
    with PersonaStore(store.persona, url=to_url) as destination:
        _copy(records, destination, as_json)


@cli.command("import")
@click.argument("source", type=click.File("r"), required=False)
@click.option("--from", "from_url", metavar="URL", help="Copy from this backend instead of a file.")
@store_options
@with_store
def import_(store: PersonaStore, source: Any, from_url: str | None, as_json: bool) -> None:
    """Add memories from a JSON-lines SOURCE file ('-' for stdin) or --from URL.

    Reads what `pmem export` writes and OpenPersona's memories.jsonl. Ids, versions, access
    counts and times are kept; memories already present are skipped; every memory is read back
    and compared after the copy.
    """
    from . import transfer

    if (source is None) == (from_url is None):
        raise InvalidInputError("source", source, "give a JSON-lines file or --from URL (one of them)")
    if from_url is not None:
        with PersonaStore(store.persona, url=from_url) as origin:
            records = origin.export()
    else:
        records = transfer.read_lines(source, store.persona)
    _copy(records, store, as_json)


def _copy(records: Sequence[MemoryRecord], destination: PersonaStore, as_json: bool) -> None:
    from . import transfer

    with click.progressbar(
        length=len(records),
        label=f"copying to {destination.backend.url}",
        file=sys.stderr,
        hidden=not _stderr_is_terminal(),  # a bar only for a person watching; pipes and logs stay clean
    ) as bar:
        report = transfer.copy(records, destination.backend, destination.persona, bar.update)
    if as_json:
        _print_json({"total": report.total, "added": report.added, "verified": report.verified,
                     "to": destination.backend.url, "persona": destination.persona})
    else:
        click.echo(
            f"Copied {report.total} memories of {destination.persona!r} to {destination.backend.url} "
            f"({report.added} new, {report.total - report.added} already there); "
            f"all {report.verified} read back and identical."
        )


# ---- key-value memory ----


@cli.group()
def kv() -> None:
    """Key-value memory (the opsdroid Memory contract)."""


def kv_options(command: F) -> F:
    command = click.option("--namespace", "-N", default="default", show_default=True, help="Key namespace.")(command)
    command = click.option("--url", envvar="PMEM_URL", help="Backend URL [env PMEM_URL].")(command)
    command = click.option("--base-path", envvar="MEMORY_BASE_PATH", help="Base directory [env MEMORY_BASE_PATH].")(command)
    command = click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)
    return command


def _memory(namespace: str, url: str | None, base_path: str | None) -> Memory:
    return Memory(namespace, url=url, base_path=base_path)


@kv.command("get")
@click.argument("key")
@kv_options
def kv_get(key: str, namespace: str, url: str | None, base_path: str | None, as_json: bool) -> None:
    """Print the value stored under KEY (exit 3 if there is none)."""
    with _memory(namespace, url, base_path) as memory:
        value = memory.get(key, default=UNSET)
    if value is UNSET:
        _fail(f"no value for key {key!r} in namespace {namespace!r}", 3)
    if as_json or not isinstance(value, str):
        click.echo(codec.dumps(value))
    else:
        click.echo(value)


@kv.command("put")
@click.argument("key")
@click.argument("value")
@click.option("--raw", is_flag=True, help="Store VALUE as a string even if it parses as JSON.")
@click.option("--ttl", type=float, help="Expire after this many seconds.")
@kv_options
def kv_put(
    key: str, value: str, raw: bool, ttl: float | None, namespace: str, url: str | None,
    base_path: str | None, as_json: bool,
) -> None:
    """Store VALUE under KEY (parsed as JSON when it is JSON, else a string)."""
    data: Any = value
    if not raw:
        try:
            data = codec.loads(value)
        except ValueError:
            data = value
    with _memory(namespace, url, base_path) as memory:
        memory.put(key, data, ttl=ttl)
    if as_json:
        _print_json({"key": key, "namespace": namespace, "stored": True})
    else:
        click.echo(f"Stored {key!r}.")


@kv.command("delete")
@click.argument("key")
@kv_options
def kv_delete(key: str, namespace: str, url: str | None, base_path: str | None, as_json: bool) -> None:
    """Delete KEY (no error if it does not exist)."""
    with _memory(namespace, url, base_path) as memory:
        existed = memory.delete(key)
    if as_json:
        _print_json({"key": key, "namespace": namespace, "deleted": existed})
    else:
        click.echo(f"Deleted {key!r}." if existed else f"No key {key!r}; nothing to delete.")


@kv.command("list")
@kv_options
def kv_list(namespace: str, url: str | None, base_path: str | None, as_json: bool) -> None:
    """List the keys of a namespace."""
    with _memory(namespace, url, base_path) as memory:
        keys = memory.keys()
    if as_json:
        _print_json(keys)
    elif not keys:
        click.echo("No keys.")
    else:
        click.echo("\n".join(keys))


# ---- backends ----


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def backends(as_json: bool) -> None:
    """List the storage backends and whether they can be used here."""
    from .registry import specs

    rows = [
        {
            "name": s.name,
            "schemes": ",".join(s.schemes),
            "state": s.state(),
            "version": s.version(),
            "description": s.description,
        }
        for s in specs().values()
    ]
    if as_json:
        _print_json(rows)
    else:
        _print_table(["name", "schemes", "state", "version", "description"], [list(r.values()) for r in rows])


# ---- output ----


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _print_records(items: Sequence[MemoryRecord | SearchHit], as_json: bool) -> None:
    if as_json:
        _print_json([item.to_dict() for item in items])
        return
    if not items:
        click.echo(NOTHING_FOUND)
        return
    now = dt.datetime.now(dt.UTC)
    headers = ["id", "type", "imp.", "age", "tags", "content"]
    if items and isinstance(items[0], SearchHit):
        headers.insert(1, "score")
    rows = []
    for item in items:
        record = item.record if isinstance(item, SearchHit) else item
        row = [
            record.id, record.type.value, f"{record.importance:.2f}",
            _age(now - record.created_at), ",".join(record.tags), record.content,
        ]
        if isinstance(item, SearchHit):
            row.insert(1, f"{item.score:.3f}")
        rows.append(row)
    _print_table(headers, rows)


def _print_stats(stats: Stats, as_json: bool) -> None:
    data = stats.to_dict()
    if as_json:
        _print_json(data)
        return
    if stats.total == 0:
        click.echo(NOTHING_FOUND)
        return
    click.echo(f"total memories : {stats.total} (+{stats.superseded} superseded versions)")
    click.echo(f"avg importance : {data['avg_importance']}")
    click.echo(f"oldest         : {data['oldest']}")
    click.echo(f"newest         : {data['newest']}")
    click.echo("top tags       : " + (", ".join(f"{t} ({n})" for t, n in stats.top_tags) or "-"))
    click.echo("by type        : " + ", ".join(f"{k} {v}" for k, v in stats.by_type.items()))


def _print_table(headers: list[str], rows: Iterable[Sequence[Any]]) -> None:
    rows = [[_plain(cell) for cell in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    # the last column gets what is left of the terminal
    room = shutil.get_terminal_size((120, 20)).columns - sum(widths[:-1]) - 2 * (len(headers) - 1)
    widths[-1] = max(20, room)
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    click.echo(line)
    click.echo("  ".join("-" * w for w in widths)[: len(line)])
    for row in rows:
        cells = [c.ljust(w) for c, w in zip(row[:-1], widths, strict=False)]
        click.echo("  ".join([*cells, _shorten(row[-1], widths[-1])]).rstrip())


def _plain(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (list, tuple)):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value).replace("\n", " ")


def _shorten(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: max(1, width - 1)] + "…"


def _age(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    for unit, size in (("y", 365 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return "now"


def _json_object(text: str | None, option: str) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError as exc:
        raise InvalidInputError(option, text, f"not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise InvalidInputError(option, text, "must be a JSON object")
    return value


def _fail(message: str, code: int) -> NoReturn:
    error = click.ClickException(message)
    error.exit_code = code  # type: ignore[misc]
    raise error


def main() -> None:
    cli(prog_name="pmem")
