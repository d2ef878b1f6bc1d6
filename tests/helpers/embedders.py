"""Embedders for tests: real implementations of the Embedder protocol, small and explicit.

``HashingEmbedder`` is a second, genuinely different embedder (feature hashing of words), used
to check that a store refuses to mix vectors of two models. ``FlakyEmbedder`` wraps the real
default embedder and fails while ``broken`` is set, the way a remote embedding service goes down.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from persona_memory.embedders import StaticEmbedder


class HashingEmbedder:
    def __init__(self, dimension: int = 64) -> None:
        self.dimension = dimension
        self.id = f"test-hashing-{dimension}"

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % self.dimension] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return np.divide(out, norms, out=np.zeros_like(out), where=norms > 0)

    embed_documents = _embed
    embed_queries = _embed


class FlakyEmbedder:
    def __init__(self) -> None:
        self.inner = StaticEmbedder()
        self.id = self.inner.id
        self.dimension = self.inner.dimension
        self.broken = False
        self.calls = 0

    def _check(self) -> None:
        self.calls += 1
        if self.broken:
            raise ConnectionError("embedding service unreachable")

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        self._check()
        return self.inner.embed_documents(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        self._check()
        return self.inner.embed_queries(texts)


class WrongShapeEmbedder(HashingEmbedder):
    """Returns one dimension too few: the store must not accept such vectors."""

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return super()._embed(texts)[:, :-1]

    embed_documents = _embed
    embed_queries = _embed
