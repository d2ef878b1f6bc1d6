"""The embedder contract: text in, unit-length float32 vectors out.

An embedder turns memories (documents) and questions (queries) into vectors of one fixed
``dimension``; cosine similarity between them says how related they are. The store records
``id`` and ``dimension`` and refuses to mix vectors of two embedders (see
:mod:`persona_memory.embedders`).

Write your own by implementing :class:`Embedder`::

    class MyEmbedder:
        id = "my-model-v1"          # changes whenever the vectors would change
        dimension = 384

        def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...  # (len(texts), 384)
        def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...

An embedder whose calls wait on I/O (an HTTP service) may also offer ``aembed_documents`` /
``aembed_queries`` coroutines; async stores then await them instead of blocking the event loop.
It may also set ``min_similarity``: the cosine below which a memory found only by its vector
is not worth showing (the default embedder uses 0.2; without it, 0.0).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np

from ..errors import EmbedderError


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension.

    Both methods return an array of shape ``(len(texts), dimension)``; a text with nothing to
    embed (no known token) gets a zero row. They raise
    :class:`~persona_memory.errors.EmbedderError` (or any exception) when embedding fails;
    the store then keeps the memory without a vector until ``pmem reindex``.
    """

    @property
    def id(self) -> str:
        """Names the model and everything that changes its vectors (recorded in the store)."""
        ...

    @property
    def dimension(self) -> int:
        """Length of every vector."""
        ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for texts to be stored and searched later."""
        ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors for search queries (some models embed questions differently)."""
        ...


def checked(vectors: object, count: int, dimension: int, who: str) -> np.ndarray:
    """``vectors`` as a ``(count, dimension)`` float32 array of unit (or zero) rows.

    Guards the store against a misbehaving embedder: wrong shapes, NaNs, unnormalised rows.
    """
    try:
        array = np.asarray(vectors, dtype=np.float32)
    except (TypeError, ValueError) as exc:
        raise EmbedderError(f"{who} returned something that is not a matrix of numbers ({exc})") from exc
    if array.shape != (count, dimension):
        raise EmbedderError(
            f"{who} returned an array of shape {array.shape}; expected ({count}, {dimension})"
        )
    squares = np.einsum("ij,ij->i", array, array)
    if not np.isfinite(squares).all():  # a NaN or infinity anywhere shows in its row's norm
        raise EmbedderError(f"{who} returned NaN or infinite values")
    if np.all((np.abs(squares - 1.0) < 1e-4) | (squares == 0.0)):
        return array  # already unit rows: the common case, keep it cheap
    norms = np.sqrt(squares)[:, None]
    unit: np.ndarray = np.divide(array, norms, out=np.zeros_like(array), where=norms > 0)
    return unit
