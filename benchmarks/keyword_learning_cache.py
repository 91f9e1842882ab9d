"""Keyword learning on the 585 real rated CVs: cold, rerun with nothing changed, and ten CVs added.

Embeddings are cached by text content (``CachedEmbeddingBackend``) and KeyBERT's candidates by the content
of the whole CV set, so a rerun runs neither the model nor KeyBERT, and ten new CVs embed only those CVs and
the candidate phrases not seen before. Each step in this process, with the
packaged MiniLM on the CPU, the cache in a fresh temporary folder:

    .venv/bin/python benchmarks/keyword_learning_cache.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import polars as pl

from workforce_assets.annotation import keyword_learning
from workforce_assets.annotation.embeddings import CachedEmbeddingBackend, LocalSentenceTransformerBackend

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"


def learn(rated: pl.DataFrame, cache_dir: Path) -> dict:
    started = time.perf_counter()
    backend = LocalSentenceTransformerBackend()  # the model loads lazily: never, when every vector is cached
    with CachedEmbeddingBackend(backend, cache_dir) as cached:
        candidates = keyword_learning.extract_keybert_candidates(rated, cached.keybert_model(), cache_dir=cache_dir,
                                                                 model_name=cached.model_name)
    extracted = time.perf_counter()
    keyword_learning.cross_validate_keywords(rated, candidates)
    return {"cvs": rated.height, "extract_s": round(extracted - started, 2),
            "learn_total_s": round(time.perf_counter() - started, 2), "embedded": cached.n_embedded,
            "from_cache": cached.n_cached, "model_loaded": backend._model is not None}


def main() -> None:
    source = pl.read_csv(DATA).select(pl.col("cv_id").cast(pl.Utf8).alias("item_id"),
                                      pl.col("cv_text").alias("text"), "is_ml_expert")
    rest = source.tail(source.height - 10)  # the first ten CVs are held back and added in the last step
    with tempfile.TemporaryDirectory() as folder:
        cache = Path(folder)
        for step, rated in (("cold", rest), ("rerun, nothing changed", rest), ("ten CVs added", source)):
            print(json.dumps({"step": step, **learn(rated, cache)}))


if __name__ == "__main__":
    main()
