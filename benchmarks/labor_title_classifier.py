"""Held-out accuracy of the job title -> SOC occupation classifier on the real DOL files (issue 12).

Every record with both a title and a SOC code is predicted by a model trained without its employer
(5-fold GroupKFold by employer); accuracy at the detailed, broad and major SOC level against the
exact-title baseline, and the calibration of the detailed confidence (10 bins, expected calibration error).

    .venv/bin/python benchmarks/labor_title_classifier.py                       # both candidate classifiers
    .venv/bin/python benchmarks/labor_title_classifier.py --classifiers naive_bayes --folds 3
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)
from workforce_assets.ingestion.jobs import load_job_records
from workforce_assets.labor.occupations import CLASSIFIERS, evaluate_title_classifier
from workforce_assets.labor.roles import clean_title, normalise_soc

REPO = Path(__file__).resolve().parent.parent
JOBS = REPO.parent / "shared" / "data" / "jobs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--classifiers", nargs="+", default=list(CLASSIFIERS), choices=CLASSIFIERS)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    loaded = load_job_records(sorted(p for p in JOBS.rglob("*") if p.is_file()))
    jobs = loaded.rows.with_columns(title=clean_title(pl.col("job_title")), soc=normalise_soc(pl.col("soc_code")))
    labelled = jobs.filter(pl.col("soc").is_not_null() & (pl.col("title").fill_null("") != ""))
    print(f"{jobs.height:,} records, {labelled.height:,} with a title and a SOC code; "
          f"{labelled['soc'].n_unique()} occupations, {labelled['title'].n_unique():,} distinct titles, "
          f"{labelled['employer_key'].n_unique():,} employers\n")
    for classifier in args.classifiers:
        started = time.perf_counter()
        accuracy, reliability = evaluate_title_classifier(
            labelled["title"].to_list(), labelled["soc"].to_list(), labelled["employer_key"].to_list(),
            classifier=classifier, n_folds=args.folds)
        print(f"### {classifier} ({args.folds} employer-grouped folds, {time.perf_counter() - started:.0f} s)\n")
        print(markdown(accuracy))
        print(f"\nCalibration of the detailed confidence (expected calibration error {reliability['ece'][0]:.3f}):\n")
        print(markdown(reliability.drop("ece")))
        print()


if __name__ == "__main__":
    main()
