"""Validation of the keyword filters on the 585 real rated CVs (numbers for docs/validation.md).

    .venv/bin/python benchmarks/annotation_keyword_validation.py [--candidates PATH] [--folds 5] [--seed 0]

1. The reference filters computed by our code vs the published filter columns: agreement per filter.
2. The reference filters' sensitivity/specificity (in-sample for the original study: its lists were
   learned from 421 of these CVs).
3. Learned filters: k-fold held-out sensitivity/specificity next to in-sample, with Wilson 95% intervals,
   per-fold spread, and how stable the learned terms are across folds.

KeyBERT candidates come from benchmarks/annotation_keybert.py (its --out file); when the file is absent
they are extracted here with the local model (about 5 minutes on 2 busy CPU cores).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import polars as pl

from workforce_assets.annotation.keyword_learning import (
    KeywordLearningConfig,
    cross_validate_keywords,
    extract_keybert_candidates,
    filter_accuracy,
    reference_agreement,
)
from workforce_assets.annotation.keywords import REFERENCE_KEYWORDS, apply_keyword_filters

REPO = Path(__file__).resolve().parent.parent
RATED = REPO.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"


def _markdown(frame: pl.DataFrame, digits: int = 3) -> str:
    frame = frame.with_columns(pl.col(pl.Float64).round(digits))
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * frame.width]
    lines += ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.iter_rows()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--candidates", type=Path, default=Path("/tmp/workforce_keybert_candidates.parquet"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rated = pl.read_csv(RATED).rename({"cv_id": "item_id", "cv_text": "text"})
    config = KeywordLearningConfig()
    if args.candidates.exists():
        candidates = pl.read_parquet(args.candidates)
    else:
        from workforce_assets.annotation.embeddings import choose_backend

        candidates = extract_keybert_candidates(rated, choose_backend().backend.keybert_model(), config)
        candidates.write_parquet(args.candidates)

    agreement = reference_agreement(rated)
    reference = filter_accuracy(rated, apply_keyword_filters(rated, REFERENCE_KEYWORDS))
    started = time.perf_counter()
    result = cross_validate_keywords(rated, candidates, config, n_folds=args.folds, seed=args.seed)
    cv_s = time.perf_counter() - started
    spread = result.folds.group_by("filter").agg(
        pl.col("sensitivity").std().alias("sensitivity_sd_across_folds"),
        pl.col("specificity").std().alias("specificity_sd_across_folds")).sort("filter")
    stability = result.term_stability.group_by("group", "n_folds").len().sort("group", "n_folds", descending=[False, True])

    print("## reference filters vs published columns\n" + _markdown(agreement))
    print("\n## reference filters, accuracy on the 585 rated CVs\n" + _markdown(
        reference.select("filter", "tp", "fn", "tn", "fp", "sensitivity", "sensitivity_lo", "sensitivity_hi",
                         "specificity", "specificity_lo", "specificity_hi")))
    print(f"\n## learned filters: {args.folds}-fold held-out vs in-sample (seed {args.seed}, {cv_s:.1f} s)\n"
          + _markdown(result.summary))
    print("\n## spread across folds\n" + _markdown(spread))
    print("\n## learned terms: number of folds (of %d) that chose each term\n" % args.folds + _markdown(stability))
    final = result.final.keyword_set
    print("\n## final learned set (all 585 CVs)\n" + json.dumps(final.to_dict(), indent=1))


if __name__ == "__main__":
    main()
