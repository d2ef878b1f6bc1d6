"""Stand-ins for services that cannot run here, for tests only. NOT the real services.

    python -m tests.helpers.standins zep  --port P --state FILE --key KEY
    python -m tests.helpers.standins mem0 --port P --state FILE --key KEY
    python -m tests.helpers.standins llm  --port P --log FILE

``zep``: the subset of the Zep Cloud v4 REST API that persona-memory's Zep provider uses
(graphs, episodes: add with Idempotency-Key, list with metadata filters, get, delete, search).
``mem0``: the subset of the mem0 platform API the ``mem0ai`` client calls (ping, add, list,
search, get, update, delete). Search ranks by shared words (the real services use embeddings).
``llm``: records every request it gets and fails it; a test points an LLM client here to
prove that no LLM is ever called. State is kept in a JSON file, so a stand-in that is killed
and started again still has what it stored, as a real service would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

_lock = threading.Lock()


class State:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}

    def save(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.data))
        tmp.replace(self.path)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def overlap(query: str, text: str) -> float:
    q = words(query)
    return len(q & words(text)) / len(q) if q else 0.0


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


class Handler(BaseHTTPRequestHandler):
    kind = ""
    key = ""
    state: State
    log_path: Path | None = None

    def log_message(self, *args: Any) -> None:  # quiet
        pass

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}") if length else {}

    def _handle(self, method: str) -> None:
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        body = self._body()
        if self.kind == "llm":
            with _lock, open(self.log_path, "a") as log:  # type: ignore[arg-type]
                log.write(json.dumps({"method": method, "path": url.path, "body": body}) + "\n")
            return self._send(500, {"error": "stand-in LLM: no LLM may be called"})
        expected = f"Api-Key {self.key}" if self.kind == "zep" else f"Token {self.key}"
        if self.headers.get("Authorization") != expected:
            return self._send(401, {"message": "invalid api key"})
        with _lock:
            route = zep_route if self.kind == "zep" else mem0_route
            status, result = route(self.state, method, url.path.rstrip("/"), query, body, self.headers)
            self.state.save()
        self._send(status, result)

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")


def zep_route(state: State, method: str, path: str, query: dict, body: Any, headers: Any) -> tuple[int, Any]:
    graphs = state.data.setdefault("graphs", {})
    episodes = state.data.setdefault("episodes", {})
    keys = state.data.setdefault("idempotency", {})
    parts = [p for p in path.split("/") if p]
    if parts[:1] == ["api"]:
        parts = parts[2:]  # /api/v4/...
    if parts == ["graphs"] and method == "POST":
        key = headers.get("Idempotency-Key")
        if key in keys:
            return 201, graphs[keys[key]]
        graph = {"uuid": str(uuid.uuid4()), "name": body.get("name"), "created_at": now()}
        graphs[graph["uuid"]] = graph
        keys[key] = graph["uuid"]
        return 201, graph
    if parts == ["graphs", "list"] and method == "POST":
        search = query.get("search", "")
        items = [g for g in graphs.values() if search in (g.get("name") or "")]
        return 200, {"items": items, "next_cursor": None, "total_size": len(items)}
    if len(parts) >= 3 and parts[0] == "graphs":
        graph_id = parts[1]
        if graph_id not in graphs:
            return 404, {"message": "graph not found"}
        mine = {k: e for k, e in episodes.items() if e["graph_uuid"] == graph_id}
        if parts[2:] == ["episodes"] and method == "POST":
            key = headers.get("Idempotency-Key")
            if key in keys:
                return 202, {"episode": episodes[keys[key]]}
            episode = {
                "uuid": str(uuid.uuid4()), "graph_uuid": graph_id, "content": body["data"],
                "metadata": body.get("metadata") or {}, "created_at": now(), "processed": False,
                "source": body.get("type", "text"),
            }
            episodes[episode["uuid"]] = episode
            keys[key] = episode["uuid"]
            return 202, {"episode": episode, "task": {"task_id": str(uuid.uuid4())}}
        if parts[2:] == ["episodes", "list"] and method == "POST":
            items = list(mine.values())
            group = ((body or {}).get("filters") or {}).get("metadata_filters")
            if group:
                for f in group.get("filters") or []:
                    items = [e for e in items if e["metadata"].get(f["property_name"]) == f["value"]]
            size = int(query.get("page_size", 100))
            return 200, {"items": items[:size], "next_cursor": None, "total_size": len(items)}
        if parts[2:] == ["search", "episodes"] and method == "POST":
            scored = sorted(
                ({**e, "score": overlap(body["query"], e["content"])} for e in mine.values()),
                key=lambda e: -e["score"],
            )
            size = int(query.get("page_size", 10))
            return 200, {"items": [e for e in scored if e["score"] > 0][:size], "next_cursor": None}
        if len(parts) == 4 and parts[2] == "episodes":
            episode = mine.get(parts[3])
            if episode is None:
                return 404, {"message": "episode not found"}
            if method == "GET":
                return 200, episode
            if method == "DELETE":
                del episodes[parts[3]]
                return 200, {"task": {"task_id": str(uuid.uuid4())}}
    return 404, {"message": f"no route {method} {path}"}


def mem0_route(state: State, method: str, path: str, query: dict, body: Any, headers: Any) -> tuple[int, Any]:
    memories = state.data.setdefault("memories", {})
    if path == "/v1/ping":
        return 200, {"status": "ok", "org_id": "org", "project_id": "project", "user_email": "stand-in@example.com"}

    def matches(m: dict, filters: dict) -> bool:
        for key, value in (filters or {}).items():
            if key == "user_id":
                if m["user_id"] != value:
                    return False
            elif m["metadata"].get(key) != value:
                return False
        return True

    if path == "/v3/memories/add" and method == "POST":
        text = " ".join(msg["content"] for msg in body["messages"])
        memory = {
            "id": str(uuid.uuid4()), "memory": text, "user_id": body.get("user_id"),
            "metadata": body.get("metadata") or {}, "created_at": now(),
        }
        memories[memory["id"]] = memory
        return 200, {"results": [{"id": memory["id"], "memory": text, "event": "ADD"}]}
    if path == "/v3/memories" and method == "POST":
        found = [m for m in memories.values() if matches(m, body.get("filters"))]
        return 200, {"results": found[: int(query.get("page_size", 100))]}
    if path == "/v3/memories/search" and method == "POST":
        found = [{**m, "score": overlap(body["query"], m["memory"])} for m in memories.values() if matches(m, body.get("filters"))]
        found = sorted((m for m in found if m["score"] > 0), key=lambda m: -m["score"])
        return 200, {"results": found[: int(body.get("top_k", 10))]}
    match = re.fullmatch(r"/v1/memories/([^/]+)", path)
    if match:
        memory = memories.get(match.group(1))
        if memory is None:
            return 404, {"detail": "memory not found"}
        if method == "GET":
            return 200, memory
        if method == "PUT":
            if body.get("text") is not None:
                memory["memory"] = body["text"]
            if body.get("metadata") is not None:
                memory["metadata"] = body["metadata"]
            return 200, memory
        if method == "DELETE":
            del memories[match.group(1)]
            return 200, {"message": "deleted"}
    return 404, {"detail": f"no route {method} {path}"}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("kind", choices=["zep", "mem0", "llm"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", type=Path)
    parser.add_argument("--key", default="test-key")
    parser.add_argument("--log", type=Path)
    args = parser.parse_args()
    Handler.kind = args.kind
    Handler.key = args.key
    Handler.log_path = args.log
    if args.state:
        Handler.state = State(args.state)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("ready", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
