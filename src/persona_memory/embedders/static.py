"""The default embedder: a static (token-lookup) model shipped inside the package.

Each WordPiece token has one precomputed vector, distilled from all-MiniLM-L6-v2 with
model2vec (see ``data/minilm-static/NOTICE`` and ``scripts/build_static_embedder.py``). A text's
vector is the mean of its tokens' vectors, L2-normalised: no neural network runs, so embedding
costs microseconds, needs only numpy and ``tokenizers``, and never touches the network.
"""

from __future__ import annotations

import json
import re
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
        model = _load(self.path)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            ids = model.token_ids(text)
            if ids:
                # the mean's 1/n cancels in the normalisation
                total = model.table[ids].sum(axis=0)
                norm = float(np.sqrt(total @ total))
                if norm > 0:
                    out[row] = total / norm
        return out

    def __repr__(self) -> str:
        return f"<StaticEmbedder {self.id}>"


class _Model:
    """A loaded static model: the token table and a tokenizer with a per-word cache.

    WordPiece never joins text across whitespace, so tokenizing each whitespace-separated
    chunk on its own gives exactly the ids of the whole text (checked on LoCoMo in the tests);
    chat reuses words, so most chunks come from the cache: 10x less time than a call into
    ``tokenizers`` per text.
    """

    def __init__(self, tokenizer: Any, table: np.ndarray, unk: int) -> None:
        self.tokenizer = tokenizer
        self.table = table
        self.unk = unk
        self._cache: dict[str, list[int]] = {}

    def token_ids(self, text: str) -> list[int]:
        chunks = text.split()
        known = [self._cache.get(chunk) for chunk in chunks]
        if any(ids is None for ids in known):
            learned = self._learn(text)  # its own copy: another thread may clear the cache
            known = [learned[chunk] for chunk in chunks]
        ids: list[int] = []
        for chunk_ids in known:
            ids.extend(chunk_ids)  # type: ignore[arg-type]
            if len(ids) >= MAX_TOKENS:
                return ids[:MAX_TOKENS]
        return ids

    def _learn(self, text: str) -> dict[str, list[int]]:
        """Tokenize ``text`` once; remember and return the ids of each of its chunks (by offsets)."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        spans = [(m.end(), m.group()) for m in _CHUNK.finditer(text)]
        tokens: list[list[int]] = [[] for _span in spans]
        span = 0
        for token, (start, _end) in zip(encoding.ids, encoding.offsets, strict=True):
            while span < len(spans) and start >= spans[span][0]:
                span += 1
            if span < len(spans) and token != self.unk:
                tokens[span].append(token)
        learned = {chunk: ids for (_end, chunk), ids in zip(spans, tokens, strict=True)}
        if len(self._cache) >= _CACHE_WORDS:
            self._cache.clear()  # crude but bounded; refills with the words in use
        self._cache.update(learned)
        return learned


_CHUNK = re.compile(r"\S+")
_CACHE_WORDS = 200_000
_LOCK = threading.Lock()


@cache
def _load_locked(path: Path) -> _Model:
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
    return _Model(tokenizer, table, -1 if unk is None else unk)


_LOADED: dict[Path, _Model] = {}


def _load(path: Path) -> _Model:
    loaded = _LOADED.get(path)
    if loaded is None:
        with _LOCK:  # functools.cache does not stop two threads loading at once
            loaded = _LOADED[path] = _load_locked(path)
    return loaded
