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
        if len(texts) == 1:  # the common case (one memory, one query): no batch machinery
            encodings = [tokenizer.encode(texts[0], add_special_tokens=False)]
        else:
            encodings = tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        for row, encoding in enumerate(encodings):
            ids = [i for i in encoding.ids if i != unk][:MAX_TOKENS]
            if ids:
                # the mean's 1/n cancels in the normalisation
                total = table[ids].sum(axis=0)
                norm = float(np.sqrt(total @ total))
                if norm > 0:
                    out[row] = total / norm
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


_LOADED: dict[Path, tuple[Any, np.ndarray, int]] = {}


def _load(path: Path) -> tuple[Any, np.ndarray, int]:
    loaded = _LOADED.get(path)
    if loaded is None:
        with _LOCK:  # functools.cache does not stop two threads loading at once
            loaded = _LOADED[path] = _load_locked(path)
    return loaded

