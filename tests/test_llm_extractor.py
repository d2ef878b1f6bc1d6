"""The LLM extractor against a local stand-in for an OpenAI-compatible chat endpoint.

No LLM service is reachable here, so the server below STANDS IN for one: a real HTTP server
on 127.0.0.1 that answers ``POST /v1/chat/completions`` with canned chat-completion bodies and
records what it was sent. The extractor, httpx and the store are the real ones.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from persona_memory import (
    AsyncLLMExtractor,
    AsyncPersonaStore,
    FallbackWarning,
    LLMExtractor,
    MemoryType,
    PersonaStore,
)

API_KEY = "sk-standin-not-a-real-key-000"


class StandIn:
    """State of the stand-in server: what to answer, and what it received."""

    def __init__(self) -> None:
        self.mode = "ok"
        self.requests: list[dict[str, Any]] = []


def answer(memories: list[dict[str, Any]]) -> bytes:
    content = json.dumps({"memories": memories})
    return json.dumps({"id": "standin-1", "object": "chat.completion",
                       "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                                    "finish_reason": "stop"}]}).encode()


@pytest.fixture
def standin() -> Iterator[tuple[str, StandIn]]:
    state = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            if state.mode == "error":
                self.send_response(500)
                self.end_headers()
                return
            if state.mode == "garbage":
                payload = json.dumps({"choices": [{"message": {"content": "Sure! Here are memories:"}}]}).encode()
            else:
                payload = answer([{"content": "The user adopted a cat named Miso", "type": "milestone",
                                   "importance": 0.85, "tags": ["pets", "miso"]}])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", state
    server.shutdown()
    server.server_close()
    thread.join()


def test_llm_extractor_stores_what_the_model_proposes(standin: tuple[str, StandIn], tmp_path: Path) -> None:
    url, state = standin
    extractor = LLMExtractor(url, api_key=API_KEY, model="stand-in-model")
    with PersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}", extractor=extractor) as store:
        decision = store.observe("I adopted a cat today, her name is Miso")
        (record,) = decision.stored
        assert decision.extractor == "llm"
        assert record.content == "The user adopted a cat named Miso"
        assert record.type is MemoryType.MILESTONE and record.importance == 0.85
        assert record.tags == ("pets", "miso") and record.metadata["rule"] == "llm"
        (request,) = state.requests
        assert request["path"] == "/v1/chat/completions"
        assert request["auth"] == f"Bearer {API_KEY}"
        assert request["body"]["model"] == "stand-in-model"
        assert request["body"]["response_format"] == {"type": "json_object"}
        assert "her name is Miso" in request["body"]["messages"][-1]["content"]
        # secrets, private turns and filler never reach the model
        for text in ("my password is hunter2", "between us, I hate my boss", "thanks!"):
            assert store.observe(text).reason in ("secret", "private", "filler")
        assert len(state.requests) == 1
    extractor.close()


@pytest.mark.parametrize("mode", ["error", "garbage"])
def test_a_failing_endpoint_falls_back_to_the_rules(standin: tuple[str, StandIn], tmp_path: Path, mode: str) -> None:
    url, state = standin
    state.mode = mode
    extractor = LLMExtractor(url, api_key=API_KEY)
    with PersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}", extractor=extractor) as store:
        with pytest.warns(FallbackWarning) as warned:
            decision = store.observe("I'm vegetarian")
        assert API_KEY not in str(warned[0].message)
        assert decision.extractor == "rules (fallback from llm)"
        assert decision.stored[0].type is MemoryType.PREFERENCE
    extractor.close()


def test_an_unreachable_endpoint_falls_back_too(tmp_path: Path) -> None:
    extractor = LLMExtractor("http://127.0.0.1:9/v1", api_key=API_KEY, timeout=2)
    with PersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}", extractor=extractor) as store, \
            pytest.warns(FallbackWarning, match="did not answer"):
        assert store.observe("My sister lives in Oslo").reason == "stored"
    extractor.close()


async def test_async_llm_extractor(standin: tuple[str, StandIn], tmp_path: Path) -> None:
    url, state = standin
    extractor = AsyncLLMExtractor(url, api_key=API_KEY)
    store = AsyncPersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}", extractor=extractor)
    decision = await store.observe("I adopted a cat")
    assert decision.stored[0].content == "The user adopted a cat named Miso"
    assert len(state.requests) == 1
    await store.aclose()
    await extractor.aclose()


def test_bad_url_is_refused() -> None:
    with pytest.raises(ValueError, match="url"):
        LLMExtractor("ftp://example.invalid")
