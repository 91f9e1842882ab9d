"""Shifted-annotator plasmode, the three sound LLMs: which part of the default estimator's undercoverage comes
from its fitted annotator model (theta: P(pattern | class)) and which from its fitted prevalence prior.

For each replication (seed 10,000 + replication, as in ``headcount_calibration.py --shift``) the default
``HeadcountModel`` is fitted on the sound annotators; then company counts are drawn four ways, with the same
exact posterior machinery: its own replicates (fitted theta + fitted prior), each replicate's theta with the
simulation's true prior, the simulation's true theta with each replicate's prior, and both true (the oracle).
Prints, per replication, the fitted prior's zero weight against the truth, then randomised-PIT 80% coverage overall and by true-prevalence band, and the share of top-band companies
whose truth falls under q10. See docs/validation.md, section 7.

    .venv/bin/python benchmarks/headcount_shifted_decomposition.py                # replications 0-9
    .venv/bin/python benchmarks/headcount_shifted_decomposition.py --replications 0 1 2
"""

import argparse
from pathlib import Path

import numpy as np
import polars as pl

from workforce_assets.annotation.names import canonical_annotator_name
from workforce_assets.headcount.calibration import DEFAULT_DESIGN, design_prior_masses, oracle_log_likelihood, randomised_pit
from workforce_assets.headcount.model import HeadcountModel
from workforce_assets.headcount.patterns import build_pattern_data
from workforce_assets.headcount.posterior import draw_whole_company_counts
from workforce_assets.headcount.prevalence import pattern_grid_log_likelihood, relative_likelihood
from workforce_assets.headcount.simulation import plasmode_world

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "annotations" / "validation_annotations.csv"
SHIFT = {"filter_broad_yes": 0.8, "filter_strict_no": 0.8, "filter_broad_yes_strict_no": 0.8}


def replication_pits(source: pl.DataFrame, annotators: list[str], replication: int, n_draws: int = 400) -> pl.DataFrame:
    rng = np.random.default_rng(10_000 + replication)
    world = plasmode_world(rng, source, annotators, n_companies=400, profile_shift=SHIFT, **DEFAULT_DESIGN)
    sound = [a for a in annotators if a not in SHIFT]
    data = build_pattern_data(world.rated, world.samples, world.companies, sound)
    true_theta = oracle_log_likelihood(data, world.simulation_rows, sound)
    truth = world.truth["true_count"].to_numpy()
    model = HeadcountModel(transport_policy="off", predictive_replicates=0).fit_patterns(data, seed=replication)
    grid = model.grid_
    true_prior = design_prior_masses(DEFAULT_DESIGN, grid)
    company_patterns, entry_to_company = data.company_pattern_matrix(), data.entry_to_company()

    def draws(pairs):
        out = []
        for log_lik, masses in pairs:
            posterior = relative_likelihood(np.asarray(company_patterns @ pattern_grid_log_likelihood(log_lik, grid)))
            posterior = posterior * masses[None, :]
            posterior /= posterior.sum(axis=1, keepdims=True)
            with np.errstate(invalid="ignore"):  # patterns no class shows: never drawn
                out.append(draw_whole_company_counts(data, log_lik, posterior, grid, n_draws // len(pairs), rng,
                                                     entry_to_company))
        return np.concatenate(out, axis=1)

    replicates = model.replicates_
    variants = {
        "fitted theta + fitted prior (the default)": [(r.log_lik, r.prior_masses) for r in replicates],
        "fitted theta + true prior": [(r.log_lik, true_prior) for r in replicates],
        "true theta + fitted prior": [(true_theta, r.prior_masses) for r in replicates],
        "true theta + true prior (oracle)": [(true_theta, true_prior)],
    }
    frames = [pl.DataFrame({"variant": name, "replication": replication, "prevalence": world.truth["prevalence"],
                            "pit": randomised_pit(draws(pairs), truth, rng)}) for name, pairs in variants.items()]
    zero = np.array([r.prior_masses[0] for r in replicates])
    print(f"replication {replication}: fitted prior's zero weight over the replicates "
          f"{np.quantile(zero, 0.1):.3f}-{np.quantile(zero, 0.9):.3f} (median {np.median(zero):.3f}); "
          f"true {true_prior[0]:.3f}, realised share of expert-free companies {np.mean(truth == 0):.3f}", flush=True)
    return pl.concat(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replications", type=int, nargs="+", default=list(range(10)))
    args = parser.parse_args()
    source = pl.read_csv(DATA).drop("cv_text")
    source = source.rename({c: canonical_annotator_name(c) for c in source.columns if c not in ("cv_id", "is_ml_expert")})
    annotators = [c for c in source.columns if c not in ("cv_id", "is_ml_expert")]
    results = pl.concat([replication_pits(source, annotators, r) for r in args.replications])
    band = (pl.when(pl.col("prevalence") == 0).then(pl.lit("0 (no expert)"))
            .when(pl.col("prevalence") <= 0.02).then(pl.lit("(0, 2%]"))
            .when(pl.col("prevalence") <= 0.10).then(pl.lit("(2, 10%]"))
            .when(pl.col("prevalence") <= 0.30).then(pl.lit("(10, 30%]")).otherwise(pl.lit("(30, 100%]")))
    results = results.with_columns(band=band, covered=pl.col("pit").is_between(0.1, 0.9).cast(pl.Float64),
                                   under_q10=(pl.col("pit") < 0.1).cast(pl.Float64))
    overall = results.group_by("variant").agg(pl.col("covered").mean().alias("PIT 80% coverage"))
    bands = results.group_by("variant", "band").agg(pl.col("covered").mean()).pivot(on="band", index="variant",
                                                                                       values="covered")
    top = results.filter(pl.col("band") == "(30, 100%]").group_by("variant").agg(
        pl.col("under_q10").mean().alias("(30, 100%]: truth under q10"))
    table = overall.join(bands, on="variant").join(top, on="variant").sort("variant")
    columns = ["variant", "PIT 80% coverage", "0 (no expert)", "(0, 2%]", "(2, 10%]", "(10, 30%]", "(30, 100%]",
               "(30, 100%]: truth under q10"]
    print(f"replications {args.replications}, {results.height // 4} company-replications\n")
    print("| " + " | ".join(columns) + " |")
    print("|" + "---|" * len(columns))
    for row in table.select(columns).iter_rows():
        print("| " + " | ".join(row[0:1] + tuple(f"{v:.3f}" for v in row[1:])) + " |")


if __name__ == "__main__":
    main()
