"""Benchmark: KeyBERT candidate extraction on the 585 real rated CVs, on CPU with the packaged MiniLM.

    .venv/bin/python benchmarks/annotation_keybert.py [--limit N] [--out /tmp/keybert_candidates.parquet]

Prints one JSON line (seconds per stage, CVs/s, vocabulary size, machine load) and writes the candidates
(item_id, phrase, keybert_score, rank) for benchmarks/annotation_keyword_validation.py to reuse.
Reads ../shared/data (the real public data); writes nothing into the repository.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import polars as pl

from workforce_assets.annotation.embeddings import choose_backend
from workforce_assets.annotation.keyword_learning import KeywordLearningConfig, extract_keybert_candidates

REPO = Path(__file__).resolve().parent.parent
RATED = REPO.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=int, default=None, help="only the first N CVs (smoke run)")
    parser.add_argument("--out", type=Path, default=Path("/tmp/workforce_keybert_candidates.parquet"))
    args = parser.parse_args()

    rated = pl.read_csv(RATED).select(pl.col("cv_id").alias("item_id"), pl.col("cv_text").alias("text"))
    if args.limit:
        rated = rated.head(args.limit)
    config = KeywordLearningConfig()
    load_avg_before = os.getloadavg()

    started = time.perf_counter()
    choice = choose_backend()
    model = choice.backend.keybert_model()
    model.encode(["warm up"])  # load weights before timing extraction
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    candidates = extract_keybert_candidates(rated, model, config)
    extract_s = time.perf_counter() - started
    candidates.write_parquet(args.out)

    import torch

    print(json.dumps({
        "benchmark": "keybert_extraction",
        "n_cvs": rated.height,
        "n_chars_total": int(rated["text"].str.len_chars().sum()),
        "backend": choice.metadata,
        "config": {"ngram_range": config.ngram_range, "top_n": config.top_n, "use_mmr": config.use_mmr,
                   "diversity": config.diversity, "candidate_min_df": config.min_doc_freq},
        "model_load_s": round(load_s, 2),
        "extract_s": round(extract_s, 2),
        "cvs_per_s": round(rated.height / extract_s, 2),
        "n_candidate_rows": candidates.height,
        "n_distinct_phrases_kept": candidates["phrase"].n_unique(),
        "torch_threads": torch.get_num_threads(),
        "cpu_count": os.cpu_count(),
        "load_avg_before": [round(x, 2) for x in load_avg_before],
        "load_avg_after": [round(x, 2) for x in os.getloadavg()],
        "python": platform.python_version(),
        "out": str(args.out),
    }))


if __name__ == "__main__":
    main()
