"""The HTTP API, through a real HTTP client (httpx) against ``pmem serve`` in its own process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from persona_memory import Memory, PersonaStore
from persona_memory.operations import OPERATIONS
from tests.helpers.servers import ROOT, Server, pmem_env, running_server

pytest.importorskip("fastapi", reason="needs the server extra")


@pytest.fixture(scope="module")
def server(api_server: Server) -> Server:
    return api_server


@pytest.fixture(scope="module")
def base(api_server: Server) -> Path:
    return api_server.base_path


@pytest.fixture
def http(server: Server) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def test_persona_memories_round_trip(http: httpx.Client, base: Path) -> None:
    stored = http.post("/v1/personas/ada/memories", json={
        "content": "User is vegetarian and loves Italian food", "tags": ["preference", "food"],
        "importance": 0.8, "type": "preference",
    })
    assert stored.status_code == 201, stored.text
    memory = stored.json()
    assert memory["id"].startswith("mem_") and memory["tags"] == ["preference", "food"]
    assert http.post("/v1/personas/ada/memories", json={
        "content": "Daughter Emma starts school in September", "tags": ["family"], "type": "personal_fact",
        "at": "2020-05-01",
    }).status_code == 201

    assert http.get(f"/v1/personas/ada/memories/{memory['id']}").json()["content"] == memory["content"]
    hits = http.get("/v1/personas/ada/search", params={"query": "what does the user like to eat"}).json()["hits"]
    assert hits[0]["id"] == memory["id"] and 0 < hits[0]["score"] <= 1
    recent = http.get("/v1/personas/ada/memories", params={"since": "2024-01-01"}).json()["memories"]
    assert [m["id"] for m in recent] == [memory["id"]]
    family = http.get("/v1/personas/ada/memories", params=[("tags", "family"), ("tags", "work")]).json()
    assert [m["content"] for m in family["memories"]] == ["Daughter Emma starts school in September"]
    assert http.get("/v1/personas/ada/memories", params={"type": "preference", "tags": "food,family"}).json()[
        "memories"][0]["id"] == memory["id"]

    updated = http.patch(f"/v1/personas/ada/memories/{memory['id']}", json={"importance": 0.9}).json()
    assert updated["supersedes"] == memory["id"] and updated["importance"] == 0.9
    assert http.get(f"/v1/personas/ada/memories/{memory['id']}").json()["superseded_by"] == updated["id"]
    stats = http.get("/v1/personas/ada/stats").json()
    assert stats["total"] == 2 and stats["superseded"] == 1 and stats["by_type"] == {"preference": 1, "personal_fact": 1}
    assert len(http.get("/v1/personas/ada/export").json()["memories"]) == 3

    forgotten = http.delete(f"/v1/personas/ada/memories/{updated['id']}").json()["forgotten"]
    assert set(forgotten) == {memory["id"], updated["id"]}
    assert http.get(f"/v1/personas/ada/memories/{updated['id']}").status_code == 404
    # the server wrote the same store the library reads
    with PersonaStore("ada", base_path=str(base)) as store:
        assert [r.content for r in store.export()] == ["Daughter Emma starts school in September"]


def test_key_value_round_trip(http: httpx.Client, base: Path) -> None:
    for key, value in [("remember_this", "the milk"), ("user/42/prefs", {"tea": True, "n": [1, None]}),
                       ("zero", 0), ("empty", ""), ("nothing", None), ("no", False)]:
        assert http.put(f"/v1/kv/bot/{key}", json={"data": value}).json() == {
            "namespace": "bot", "key": key, "stored": True}
        assert http.get(f"/v1/kv/bot/{key}").json()["data"] == value
    assert http.get("/v1/kv/bot").json()["keys"] == sorted(
        ["remember_this", "user/42/prefs", "zero", "empty", "nothing", "no"])
    assert Memory("bot", base_path=str(base)).get("user/42/prefs") == {"tea": True, "n": [1, None]}
    assert http.delete("/v1/kv/bot/remember_this").json()["deleted"] is True
    assert http.delete("/v1/kv/bot/remember_this").json()["deleted"] is False
    missing = http.get("/v1/kv/bot/remember_this")
    assert missing.status_code == 404
    assert missing.json()["error"] == {
        "type": "KeyNotFoundError", "message": "no value for key 'remember_this' in namespace 'bot'"}


BAD_INPUT = [
    ("POST", "/v1/personas/ada/memories", {"json": {"content": "x", "importance": 1.5}}, "importance"),
    ("POST", "/v1/personas/ada/memories", {"json": {"content": "   "}}, "content"),
    ("POST", "/v1/personas/ada/memories", {"json": {"content": "x", "type": "gossip"}}, "type"),
    ("POST", "/v1/personas/ada/memories", {"json": {"content": "x", "tag": ["misspelt"]}}, "tag"),
    ("POST", "/v1/personas/ada/memories", {"json": {"tags": ["no content"]}}, "content"),
    ("POST", "/v1/personas/ada/memories", {"json": {"content": "x", "at": "last tuesday"}}, "at"),
    ("POST", "/v1/personas/ada/memories", {"content": b"{not json", "headers": {"content-type": "application/json"}}, "body"),
    ("POST", "/v1/personas/ada/memories", {"data": {"content": "a form post"}}, "body"),
    ("GET", "/v1/personas/ada/memories", {"params": {"limit": 0}}, "limit"),
    ("GET", "/v1/personas/ada/memories", {"params": {"limit": "ten"}}, "limit"),
    ("GET", "/v1/personas/ada/memories", {"params": {"match": "some"}}, "match"),
    ("GET", "/v1/personas/ada/memories", {"params": {"since": "2025-01-02", "until": "2025-01-01"}}, "until"),
    ("GET", "/v1/personas/ada/search", {}, "query"),
    ("GET", "/v1/personas/..evil/stats", {}, "persona"),
    ("PATCH", "/v1/personas/ada/memories/mem_0000000000000000", {"json": {}}, "update"),
    ("PUT", "/v1/kv/bot/k", {"json": {"data": 1, "ttl": -5}}, "ttl"),
    ("PUT", "/v1/kv/bot/k", {"json": {"ttl": 5}}, "data"),
    ("PUT", "/v1/kv/bot/" + "k" * 2000, {"json": {"data": 1}}, "key"),
    ("GET", "/v1/kv/" + "n" * 300, {}, "namespace"),
]


@pytest.mark.parametrize(("method", "path", "request_args", "argument"), BAD_INPUT,
                         ids=[f"{m} {a}" for m, _p, _r, a in BAD_INPUT])
def test_bad_input_is_400_naming_the_argument(
    http: httpx.Client, method: str, path: str, request_args: dict[str, Any], argument: str
) -> None:
    response = http.request(method, path, **request_args)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] in ("InvalidInputError", "ConfigError")
    assert argument in error["message"]
    if error["type"] == "InvalidInputError":
        assert error["argument"] == argument


def test_form_posts_are_told_to_send_json(http: httpx.Client) -> None:
    # what a cross-site form can send; FastAPI parses a body only when it is declared JSON
    error = http.post("/v1/personas/ada/memories", data={"content": "x"}).json()["error"]
    assert "Content-Type: application/json" in error["message"]


def test_unknown_ids_keys_and_routes_are_404(http: httpx.Client) -> None:
    for method, path in [("GET", "/v1/personas/ada/memories/mem_0000000000000000"),
                         ("DELETE", "/v1/personas/ada/memories/mem_0000000000000000"),
                         ("PATCH", "/v1/personas/ada/memories/mem_0000000000000000"),
                         ("GET", "/v1/kv/bot/never-stored"), ("GET", "/v1/nothing-here")]:
        response = http.request(method, path, json={"content": "x"} if method == "PATCH" else None)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["message"]
    assert http.get("/v1/personas/ada/memories/mem_0000000000000000").json()["error"]["type"] == "MemoryNotFoundError"
    not_allowed = http.request("TRACE", "/v1/personas/ada/stats")
    assert not_allowed.status_code == 405 and not_allowed.headers["allow"] == "GET"


def test_oversized_bodies_are_413(http: httpx.Client) -> None:
    big = {"content": "x", "metadata": {"blob": "y" * (2 << 20)}}
    declared = http.post("/v1/personas/ada/memories", json=big)
    assert declared.status_code == 413 and declared.json()["error"]["type"] == "PayloadTooLarge"

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit applies while the body streams in
        yield b'{"data": "'
        for _ in range(64):
            yield b"z" * 32768
        yield b'"}'

    streamed = http.put("/v1/kv/bot/big", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert http.get("/v1/kv/bot/big").status_code == 404


def test_only_loopback_host_names_are_answered(http: httpx.Client) -> None:
    # a web page using DNS rebinding sends its own host name
    refused = http.get("/v1/personas/ada/stats", headers={"host": "attacker.example:8765"})
    assert refused.status_code == 403
    assert http.get("/v1/personas/ada/stats", headers={"host": "localhost"}).status_code == 200


def test_openapi_document_describes_every_operation(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    operations = {op["operationId"]: op for path in document["paths"].values() for op in path.values()}
    assert {op.name for op in OPERATIONS} <= set(operations)
    for op in OPERATIONS:
        spec = operations[op.name]
        assert "422" not in spec["responses"] and "400" in spec["responses"]
        for parameter in spec.get("parameters", []):
            assert parameter["description"], (op.name, parameter["name"])
        body = spec.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if body:
            name = body["$ref"].rsplit("/", 1)[1]
            for field, schema in document["components"]["schemas"][name]["properties"].items():
                assert schema["description"], (op.name, field)
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


# ---- tokens ----


def test_a_token_is_checked_on_every_request(tmp_path: Path) -> None:
    env = pmem_env(tmp_path / "base", MEMORY_API_KEY="s3cret-server-token")
    with running_server(tmp_path / "base", env=env) as server, server.client() as http:
        assert http.get("/health").status_code == 200  # liveness needs no token
        for op in OPERATIONS:
            method, path = op.http
            path = path.format(persona="ada", id="mem_0000000000000000", namespace="bot", key="k")
            for headers in ({}, {"authorization": "Bearer wrong"}, {"authorization": "s3cret-server-token"}):
                response = http.request(method, path, headers=headers)
                assert response.status_code == 401, (op.name, headers, response.text)
                assert response.headers["www-authenticate"] == "Bearer"
                assert response.json()["error"]["type"] == "Unauthorized"
        good = {"authorization": "Bearer s3cret-server-token"}
        assert http.post("/v1/personas/ada/memories", json={"content": "x"}, headers=good).status_code == 201
        assert http.get("/v1/kv/bot", headers=good).status_code == 200


def test_a_persona_token_cannot_reach_another_persona(tmp_path: Path) -> None:
    env = pmem_env(tmp_path / "base", MEMORY_API_KEY="server-token",
                   PMEM_PERSONA_TOKENS="ada=ada-token bob=bob-token")
    with running_server(tmp_path / "base", env=env) as server, server.client() as http:
        def call(token: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
            return http.request(method, path, headers={"authorization": f"Bearer {token}"}, **kwargs)

        secret = call("bob-token", "POST", "/v1/personas/bob/memories", json={"content": "Bob's secret plan"}).json()
        assert call("ada-token", "POST", "/v1/personas/ada/memories", json={"content": "ada's note"}).status_code == 201
        for method, path in [("GET", "/v1/personas/bob/memories"), ("GET", "/v1/personas/bob/export"),
                             ("GET", f"/v1/personas/bob/memories/{secret['id']}"),
                             ("GET", "/v1/personas/bob/search?query=plan"), ("GET", "/v1/personas/bob/stats"),
                             ("DELETE", f"/v1/personas/bob/memories/{secret['id']}"), ("GET", "/v1/kv/bot")]:
            denied = call("ada-token", method, path)
            assert denied.status_code == 403, (path, denied.text)
            assert "Bob's secret" not in denied.text and "ada" in denied.json()["error"]["message"]
        assert call("ada-token", "GET", "/v1/personas/ada/stats").json()["total"] == 1
        assert call("bob-token", "GET", f"/v1/personas/bob/memories/{secret['id']}").status_code == 200
        assert call("server-token", "GET", "/v1/personas/bob/stats").json()["total"] == 1
        assert call("server-token", "GET", "/v1/kv/bot").status_code == 200


def test_binding_beyond_loopback_needs_a_token(tmp_path: Path) -> None:
    refused = subprocess.run(
        [sys.executable, "-m", "persona_memory", "serve", "--host", "0.0.0.0", "--port", "1"],
        cwd=ROOT, env=pmem_env(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert refused.returncode == 2
    assert "MEMORY_API_KEY" in refused.stderr and "Traceback" not in refused.stderr
    bad_token = subprocess.run(
        [sys.executable, "-m", "persona_memory", "serve", "--persona-token", "ada", "--port", "1"],
        cwd=ROOT, env=pmem_env(tmp_path), capture_output=True, text=True, timeout=60,
    )
    assert bad_token.returncode == 2 and "SLUG=TOKEN" in bad_token.stderr


# ---- the memory browser's page (driven in a real browser by tests/test_ui.py) ----


def test_pmem_ui_serves_a_self_contained_page(tmp_path: Path) -> None:
    import re

    from tests.helpers.servers import free_port, wait_until_up

    port = free_port()
    ui = subprocess.Popen(
        [sys.executable, "-m", "persona_memory", "ui", "--no-open", "--port", str(port), "--persona", "ada"],
        cwd=ROOT, env=pmem_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_up(url + "/health", ui)
        assert ui.stdout is not None
        assert ui.stdout.readline().strip() == f"persona-memory browser on {url}/ui/?persona=ada"
        page = httpx.get(url + "/", follow_redirects=True)
        assert page.status_code == 200 and page.url.path == "/ui/"
        assert "default-src 'self'" in page.headers["content-security-policy"]
        for asset in ("app.js", "app.css"):
            assert httpx.get(f"{url}/ui/{asset}").status_code == 200
        # nothing is loaded from elsewhere: no absolute URL but the SVG namespace name
        for text in (page.text, httpx.get(url + "/ui/app.js").text, httpx.get(url + "/ui/app.css").text):
            assert set(re.findall(r"https?://[^\s\"')]+", text)) <= {"http://www.w3.org/2000/svg"}
        assert httpx.get(url + "/v1/personas").json() == {"personas": []}
    finally:
        ui.terminate()
        ui.communicate(timeout=15)
