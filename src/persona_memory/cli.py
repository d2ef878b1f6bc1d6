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
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NoReturn, TypeVar

import click

from . import __version__, codec, validation
from ._sync.memory import Memory
from ._sync.persona import PersonaStore
from .errors import (
    InvalidInputError,
    KeyNotFoundError,
    PersonaMemoryError,
)
from .models import UNSET, MemoryRecord, MemoryType, SearchHit, Stats
from .operations import ERROR_KINDS

F = TypeVar("F", bound=Callable[..., Any])
NOTHING_FOUND = "No memories found."
#: What the faculty says instead of guessing (seed: "Don't fabricate memories").
NO_SPECIFIC_MEMORY = "I don't have a specific memory about that."
# one table for every surface: the HTTP status of each error sits beside its exit code
EXIT_CODES: list[tuple[type[PersonaMemoryError], int]] = [(kind.error, kind.exit_code) for kind in ERROR_KINDS]


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
@click.option("--all-tags", is_flag=True, help="Require all of --tags (same as --match all).")
@click.option("--match", type=click.Choice(["any", "all"]), help="Any of --tags (default) or all of them.")
@click.option("--type", "memory_type", type=click.Choice([t.value for t in MemoryType]))
@click.option("--since", help="ISO date/time or age (7d, 12h) to start from.")
@click.option("--until", help="ISO date/time or age to stop before.")
@click.option("--limit", "-n", default=10, show_default=True, type=int)
@click.option("--min-score", type=float, help="Leave out faded memories scoring below this (0-1).")
@store_options
@with_store
def retrieve(
    store: PersonaStore, tags: str | None, all_tags: bool, match: str | None, memory_type: str | None,
    since: str | None, until: str | None, limit: int, min_score: float | None, as_json: bool,
) -> None:
    """List the memories that matter most now (importance and recency)."""
    records = store.retrieve(
        tags=tags, type=memory_type, since=since, until=until, limit=limit,
        match="all" if all_tags else match or "any", min_score=min_score,
    )
    _print_records(records, as_json, empty=NO_SPECIFIC_MEMORY)


@cli.command()
@click.argument("query")
@click.option("--limit", "-n", default=10, show_default=True, type=int)
@click.option("--tags", "-t", help="Only memories with any of these comma-separated tags.")
@click.option("--type", "memory_type", type=click.Choice([t.value for t in MemoryType]))
@click.option("--since", help="ISO date/time or age (7d, 12h) to start from.")
@click.option("--until", help="ISO date/time or age to stop before.")
@click.option("--match", type=click.Choice(["any", "all"]), default="any", show_default=True,
              help="Any of --tags or all of them.")
@click.option("--min-score", type=float,
              help="Relevance floor 0-1 (share of the query matched): nothing rather than weak matches.")
@click.option(
    "--mode", default="hybrid", show_default=True, type=click.Choice(["hybrid", "text", "vector"]),
    help="Full text and meaning (hybrid), or one of them.",
)
@store_options
@with_store
def search(
    store: PersonaStore, query: str, limit: int, tags: str | None, memory_type: str | None,
    since: str | None, until: str | None, match: str, min_score: float | None, mode: str, as_json: bool,
) -> None:
    """Find memories relevant to QUERY (plain words)."""
    hits = store.search(
        query, limit=limit, tags=tags, type=memory_type, since=since, until=until, match=match,
        min_score=min_score, mode=mode,
    )
    _print_records(hits, as_json, empty=NO_SPECIFIC_MEMORY)


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
@click.option("--metadata", help="New extra data as a JSON object.")
@store_options
@with_store
def update(
    store: PersonaStore, memory_id: str, content: str | None, tags: str | None,
    importance: float | None, memory_type: str | None, metadata: str | None, as_json: bool,
) -> None:
    """Correct a memory; the old version is kept as superseded."""
    record = store.update(
        memory_id,
        content=UNSET if content is None else content,
        tags=UNSET if tags is None else tags,
        importance=UNSET if importance is None else importance,
        type=UNSET if memory_type is None else memory_type,
        metadata=UNSET if metadata is None else _json_object(metadata, "--metadata"),
    )
    if as_json:
        _print_json(record.to_dict())
    else:
        click.echo(f"Updated {memory_id} -> {record.id}.")


@cli.command()
@click.argument("memory_id", required=False)
@click.option("--matching", "--query", "matching", help="Forget the memories matching these words (lists them first).")
@click.option("--min-score", type=float, default=0.5, show_default=True,
              help="With --matching: share of the words a memory must match.")
@click.option("--tag", "--tags", "tags", help="Forget every memory with any of these comma-separated tags.")
@click.option("--match", type=click.Choice(["any", "all"]), default="any", show_default=True,
              help="With --tag: any of the tags, or all of them.")
@click.option("--all", "everything", is_flag=True, help="Forget everything this persona knows.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@store_options
@with_store
def forget(
    store: PersonaStore, memory_id: str | None, matching: str | None, min_score: float,
    tags: str | None, match: str, everything: bool, yes: bool, as_json: bool,
) -> None:
    """Delete memories for good: MEMORY_ID, --matching WORDS, --tag TAGS or --all.

    Lists what would go and asks to confirm (--yes in scripts). Forgotten content leaves
    every index and, after the store's maintenance (run right away), the file's bytes.
    """
    chosen = [x for x in (memory_id, matching, tags, everything or None) if x is not None]
    if len(chosen) != 1:
        _fail("give exactly one of MEMORY_ID, --matching, --tag or --all", 2)
    if memory_id is not None:
        doomed = [store.get(memory_id)]
    elif matching is not None:
        doomed = [hit.record for hit in store.matching(matching, min_score=min_score)]
    elif tags is not None:
        doomed = store.retrieve(tags=tags, limit=1000, match=match)
    else:
        doomed = [r for r in store.export() if r.active]
    if not doomed and not everything:
        if as_json:
            _print_json({"forgotten": []})
        else:
            click.echo(NO_SPECIFIC_MEMORY + " Nothing to forget.")
        return
    if not yes:
        if not _stdin_is_terminal():
            _fail("refusing to forget without confirmation: pass --yes", 2)
        for record in doomed[:50]:
            click.echo(f"{record.id}: {_shorten(record.content, 70)}")
        if len(doomed) > 50:
            click.echo(f"... and {len(doomed) - 50} more")
        what = "everything this persona knows" if everything else f"these {len(doomed)} memories"
        click.confirm(f"Forget {what} for good?", abort=True)
    if memory_id is not None:
        forgotten = store.forget(memory_id)
    elif matching is not None:
        forgotten = store.forget_matching(matching, min_score=min_score)
    elif tags is not None:
        forgotten = store.forget_tagged(tags, match=match)
    else:
        forgotten = store.forget_everything()
    if as_json:
        _print_json({"forgotten": forgotten})
    else:
        click.echo(f"Forgot {len(forgotten)} memories." if len(forgotten) > 3 else f"Forgot {', '.join(forgotten) or 'nothing'}.")


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


@cli.command()
@store_options
@with_store
def check(store: PersonaStore, as_json: bool) -> None:
    """Verify the store's files (reads everything); exit 4 if they are damaged."""
    problems = store.check()
    if as_json:
        _print_json({"ok": not problems, "problems": problems})
    else:
        click.echo("\n".join(problems) if problems else f"{store.backend.url}: ok")
    if problems:
        sys.exit(4)


@cli.command()
@store_options
@with_store
def sync(store: PersonaStore, as_json: bool) -> None:
    """Replay writes made while the external provider (mem0, zep) was unreachable."""
    replayed = store.sync()
    if as_json:
        _print_json({"replayed": replayed, "pending": store.pending()})
    elif replayed:
        click.echo(f"Replayed {replayed} write(s) to {store.settings.provider}.")
    else:
        click.echo("Nothing to replay." if store.settings.provider != "local" else "The local store needs no sync.")

# ---- the persona faculty: capture, evolution, handoff ----


@cli.command()
@click.argument("text")
@click.option("--speaker", "-s", default="user", show_default=True, help="Who said it.")
@click.option("--at", help="When it was said (ISO date/time); default now.")
@click.option("--metadata", help="Extra data to keep with what is stored, as a JSON object.")
@store_options
@with_store
def observe(
    store: PersonaStore, text: str, speaker: str, at: str | None, metadata: str | None, as_json: bool
) -> None:
    """Decide whether a conversation turn is worth remembering; remember it if so."""
    decision = store.observe(text, speaker=speaker, at=at, metadata=_json_object(metadata, "--metadata"))
    if as_json:
        _print_json(decision.to_dict())
        return
    click.echo(f"{decision.reason}: {decision.explanation}")
    for record in decision.stored:
        click.echo(f"  {record.id} {record.type.value} {record.importance:.2f} [{','.join(record.tags)}]")
    for hit in decision.forget_candidates:
        click.echo(f"  would forget {hit.id}: {_shorten(hit.content, 70)}")


@cli.command()
@click.option("--threshold", "--interest-threshold", "threshold", default=3, show_default=True, type=int,
              help="Memories sharing a tag before it is an interest.")
@store_options
@with_store
def evolve(store: PersonaStore, threshold: int, as_json: bool) -> None:
    """Run the evolution bridge: patterns in memories become events in state.json."""
    result = store.evolve(interest_threshold=threshold)
    if as_json:
        _print_json(result.to_dict())
        return
    if not result.events:
        click.echo("No new evolution events.")
    for event in result.events:
        click.echo(f"#{event['seq']} {event['type']}: {_event_summary(event)}")
    for record in result.milestones:
        click.echo(f"  stored milestone {record.id}: {record.content}")


@cli.command()
@store_options
@with_store
def events(store: PersonaStore, as_json: bool) -> None:
    """List the persona's evolution events, oldest first."""
    logged = store.events()
    if as_json:
        _print_json(logged)
    elif not logged:
        click.echo("No evolution events yet.")
    else:
        _print_table(["seq", "at", "type", "what"],
                     [[e["seq"], e["at"][:19], e["type"], _event_summary(e)] for e in logged])


@cli.command()
@click.argument("to_persona")
@store_options
@with_store
def handoff(store: PersonaStore, to_persona: str, as_json: bool) -> None:
    """Write handoff.json for a switch to TO_PERSONA (counts, top tags, stage, mood)."""
    data = store.handoff(to_persona)
    if as_json:
        _print_json(data)
    else:
        path = store.settings.persona_dir(to_persona) / "handoff.json"
        click.echo(f"Wrote {path} ({data['memory']['total']} memories).")


def _event_summary(event: dict[str, Any]) -> str:
    data = event.get("data", {})
    if event.get("type") == "interest_discovery":
        return f"interest in {data.get('tag')} ({data.get('count')} memories)"
    if event.get("type") in ("mood_shift", "relationship_stage"):
        return f"{data.get('from')} -> {data.get('to')}"
    return json.dumps(data, ensure_ascii=False)


@cli.command()
@click.option(
    "--embedder", "-e", envvar="PMEM_EMBEDDER",
    help="Embedder to use from now on: static (default), e5, openai, or none [env PMEM_EMBEDDER].",
)
@click.option("--missing-only", is_flag=True, help="Only embed memories that have no vector yet.")
@click.option("--batch-size", default=256, show_default=True, type=int, help="Memories embedded per batch.")
@store_options
def reindex(
    persona: str | None, url: str | None, base_path: str | None, embedder: str | None,
    missing_only: bool, batch_size: int, as_json: bool,
) -> None:
    """Re-embed every memory in the store (every persona in it) for semantic search.

    Run it after switching embedders or upgrading the embedder's model; with --missing-only,
    to give a vector to memories stored while the embedder was failing.
    """
    with PersonaStore(persona, url=url, base_path=base_path, embedder=embedder) as store:
        if store.embedder is None:
            _fail("no embedder to index with (--embedder none, or a backend without vectors)", 2)
        bar: Any = None

        def progress(done: int, total: int) -> None:
            nonlocal bar
            if as_json:
                return
            if bar is None:
                bar = click.progressbar(length=total, label="Embedding", show_pos=True, file=sys.stderr)
                bar.__enter__()
            bar.update(done - bar.pos)

        try:
            count = store.reindex(missing_only=missing_only, batch_size=batch_size, progress=progress)
        finally:
            if bar is not None:
                bar.__exit__(None, None, None)
        embedder_id = store.embedder.id
    if as_json:
        _print_json({"embedded": count, "embedder": embedder_id})
    else:
        click.echo(f"Embedded {count} memories with {embedder_id}.")


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
        raise KeyNotFoundError(key, namespace)
    if as_json or not isinstance(value, str):
        click.echo(codec.dumps(value))
    else:
        click.echo(value)


@kv.command("put")
@click.argument("key")
@click.argument("data")
@click.option("--raw", is_flag=True, help="Store DATA as a string even if it parses as JSON.")
@click.option("--ttl", type=float, help="Expire after this many seconds.")
@kv_options
def kv_put(
    key: str, data: str, raw: bool, ttl: float | None, namespace: str, url: str | None,
    base_path: str | None, as_json: bool,
) -> None:
    """Store DATA under KEY (parsed as JSON when it is JSON, else a string)."""
    value: Any = data
    if not raw:
        try:
            value = codec.loads(data)
        except ValueError:
            value = data
    with _memory(namespace, url, base_path) as memory:
        memory.put(key, value, ttl=ttl)
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


# ---- servers: HTTP API, MCP ----


def _need_extra(module: str, extra: str, command: str) -> Any:
    """Import a server module, or stop with the pip command that installs its extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        _fail(f"{command} needs the {extra} extra: pip install 'persona-memory[{extra}]' ({exc})", 1)


def server_options(command: F) -> F:
    """Where the HTTP server listens and who may call it (``pmem serve``, ``pmem ui``)."""
    options = [
        click.option("--host", default="127.0.0.1", show_default=True,
                     help="Address to listen on; anything but loopback requires a token."),
        click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535)),
        click.option("--token", envvar="MEMORY_API_KEY",
                     help="Token every request must send as 'Authorization: Bearer ...' [env MEMORY_API_KEY]."),
        click.option("--persona-token", "persona_tokens", multiple=True, metavar="SLUG=TOKEN",
                     envvar="PMEM_PERSONA_TOKENS",
                     help="A token that reaches only this persona (repeatable) [env PMEM_PERSONA_TOKENS, space-separated]."),
        click.option("--url", envvar="PMEM_URL", help="Backend URL [env PMEM_URL]."),
        click.option("--base-path", envvar="MEMORY_BASE_PATH", help="Base directory [env MEMORY_BASE_PATH]."),
        click.option("--max-body", default=1 << 20, show_default=True, type=click.IntRange(1),
                     help="Largest request body in bytes (413 above)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _server_config(
    host: str, port: int, token: str | None, persona_tokens: Sequence[str], url: str | None,
    base_path: str | None, max_body: int,
) -> Any:
    api = _need_extra("persona_memory.api", "server", "the HTTP server")
    from .api.auth import parse_persona_tokens

    config = api.ServerConfig(
        host=host, port=port, token=token or None, persona_tokens=parse_persona_tokens(persona_tokens),
        url=url, base_path=base_path, max_body_bytes=max_body,
    )
    config.policy()  # bad tokens fail here, before anything listens
    return config


@cli.command()
@server_options
def serve(
    host: str, port: int, token: str | None, persona_tokens: tuple[str, ...], url: str | None,
    base_path: str | None, max_body: int,
) -> None:
    """Serve the HTTP API (OpenAPI document at /openapi.json).

    Listens on 127.0.0.1 unless --host says otherwise; any other address needs --token or
    MEMORY_API_KEY, and then every request must carry it.
    """
    config = _server_config(host, port, token, persona_tokens, url, base_path, max_body)
    _run_server(config, f"persona-memory HTTP API on {_address(host, port)}/ (OpenAPI: /openapi.json)")


@cli.command()
@server_options
@click.option("--persona", "-p", envvar="PERSONA_SLUG", help="Persona to show first [env PERSONA_SLUG].")
@click.option("--open/--no-open", "open_browser", default=True, show_default=True,
              help="Open the page in a web browser once the server is up.")
def ui(
    host: str, port: int, token: str | None, persona_tokens: tuple[str, ...], url: str | None,
    base_path: str | None, max_body: int, persona: str | None, open_browser: bool,
) -> None:
    """Browse, search and forget memories in a local web page.

    Serves the page with the HTTP API (same options as pmem serve), prints its address and opens
    it in a browser. The page loads nothing from the network.
    """
    config = _server_config(host, port, token, persona_tokens, url, base_path, max_body)
    page = f"{_address(host, port)}/ui/" + (f"?persona={validation.slug(persona)}" if persona else "")
    on_ready = None
    if open_browser:
        # the token travels in the fragment, which the browser never sends to a server
        on_ready = functools.partial(_open_browser, page + (f"#token={token}" if token else ""))
    _run_server(config, f"persona-memory browser on {page}", on_ready)


def _run_server(config: Any, banner: str, on_ready: Callable[[], None] | None = None) -> None:
    from .api import serve as run_server
    from .api.app import create_app

    create_app(config)  # refuses a non-loopback host without a token, before printing anything
    click.echo(banner)
    if on_ready is not None:
        threading.Thread(target=_when_up, args=(f"{_address(config.host, config.port)}/health", on_ready),
                         daemon=True).start()
    run_server(config)


def _when_up(health_url: str, then: Callable[[], None], timeout: float = 30.0) -> None:
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(health_url, timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    then()


def _open_browser(page: str) -> None:
    import webbrowser

    webbrowser.open(page)


def _address(host: str, port: int) -> str:
    """Where a local client reaches a server bound to ``host`` (the wildcard means loopback)."""
    local = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)
    return f"http://{_url_host(local)}:{port}"


@cli.command("mcp")
@click.option("--http", "over_http", is_flag=True, help="Serve streamable HTTP at http://HOST:PORT/mcp instead of stdio.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address for --http.")
@click.option("--port", default=8766, show_default=True, type=click.IntRange(1, 65535), help="Port for --http.")
@click.option("--persona", "-p", envvar="PERSONA_SLUG", help="The tools' default persona [env PERSONA_SLUG].")
@click.option("--url", envvar="PMEM_URL", help="Backend URL [env PMEM_URL].")
@click.option("--base-path", envvar="MEMORY_BASE_PATH", help="Base directory [env MEMORY_BASE_PATH].")
def mcp_command(
    over_http: bool, host: str, port: int, persona: str | None, url: str | None, base_path: str | None
) -> None:
    """Serve the MCP server for agents (stdio; --http for streamable HTTP on loopback)."""
    mcp_server = _need_extra("persona_memory.mcp_server", "mcp", "pmem mcp")
    server = mcp_server.create_server(persona=persona, url=url, base_path=base_path)
    mcp_server.run(server, http=over_http, host=host, port=port)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


# ---- output ----


def _stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _print_records(
    items: Sequence[MemoryRecord | SearchHit], as_json: bool, empty: str = NOTHING_FOUND
) -> None:
    if as_json:
        _print_json([item.to_dict() for item in items])
        return
    if not items:
        click.echo(empty)
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
        value = codec.loads(text)
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
