"""The default embedder: a static (token-lookup) model shipped inside the package.

Each WordPiece token has one precomputed vector, distilled from all-MiniLM-L6-v2 with
model2vec (see ``data/minilm-static/NOTICE`` and ``scripts/build_static_embedder.py``). A text's
vector is the mean of its tokens' vectors, L2-normalised: no neural network runs, so embedding
costs microseconds, needs only numpy and ``tokenizers``, and never touches the network.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import EmbedderError

DATA_DIR = Path(__file__).resolve().parent / "data"
DEFAULT_MODEL = DATA_DIR / "minilm-static"
#: Tokens per text considered (long texts are cut); memories are short.
MAX_TOKENS = 512
#: Below this cosine a memory found only by its vector is not shown. With this model, one-word
#: queries score 0.3-0.5 against related memories and below 0.2 against unrelated ones; on
#: LoCoMo 99 % of question/evidence pairs score above 0.28 (unrelated turns 0.2-0.6: whole
#: questions share function words with everything, so the floor only removes plain noise).
MIN_SIMILARITY = 0.2


class StaticEmbedder:
    """Mean of per-token vectors from a model directory holding ``manifest.json``,
    ``tokenizer.json``, ``embeddings.npy`` (int8 rows) and ``scales.npy`` (one per row).

    Loading is lazy (first embed call) and thread-safe; instances of the same directory share
    one loaded copy per process.
    """

    def __init__(self, path: str | Path = DEFAULT_MODEL) -> None:
        self.path = Path(path)
        try:
            manifest: dict[str, Any] = json.loads((self.path / "manifest.json").read_text("utf-8"))
            self.dimension: int = int(manifest["dimension"])
            digest = manifest["files"]["embeddings.npy"]
        except (OSError, ValueError, KeyError) as exc:
            raise EmbedderError(f"no usable static model in {self.path} ({exc})") from exc
        # the content hash is part of the id: a rebuilt model means re-embedding
        self.id: str = f"static:{manifest['name']}-{self.dimension}:{digest[:12]}"
        self.min_similarity = MIN_SIMILARITY

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        tokenizer, table, unk = _load(self.path)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        encodings = tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        ids_per_text = [[i for i in e.ids if i != unk][:MAX_TOKENS] for e in encodings]
        lengths = np.fromiter((len(ids) for ids in ids_per_text), dtype=np.int64, count=len(texts))
        nonempty = lengths > 0
        if not nonempty.any():
            return out
        flat = np.fromiter((i for ids in ids_per_text for i in ids), dtype=np.int64, count=int(lengths.sum()))
        starts = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        # sum each text's rows in one pass; the mean's 1/n cancels in the normalisation
        sums = np.add.reduceat(table[flat], starts[nonempty], axis=0)
        norms = np.linalg.norm(sums, axis=1, keepdims=True)
        out[nonempty] = np.divide(sums, norms, out=np.zeros_like(sums), where=norms > 0)
        return out

    def __repr__(self) -> str:
        return f"<StaticEmbedder {self.id}>"


_LOCK = threading.Lock()


@cache
def _load_locked(path: Path) -> tuple[Any, np.ndarray, int]:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        q = np.load(path / "embeddings.npy", allow_pickle=False)
        scales = np.load(path / "scales.npy", allow_pickle=False)
    except Exception as exc:  # any parse/IO failure of the model files
        raise EmbedderError(f"cannot load the static model in {path}: {exc}") from exc
    tokenizer.no_padding()
    tokenizer.no_truncation()
    table = q.astype(np.float32) * scales.astype(np.float32)[:, None]
    unk = tokenizer.token_to_id("[UNK]")
    return tokenizer, table, -1 if unk is None else unk


def _load(path: Path) -> tuple[Any, np.ndarray, int]:
    with _LOCK:  # functools.cache does not stop two threads loading at once
        return _load_locked(path)

