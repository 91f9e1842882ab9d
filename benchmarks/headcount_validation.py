"""Held-out validation and real-data results for headcount inference (prints markdown for the docs).

1. annotator parameters on the rated CVs (Wilson 80% intervals);
2. 5-fold cross-validated accuracy / log-loss / Brier: majority vote, independent Dawid-Skene, probit,
   log-linear, saturated (two CV seeds);
3. the original log-debias reproduced on company_aggregates.csv, and the Rogan-Gladen corrected variant;
4. the real 12-lab set (comparator_ml_*.csv): timing with 1,000 draws, per-company results, totals from
   summed draws, and what aligning annotators by position (the original's defect) does.

    .venv/bin/python benchmarks/headcount_validation.py [--figures DIR]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import polars as pl

from workforce_assets.headcount.annotator_models import make_model
from workforce_assets.headcount.calibrated_debias import rogan_gladen_consensus
from workforce_assets.headcount.log_debias import log_debias, method_biases
from workforce_assets.headcount.parameters import annotator_parameters
from workforce_assets.headcount.posterior import estimate_company_headcounts, totals
from workforce_assets.headcount.validation import cross_validated_scores
from markdown_table import markdown  # benchmarks/markdown_table.py (the script's folder is on sys.path)

REPO = Path(__file__).resolve().parent.parent
DATA = REPO.parent / "shared" / "data" / "annotations"
ANNOTATORS = ["llm_gemini-2.5-flash", "llm_sonnet-4", "llm_gpt-5-mini", "filter_broad_yes", "filter_strict_no",
              "filter_broad_yes_strict_no"]
FILTERS = ["filter_broad_yes", "filter_strict_no", "filter_broad_yes_strict_no"]
LLM_COUNTS = {"claude_total_accepted": ("llm_sonnet-4", "claude_total_employees"),
              "gpt5_total_accepted": ("llm_gpt-5-mini", "gpt5_total_employees"),
              "gemini_total_accepted": ("llm_gemini-2.5-flash", "gemini_total_employees")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--figures", type=Path, help="directory for the HTML figures of the 12-lab results")
    args = parser.parse_args()
    rated = pl.read_csv(DATA / "validation_annotations.csv").drop("cv_text")

    print("### Annotator parameters (rated CVs, Wilson 80% intervals)\n")
    parameters = annotator_parameters(rated, ANNOTATORS)
    print(markdown(parameters))

    print("\n### 5-fold cross-validated item classification (585 rated CVs)\n")
    models = {"independent (Dawid-Skene)": make_model("independent"), "probit": make_model("probit"),
              "loglinear": make_model("loglinear"), "saturated (log-linear base)": make_model("saturated")}
    for seed in (0, 1):
        table = cross_validated_scores(rated, ANNOTATORS, n_folds=5, seed=seed, models=models)
        print(f"fold seed {seed}:\n")
        print(markdown(table.drop("n_items", "n_folds")) + "\n")

    print("### Original log-debias on company_aggregates.csv\n")
    aggregates = pl.read_csv(DATA / "company_aggregates.csv")
    original = log_debias(aggregates, FILTERS, list(LLM_COUNTS), id_column="linkedin_id")
    print("method biases (log):", {k: round(v, 4) for k, v in method_biases(aggregates, FILTERS, list(LLM_COUNTS)).items()})
    print(f"\ncompanies: {original.height}; methods per company: "
          f"{dict(original['n_methods'].value_counts().sort('n_methods').iter_rows())}; "
          f"sum of estimates: {original['estimate'].sum():,.1f}\n")
    # an LLM accept count is null where the LLM accepted nobody among the employees it judged
    llm_filled = aggregates.with_columns([
        pl.when(pl.col(population).is_not_null()).then(pl.col(count).fill_null(0)).otherwise(pl.col(count)).alias(count)
        for count, (_, population) in LLM_COUNTS.items()])
    corrected = rogan_gladen_consensus(
        llm_filled.rename({"linkedin_id": "company_id", "total_headcount": "headcount"}), rated,
        {**{f: f for f in FILTERS}, **{count: annotator for count, (annotator, _) in LLM_COUNTS.items()}},
        populations={count: population for count, (_, population) in LLM_COUNTS.items()}, n_draws=1000)
    joined = original.rename({"linkedin_id": "company_id"}).join(
        corrected.select("company_id", pl.col("estimate").alias("rg_estimate"), pl.col("lower80").alias("rg_lower80"),
                         pl.col("upper80").alias("rg_upper80")), on="company_id").join(
        aggregates.select(pl.col("linkedin_id").alias("company_id"), pl.col("total_headcount").alias("headcount")),
        on="company_id")
    print("largest ten by the original estimate, with the Rogan-Gladen consensus beside it:\n")
    print(markdown(joined.sort("estimate", descending=True, nulls_last=True).head(10)))

    print("\n### Real 12-lab set (comparator_ml_employee_annotations.csv + comparator_ml_companies.csv)\n")
    samples = pl.read_csv(DATA / "comparator_ml_employee_annotations.csv")
    companies = pl.read_csv(DATA / "comparator_ml_companies.csv")
    started = time.perf_counter()
    estimate = estimate_company_headcounts(rated, samples, companies, ANNOTATORS, n_draws=1000, seed=0)
    seconds = time.perf_counter() - started
    print(f"{samples.height:,} employees, {companies.height} companies, 1,000 draws, "
          f"{estimate.summary['method'][0]}: {seconds:.2f} s "
          f"(distinct patterns {estimate.diagnostics['n_patterns']})\n")
    print(markdown(estimate.summary.drop("method").with_columns(pl.col("ml_share").round(4))))
    ids = estimate.summary["company_id"].to_list()
    sampled = {cid: ("sampled" if n else "no sample (prior predictive)")
               for cid, n in zip(ids, estimate.summary["n_sampled"].to_list())}
    print("\ntotals from summed draws:\n")
    print(markdown(pl.concat([totals(estimate.draws, ids), totals(estimate.draws, ids, sampled)])))
    sampled_rows = estimate.summary.filter(~pl.col("prior_only"))
    print(f"\nsum of per-company q90 over the sampled labs (what summing percentiles would claim): "
          f"{sampled_rows['q90'].sum():,.0f}")

    # the original's defect: profile columns matched to the rated columns by position, LLMs and filters swapped
    swapped = samples.rename({
        "filter_broad_yes": "llm_gemini_2_5_flash__", "filter_strict_no": "llm_gpt_5_mini__",
        "filter_broad_yes_strict_no": "llm_sonnet_4__", "llm_gemini_2_5_flash": "filter_broad_yes",
        "llm_gpt_5_mini": "filter_strict_no", "llm_sonnet_4": "filter_broad_yes_strict_no"}).rename({
        "llm_gemini_2_5_flash__": "llm_gemini_2_5_flash", "llm_gpt_5_mini__": "llm_gpt_5_mini",
        "llm_sonnet_4__": "llm_sonnet_4"})
    misaligned = estimate_company_headcounts(rated, swapped, companies, ANNOTATORS, n_draws=1000, seed=0,
                                             method=estimate.diagnostics["options"]["method"], fit="supervised")
    aligned_total = sampled_rows["mean"].sum()
    misaligned_total = misaligned.summary.filter(~pl.col("prior_only"))["mean"].sum()
    print(f"\nsampled labs, sum of posterior means: aligned by name {aligned_total:,.0f}; "
          f"LLM and filter columns swapped (as in the original) {misaligned_total:,.0f} "
          f"(aligned / swapped = {aligned_total / misaligned_total:.2f})")
    # the joint (semi-supervised) fit forced on 12 companies, to show why the default falls back
    for method in ("saturated", "loglinear"):
        forced = estimate_company_headcounts(rated, samples, companies, ANNOTATORS, n_draws=1000, seed=0,
                                             method=method, fit="semi_supervised")
        means = dict(zip(forced.summary["company_id"], forced.summary["mean"].round(0)))
        print(f"\nforced semi-supervised {method} on 12 companies (not the default): posterior means "
              f"openai {means['openai']:,.0f}, googledeepmind {means['googledeepmind']:,.0f}, xai {means['xai']:,.0f}, "
              f"perplexity-ai {means['perplexity-ai']:,.0f}, huggingface {means['huggingface']:,.0f}")
    if args.figures:
        from workforce_assets.headcount.plots import write_figures

        paths = write_figures(args.figures, summary=estimate.summary, parameters=parameters)
        print("\nfigures:", {k: str(v) for k, v in paths.items()})


if __name__ == "__main__":
    main()
